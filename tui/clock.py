"""Time as the console shows it: the real clock, or a frozen one that masks volatile text for snapshots."""

from __future__ import annotations

import re
import time
from datetime import datetime, timezone


class Clock:
    """Wall time, monotonic time and how timestamps and durations are written on screen."""

    def now(self) -> datetime:
        return datetime.now(timezone.utc)

    def monotonic(self) -> float:
        return time.monotonic()

    def time(self, at: datetime | None) -> str:
        """A time of day in the local zone (pipeline starts, log lines)."""
        return at.astimezone().strftime("%H:%M:%S") if at else ""

    def stamp(self, at: datetime | None) -> str:
        """A date and time in the local zone (S3 last-modified, run history)."""
        return at.astimezone().strftime("%Y-%m-%d %H:%M") if at else ""

    def duration(self, seconds: float | None) -> str:
        if seconds is None:
            return ""
        if seconds < 60:
            return f"{seconds:.2f}s"
        minutes, secs = divmod(int(seconds), 60)
        hours, minutes = divmod(minutes, 60)
        return f"{hours}h{minutes:02d}m{secs:02d}s" if hours else f"{minutes}m{secs:02d}s"

    def scrub(self, text: str) -> str:
        """Text from the core as shown (the real clock shows it unchanged)."""
        return text


_VOLATILE = [
    (re.compile(r"\b\d+(?:\.\d+)?s\b"), "#.##s"),                 # durations inside core messages
    (re.compile(r"(127\.0\.0\.1|localhost):\d+"), r"\1:PORT"),      # ports of the test servers
    (re.compile(r"(host=|/)(tmp|var)/[^\s;,)]*"), r"\1TMP"),        # temporary folders
    (re.compile(r"\bpid \d+"), "pid N"),
]


class FrozenClock(Clock):
    """A clock that never moves and masks every timestamp, duration and temporary path (snapshot tests)."""

    def __init__(self, at: datetime | None = None):
        self._at = at or datetime(2022, 9, 6, 8, 0, 0, tzinfo=timezone.utc)

    def now(self) -> datetime:
        return self._at

    def monotonic(self) -> float:
        return 0.0

    def time(self, at: datetime | None) -> str:
        return "hh:mm:ss" if at else ""

    def stamp(self, at: datetime | None) -> str:
        return "yyyy-mm-dd hh:mm" if at else ""

    def duration(self, seconds: float | None) -> str:
        return "" if seconds is None else "#.##s"

    def scrub(self, text: str) -> str:
        for pattern, replacement in _VOLATILE:
            text = pattern.sub(replacement, text)
        return text
