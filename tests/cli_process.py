"""A real `d2b-console` subprocess whose stderr is followed line by line, for signal and fault tests.

`wait_for(text)` blocks until a stderr line contains `text` (bounded), so a test sends its signal
in a known state without sleeping; `finish()` returns the exit code, the outputs and the seconds
from the last signal (or the start) to the exit.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path


@dataclass
class Finished:
    code: int
    stdout: str
    stderr: str
    seconds_after_signal: float
    cpu_after_signal: float  # CPU seconds the process used in that time (sampled every 50 ms: a lower bound)

    def timing(self) -> str:
        """For the tests' printed scenario lines: the wall time and what the process itself needed of it."""
        return f"{self.seconds_after_signal:.1f}s ({self.cpu_after_signal:.2f}s CPU; load {os.getloadavg()[0]:.1f})"


class CliProcess:
    def __init__(self, config: Path, *args: str, cwd: Path | None = None, env: dict[str, str] | None = None):
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tui.launcher", "--config", str(config), *args],
            cwd=cwd,
            env={**os.environ, **(env or {})},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.lines: list[str] = []
        self._changed = threading.Condition()
        self._stdout: list[str] = []
        self.signalled_at = time.monotonic()
        self._cpu = 0.0  # the process's last sampled CPU seconds
        self._cpu_at_signal = 0.0
        self._readers = [
            threading.Thread(target=self._follow_stderr, daemon=True),
            threading.Thread(target=self._read_stdout, daemon=True),
            threading.Thread(target=self._sample_cpu, daemon=True),
        ]
        for reader in self._readers:
            reader.start()

    def _read_stdout(self) -> None:
        assert self.process.stdout is not None  # piped
        self._stdout.append(self.process.stdout.read())

    def _sample_cpu(self) -> None:
        ticks = os.sysconf("SC_CLK_TCK")
        while self.process.poll() is None:
            try:
                fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
            except (OSError, IndexError):
                return
            self._cpu = (int(fields[11]) + int(fields[12])) / ticks  # utime + stime
            time.sleep(0.05)

    def mark(self) -> None:
        """Measure from now (a fault that just fired), not from the interpreter's start."""
        self.signalled_at = time.monotonic()
        self._cpu_at_signal = self._cpu

    def _follow_stderr(self) -> None:
        assert self.process.stderr is not None  # piped
        for line in self.process.stderr:
            with self._changed:
                self.lines.append(line)
                self._changed.notify_all()
        with self._changed:
            self.lines.append("")  # end of stream
            self._changed.notify_all()

    def wait_for(self, text: str, timeout: float = 120) -> str:
        """The first stderr line containing `text`; fails the test if it does not come in time."""
        with self._changed:
            found = self._changed.wait_for(
                lambda: next((ln for ln in self.lines if text in ln), None) or (self.lines and self.lines[-1] == ""),
                timeout,
            )
        match = next((ln for ln in self.lines if text in ln), None)
        assert match, f"no stderr line with {text!r} (found={found!r}):\n{''.join(self.lines)}"
        return match

    def send(self, signum: signal.Signals) -> None:
        self.mark()
        self.process.send_signal(signum)

    def finish(self, timeout: float = 120) -> Finished:
        code = self.process.wait(timeout)
        seconds = time.monotonic() - self.signalled_at
        for reader in self._readers:  # they end when the pipes the process held are drained
            reader.join(10)
        cpu = self._cpu - self._cpu_at_signal
        return Finished(code, "".join(self._stdout), "".join(self.lines), seconds, cpu)

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)
