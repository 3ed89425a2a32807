"""A clock for snapshot tests: it never moves and masks every timestamp, duration, port and temporary path."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from tui.clock import Clock

_VOLATILE = [
    (re.compile(r"\b\d+(?:\.\d+)?s\b"), "#.##s"),  # durations inside core messages
    (re.compile(r"(127\.0\.0\.1|localhost):\d+"), r"\1:PORT"),  # ports of the test servers
    (re.compile(r"(host=|/)(tmp|var)/[^\s;,)]*"), r"\1TMP"),  # temporary folders
    (re.compile(r"\bpid \d+"), "pid N"),
]


class FrozenClock(Clock):
    """A clock that never moves and masks every timestamp, duration and temporary path (snapshot tests)."""

    def __init__(self, at: datetime | None = None):
        self._at = at or datetime(2022, 9, 6, 8, 0, 0, tzinfo=UTC)

    def now(self) -> datetime:
        return self._at

    def monotonic(self) -> float:
        return 0.0

    def time(self, at: datetime | None) -> str:
        return "hh:mm:ss" if at else ""

    def start(self, at: datetime | None) -> str:
        return "hh:mm:ss" if at else ""

    def stamp(self, at: datetime | None) -> str:
        return "yyyy-mm-dd hh:mm" if at else ""

    def duration(self, seconds: float | None) -> str:
        return "" if seconds is None else "#.##s"

    def scrub(self, text: str) -> str:
        for pattern, replacement in _VOLATILE:
            text = pattern.sub(replacement, text)
        return text
