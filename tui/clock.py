"""Time as the console shows it; tests swap in a frozen clock (tests/tui/frozen_clock.py)."""

from __future__ import annotations

import time
from datetime import UTC, datetime


class Clock:
    """Wall time, monotonic time and how timestamps and durations are written on screen."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    def monotonic(self) -> float:
        return time.monotonic()

    def time(self, at: datetime | None) -> str:
        """A time of day in the local zone (pipeline starts, log lines)."""
        return at.astimezone().strftime("%H:%M:%S") if at else ""

    def start(self, at: datetime | None) -> str:
        """When a stage started: the time of day if today, else the date too (an older run)."""
        if at is None:
            return ""
        local = at.astimezone()
        return (
            local.strftime("%H:%M:%S")
            if local.date() == self.now().astimezone().date()
            else local.strftime("%m-%d %H:%M")
        )

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
