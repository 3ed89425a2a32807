"""What the pipeline table shows for each stage, updated from core events (no widgets here)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Literal

from rich.text import Text

from etl_core.kinds import StageName, StageStatus
from tui.status_style import CYAN, GREEN, GREY, MAGENTA, RED, STALE_STYLE, YELLOW

if TYPE_CHECKING:
    from etl_core.events import StageProgress, StageResult
    from etl_core.history import StageRecord

# A stage's status on screen: its history status, or the console's own states around a run.
ViewStatus = StageStatus | Literal["pending", "queued", "abandoned", "confirming"]
# The colours live in tui.status_style (one place for every view: tests/tui/test_tui_contrast.py).
GLYPHS: dict[ViewStatus, tuple[str, str]] = {
    "pending": ("·", GREY),
    "queued": ("○", CYAN),
    "running": ("▶", f"bold {YELLOW}"),
    "succeeded": ("✔", f"bold {GREEN}"),
    "failed": ("✘", f"bold {RED}"),
    "cancelled": ("■", f"bold {MAGENTA}"),
    "skipped": ("↷", GREY),
    "abandoned": ("?", RED),
    "confirming": ("?", f"bold {YELLOW}"),
}
# How a status reads on screen: a run whose process died ("abandoned" in the history) was interrupted.
LABELS: dict[ViewStatus, str] = {"abandoned": "interrupted", "confirming": "confirm?"}


STALE = ("◐", STALE_STYLE)  # a succeeded stage whose input changed since it ran
# A stage running or stopped now says that instead of "stale".
SHOWN_STALE: tuple[ViewStatus, ...] = ("succeeded", "pending", "skipped")


def status_cell(status: ViewStatus, stale: str = "") -> Text:
    """The glyph and the word of a status, in its colour; "stale" for an output computed from older inputs."""
    if stale and status in SHOWN_STALE:
        glyph, style = STALE
        return Text(f"{glyph} stale", style=style)
    glyph, style = GLYPHS.get(status, ("?", ""))
    return Text(f"{glyph} {LABELS.get(status, status)}", style=style)


@dataclass
class StageView:
    stage: StageName
    status: ViewStatus = "pending"
    started_at: datetime | None = None
    started_mono: float | None = None
    duration_s: float | None = None
    rows: int | None = None
    done: int = 0
    total: int | None = None
    unit: str = ""
    note: str = ""
    error: str | None = None
    run_id: int | None = None
    stale: str = ""  # why its newest output was computed from older inputs (etl_core.lineage); "" when fresh

    def queue(self) -> None:
        self.stale = ""
        self.status, self.started_at, self.started_mono, self.duration_s = "queued", None, None, None
        self.rows, self.done, self.total, self.unit, self.note, self.error = None, 0, None, "", "", None

    def start(self, run_id: int, at: datetime, mono: float) -> None:
        self.queue()
        self.status, self.run_id, self.started_at, self.started_mono = "running", run_id, at, mono

    def progress(self, event: StageProgress) -> None:
        self.done, self.total, self.unit, self.note = event.done, event.total, event.unit, event.message

    def finish(self, run_id: int, result: StageResult) -> None:
        self.run_id = run_id
        self.status = result.status
        self.started_at = result.started_at
        self.started_mono = None
        self.duration_s = result.duration_s if result.status != "skipped" else None
        self.rows = result.rows if result.status != "skipped" else None
        self.error = result.error
        if result.status == "succeeded":
            self.total = self.total or 1
            self.done = self.total

    def restore(self, record: StageRecord) -> None:
        """As the history recorded it (a stage still 'running' there belongs to a process that is gone)."""
        self.status = record.status if record.status != "running" else "abandoned"
        self.started_at, self.duration_s, self.rows, self.error = (
            record.started_at,
            record.duration_s,
            record.rows,
            record.error,
        )
        self.run_id = record.run_id
        if record.status == "succeeded":
            self.done = self.total = 1

    def elapsed(self, mono_now: float) -> float | None:
        if self.status == "running" and self.started_mono is not None:
            return max(0.0, mono_now - self.started_mono)
        return self.duration_s

    @property
    def fraction(self) -> float | None:
        if self.status == "succeeded":
            return 1.0
        if self.total:
            return min(1.0, self.done / self.total)
        return None
