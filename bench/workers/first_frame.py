"""The console's first frame as an operator sees it: `d2b-console` typed in a terminal (tmux) until the pipeline shows.

The terminal is made first, with a shell waiting on a line; the clock starts when that line (Enter)
is sent, and the shell then execs `d2b-console`. The pane is read (`tmux capture-pane`) until the
pipeline table is drawn: its title and every stage's row. The console then quits with `q`.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench.workers.protocol import emit

STAGES = ("prepare", "staging", "analytics", "export")
WAIT_S = 60  # for each thing the probe waits on: the shell, the first frame, the exit


def pipeline_drawn(screen: str) -> bool:
    """The pipeline table is on screen: its title, and a row for every stage."""
    return "Pipeline" in screen and all(stage in screen for stage in STAGES)


class Pane:
    """A tmux server of its own (unique socket) with one pane of `size` running `command`."""

    def __init__(self, command: str, size: tuple[int, int], cwd: Path) -> None:
        self.tmux = shutil.which("tmux") or sys.exit("tmux is not installed (apt-get install tmux)")
        self.socket = f"bench-frame-{os.getpid()}-{time.monotonic_ns()}"
        env = {**os.environ, "TERM": "xterm-256color"}
        self._run("-f", "/dev/null", "new-session", "-d", "-s", "frame", "-x", str(size[0]), "-y", str(size[1]),
                  "-c", str(cwd), command, env=env)  # fmt: skip

    def _run(self, *args: str, env: dict[str, str] | None = None) -> str:
        done = subprocess.run([self.tmux, "-L", self.socket, *args], capture_output=True, text=True, env=env)
        return done.stdout

    def screen(self) -> str:
        return self._run("capture-pane", "-p", "-t", "frame")

    def keys(self, *keys: str) -> None:
        self._run("send-keys", "-t", "frame", *keys)

    def wait(self, condition: Any, what: str) -> float:
        """perf_counter() when `condition(screen)` first held."""
        deadline = time.perf_counter() + WAIT_S
        while time.perf_counter() < deadline:
            if condition(self.screen()):
                return time.perf_counter()
        raise RuntimeError(f"timed out waiting for {what}; the pane shows:\n{self.screen()}")

    def close(self) -> None:
        self._run("kill-server")


def measure(program: str, cwd: Path, size: tuple[int, int] = (120, 40)) -> dict[str, Any]:
    """Seconds from the Enter that starts `program` in the terminal to the pipeline drawn (and to the connection)."""
    ready = cwd / ".bench-shell-ready"
    ready.unlink(missing_ok=True)
    command = f"touch {shlex.quote(str(ready))}; read -r _; exec {program}"
    pane = Pane(f"bash --norc --noprofile -c {shlex.quote(command)}", size, cwd)
    try:
        deadline = time.perf_counter() + WAIT_S
        while not ready.exists():  # the shell is waiting on its line
            if time.perf_counter() > deadline:
                raise RuntimeError("the shell in tmux did not start")
            time.sleep(0.01)
        time.sleep(0.2)  # the shell reaches `read`
        started = time.perf_counter()
        pane.keys("Enter")
        drawn = pane.wait(pipeline_drawn, "the pipeline table")
        connected = pane.wait(lambda screen: "connected:" in screen or "not connected" in screen, "the services")
        pane.keys("q")
        pane.wait(lambda screen: not screen.strip(), "the console to quit (its pane closes)")
    finally:
        pane.close()
        ready.unlink(missing_ok=True)
    return {"first_frame_s": drawn - started, "connected_s": connected - started, "load": os.getloadavg()[0]}


def first_frame(spec: dict[str, Any]) -> None:
    """The worker: `spec` names the state folder (cwd) and optionally the program and the terminal size."""
    program = spec.get("program") or str(Path(sys.executable).with_name("d2b-console"))
    size = tuple(spec.get("size", (120, 40)))
    emit(measure(program, Path(spec["cwd"]), (int(size[0]), int(size[1]))))
