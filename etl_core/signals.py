"""SIGINT, SIGTERM and SIGHUP as a cancel: the first cancels the running work, a second stops at once.

The headless CLI uses it: `CancelSignals` installs the handlers in the main thread for the
duration of a `with` block. Python runs signal handlers only in the main thread, between
bytecodes, so the main thread must stay responsive: the CLI runs the work on another thread and
waits interruptibly. The console's asyncio loop handles SIGTERM and SIGHUP itself (tui/app.py),
cancelling the same token and exiting with the same `EXIT_CODES`.
"""

from __future__ import annotations

import signal
from collections.abc import Callable
from types import FrameType
from typing import Any, Self

from etl_core.errors import EXIT_HANGUP, EXIT_INTERRUPTED, EXIT_TERMINATED
from etl_core.events import CancelToken

CANCEL_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
EXIT_CODES = {signal.SIGINT: EXIT_INTERRUPTED, signal.SIGTERM: EXIT_TERMINATED, signal.SIGHUP: EXIT_HANGUP}
DESCRIPTIONS = {
    signal.SIGINT: "interrupt (Ctrl-C)",
    signal.SIGTERM: "SIGTERM (asked to stop)",
    signal.SIGHUP: "SIGHUP (the terminal closed)",
}


class StopNow(BaseException):
    """Raised in the main thread by a second signal (or when the first one's cancel takes too long): stop at once."""

    def __init__(self, signum: signal.Signals, *, late: bool = False):
        super().__init__(DESCRIPTIONS[signum])
        self.signum = signum
        self.late = late  # not a second signal: the first one's cancel did not end the work in time


class CancelSignals:
    """While active: the first of SIGINT, SIGTERM, SIGHUP calls `on_first(signal)` and cancels `cancel`;
    a second one raises StopNow in the main thread."""

    def __init__(self, cancel: CancelToken, on_first: Callable[[signal.Signals], None] = lambda _s: None):
        self.cancel = cancel
        self.on_first = on_first
        self.received: signal.Signals | None = None
        self._previous: dict[signal.Signals, Any] = {}

    @property
    def exit_code(self) -> int:
        """The exit code that reports the first signal (130 when none came: an operator's cancel)."""
        return EXIT_CODES[self.received] if self.received is not None else EXIT_INTERRUPTED

    def __enter__(self) -> Self:
        for signum in CANCEL_SIGNALS:
            self._previous[signum] = signal.signal(signum, self._handle)
        return self

    def __exit__(self, *_exc: object) -> None:
        for signum, previous in self._previous.items():
            signal.signal(signum, previous)
        self._previous.clear()

    def _handle(self, signum: int, _frame: FrameType | None) -> None:
        received = signal.Signals(signum)
        if self.received is not None:
            raise StopNow(received)
        self.received = received
        self.on_first(received)
        self.cancel.cancel()
