"""`d2b-console` in a real terminal: a tmux server of our own, its screen, its keys, its exit code."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

TIMEOUT_S = 120
CONSOLE = Path(sys.executable).with_name("d2b-console")


class Terminal:
    """One tmux server of our own (unique socket) running `d2b-console`; the shell stays so its last words stay."""

    def __init__(
        self,
        workdir: Path,
        size: tuple[int, int] = (80, 24),
        env: dict[str, str] | None = None,
        program: str = str(CONSOLE),
    ):
        self.tmux = shutil.which("tmux") or pytest.fail("tmux is not installed: apt-get install tmux")
        self.socket = f"tui-test-{os.getpid()}-{time.monotonic_ns()}"
        self.exit_file = workdir / "exit-code"
        command = f"cd {workdir} && {program}; echo $? > {self.exit_file}; sleep {TIMEOUT_S * 3}"
        self._tmux(
            "-f",
            "/dev/null",
            "new-session",
            "-d",
            "-s",
            "console",
            "-x",
            str(size[0]),
            "-y",
            str(size[1]),
            command,
            env={**os.environ, "TERM": "xterm-256color", **(env or {})},
        )

    def _tmux(self, *args: str, env: dict[str, str] | None = None) -> str:
        return subprocess.run(
            [self.tmux, "-L", self.socket, *args], capture_output=True, text=True, check=False, env=env
        ).stdout

    def screen(self, joined: bool = False) -> str:
        """The pane's text; `joined` rejoins wrapped lines as they were written (-J keeps their spaces)."""
        return self._tmux("capture-pane", "-p", *(["-J"] if joined else []), "-t", "console")

    def keys(self, *keys: str) -> None:
        self._tmux("send-keys", "-t", "console", *keys)

    def wait_for(self, condition, what: str) -> str:
        deadline = time.monotonic() + TIMEOUT_S
        screen = ""
        while time.monotonic() < deadline:
            screen = self.screen()
            if condition(screen):
                return screen
            time.sleep(0.25)  # polling another process's terminal, bounded by TIMEOUT_S
        raise AssertionError(f"timed out waiting for {what}; the terminal shows:\n{screen}")

    def exit_code(self) -> int:
        deadline = time.monotonic() + TIMEOUT_S
        while not self.exit_file.exists() or not self.exit_file.read_text().strip():
            assert time.monotonic() < deadline, "the console did not exit:\n" + self.screen()
            time.sleep(0.1)
        return int(self.exit_file.read_text())

    def console_pid(self) -> int:
        shell = int(self._tmux("list-panes", "-t", "console", "-F", "#{pane_pid}").strip())
        children = Path(f"/proc/{shell}/task/{shell}/children").read_text().split()
        assert children, "d2b-console is not running in the pane"
        return int(children[0])

    def signal(self, signum: int) -> None:
        """Send `signum` to the console (not to the shell that waits for it)."""
        os.kill(self.console_pid(), signum)

    def close(self) -> None:
        self._tmux("kill-server")


def console_folder(tmp_path: Path, config_text: str) -> Path:
    """A folder holding `config_text` as config.toml, where the console is started."""
    workdir = tmp_path / "cwd"
    workdir.mkdir()
    (workdir / "config.toml").write_text(config_text)
    return workdir
