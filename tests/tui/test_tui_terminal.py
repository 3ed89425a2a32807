"""The real program in a real terminal: `d2b-console` under tmux, run all, see success, quit cleanly."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from etl_core.pipeline import STAGES

TIMEOUT_S = 90


def _capture(tmux: str, socket: str) -> str:
    result = subprocess.run([tmux, "-L", socket, "capture-pane", "-p", "-t", "console"],
                            capture_output=True, text=True, check=False)
    return result.stdout


def _wait_for(tmux: str, socket: str, condition, what: str) -> str:
    deadline = time.monotonic() + TIMEOUT_S
    screen = ""
    while time.monotonic() < deadline:
        screen = _capture(tmux, socket)
        if condition(screen):
            return screen
        time.sleep(0.25)  # polling a separate process's terminal, bounded by TIMEOUT_S
    raise AssertionError(f"timed out waiting for {what}; the terminal shows:\n{screen}")


def test_d2b_console_runs_in_tmux(env, tmp_path):
    tmux = shutil.which("tmux")
    if tmux is None:
        pytest.fail("tmux is not installed: apt-get install tmux (this test drives the real program in a terminal)")
    console = Path(sys.executable).with_name("d2b-console")
    assert console.exists(), f"{console} is missing: pip install -e . first"
    workdir = tmp_path / "cwd"
    workdir.mkdir()
    (workdir / "config.toml").write_text(env.config_path.read_text())
    exit_file = workdir / "exit-code"
    socket = f"d2b-console-test-{os.getpid()}"
    command = f"cd {workdir} && {console}; echo $? > {exit_file}"
    subprocess.run([tmux, "-L", socket, "-f", "/dev/null", "new-session", "-d", "-s", "console", "-x", "150",
                    "-y", "45", command], check=True, env={**os.environ, "TERM": "xterm-256color"})
    try:
        _wait_for(tmux, socket, lambda s: "connected:" in s and "Pipeline" in s, "the console to connect")
        subprocess.run([tmux, "-L", socket, "send-keys", "-t", "console", "r"], check=True)
        rows = [re.compile(rf"✔\s+{stage}\s+succeeded") for stage in STAGES]
        screen = _wait_for(tmux, socket, lambda s: all(r.search(s) for r in rows) and "run #1 succeeded" in s,
                           "every stage to succeed")
        assert "failed" not in screen
        subprocess.run([tmux, "-L", socket, "send-keys", "-t", "console", "q"], check=True)
        deadline = time.monotonic() + TIMEOUT_S
        while not exit_file.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert exit_file.exists(), "the console did not quit on q:\n" + _capture(tmux, socket)
        assert exit_file.read_text().strip() == "0"
    finally:
        subprocess.run([tmux, "-L", socket, "kill-server"], capture_output=True, check=False)
