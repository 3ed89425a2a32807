"""What the Days view shows for each ingestion date: its recorded state, what S3 holds, and a backfill's progress.

No Textual here: the day table (tui/widgets/days/day_table.py) draws these rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from rich.text import Text

from etl_core.history_days import DayRuns, InputRecord
from etl_core.kinds import DayRunStatus, StageName
from etl_core.stages.staging.inputs import DayInputs
from tui.format import count
from tui.stage_view import status_cell
from tui.status_style import BAD, NOTE, STALE_STYLE

MISSING_INPUTS = "missing inputs"


def same_objects(inputs: list[InputRecord], before: list[InputRecord]) -> bool:
    """The date loaded exactly the objects the date before it loaded (no new files came)."""
    earlier = {found.table: found for found in before}
    return (
        bool(inputs)
        and len(inputs) == len(earlier)
        and all(found.table in earlier and earlier[found.table].same_object(found) for found in inputs)
    )


@dataclass
class DayRow:
    """One ingestion date of the view."""

    runs: DayRuns
    inputs: list[InputRecord]  # the source objects of its newest run
    stale: bool = False  # it loaded the same objects as the newest earlier date
    found: DayInputs | None = None  # what S3 holds for it now (looked up for dates without a success)
    live: DayRunStatus | None = None  # its state in the backfill running (or last run) from the view
    live_run: int | None = None
    live_stage: StageName | None = None
    live_reason: str = ""

    @property
    def day(self) -> date:
        return self.runs.day

    @property
    def missing_inputs(self) -> bool:
        """No successful run, and S3 lacks one of its three files."""
        return self.runs.last_success is None and self.found is not None and self.found.missing is not None

    def status(self) -> Text:
        if self.live is not None:
            return self._live_status()
        recorded = self.runs.status
        if recorded == "succeeded" and self.stale:
            return Text("stale (same files as an earlier date)", style=STALE_STYLE)
        if self.missing_inputs:
            if recorded == "missing":
                return Text(MISSING_INPUTS, style=BAD)
            return status_cell(recorded).append(f" · {MISSING_INPUTS}", style=BAD)
        return Text("missing", style=NOTE) if recorded == "missing" else status_cell(recorded)

    def _live_status(self) -> Text:
        if self.live == "skipped":
            return Text(f"↷ skipped ({MISSING_INPUTS})", style=BAD)
        if self.live == "not run":
            return Text("· not run", style=NOTE)
        shown = status_cell(self.live or "queued")
        if self.live == "running" and self.live_stage:
            shown.append(f" ({self.live_stage})")
        return shown

    def run_text(self) -> Text:
        run = self.live_run if self.live_run is not None else self.runs.runs[0].run_id if self.runs.runs else None
        return Text(f"#{run}" if run is not None else "")

    def rows_text(self) -> Text:
        rows = sum(found.rows or 0 for found in self.inputs) if self.inputs else None
        return Text(count(rows), justify="right")

    def inputs_text(self) -> Text:
        names = [found.key + (f" @{found.version_id[:8]}" if found.version_id else "") for found in self.inputs]
        return Text(", ".join(names))

    def detail(self) -> Text:
        """The highlighted date in full: why it was skipped or failed, what it loaded, what S3 holds."""
        text = Text(f"{self.day}: ", style="bold")
        missing = self.found.missing if self.found is not None else None
        if self.live_reason and not (missing and missing in self.live_reason):
            text.append(self.live_reason + "\n")
        if self.found is not None and self.found.missing is not None:
            text.append(f"{MISSING_INPUTS}: {self.found.missing}\n")
        elif self.found is not None:
            text.append("inputs in S3: " + ", ".join(found.key for found in self.found.inputs) + "\n")
        for found in self.inputs:
            version = f" version {found.version_id}" if found.version_id else ""
            text.append(f"{found.table}: {found.key}{version} ETag {found.etag} ({count(found.rows, 'rows')})\n")
        if not self.inputs and self.found is None and not self.live_reason:
            text.append("no run computed this date" if not self.runs.runs else "its newest run recorded no inputs")
        return text
