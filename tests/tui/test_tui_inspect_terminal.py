"""The real program in an 80x24 tmux terminal: `:` opens the SQL pane, a query runs with ctrl+j, its rows show."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

TIMEOUT_S = 90


def _screen(tmux: str, socket: str) -> str:
    return subprocess.run([tmux, "-L", socket, "capture-pane", "-p", "-t", "inspect"], capture_output=True,
                          text=True, check=False).stdout


def _until(tmux: str, socket: str, condition, what: str) -> str:
    deadline, screen = time.monotonic() + TIMEOUT_S, ""
    while time.monotonic() < deadline:
        screen = _screen(tmux, socket)
        if condition(screen):
            return screen
        time.sleep(0.25)  # polling another process's terminal, bounded by TIMEOUT_S
    raise AssertionError(f"timed out waiting for {what}; the terminal shows:\n{screen}")


def test_a_query_runs_through_the_sql_pane_in_a_real_terminal(env, tmp_path):
    tmux = shutil.which("tmux")
    if tmux is None:
        pytest.fail("tmux is not installed: apt-get install tmux (this test drives the real program in a terminal)")
    console = Path(sys.executable).with_name("d2b-console")
    workdir = tmp_path / "cwd"
    workdir.mkdir()
    (workdir / "config.toml").write_text(env.config_path.read_text())
    exit_file = workdir / "exit-code"
    socket = f"d2b-inspect-b-test-{os.getpid()}"
    command = f"cd {workdir} && {console}; echo $? > {exit_file}"
    subprocess.run([tmux, "-L", socket, "-f", "/dev/null", "new-session", "-d", "-s", "inspect", "-x", "80",
                    "-y", "24", command], check=True, env={**os.environ, "TERM": "xterm-256color"})

    def keys(*sent: str) -> None:
        subprocess.run([tmux, "-L", socket, "send-keys", "-t", "inspect", *sent], check=True)

    try:
        _until(tmux, socket, lambda s: "connected:" in s, "the console to connect")
        keys(":")
        _until(tmux, socket, lambda s: "read-only" in s and "ctrl+j runs" in s, "the SQL pane")
        keys("-l", "SELECT 6 * 7 AS answer, '[b]x[/b]' AS literal")
        keys("C-j")
        screen = _until(tmux, socket, lambda s: "rows 1–1 of 1" in s, "the result")
        assert "answer" in screen and "42" in screen and "[b]x[/b]" in screen, screen
        assert "1 row ·" in screen, screen
        keys("Escape")
        _until(tmux, socket, lambda s: "Pipeline" in s, "the main screen")
        keys("q")
        deadline = time.monotonic() + TIMEOUT_S
        while not exit_file.exists() and time.monotonic() < deadline:
            time.sleep(0.1)  # the program is quitting: its shell writes the exit code
        assert exit_file.read_text().strip() == "0"
    finally:
        subprocess.run([tmux, "-L", socket, "kill-server"], check=False, capture_output=True)
