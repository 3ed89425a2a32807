"""The Days view's table: one row per ingestion date of a range, with its status, run, rows and inputs.

It loads its dates itself (thread workers): the history first, then, for each date without a
successful run, what S3 holds for it, so that a date whose files are not all there reads "missing
inputs". The lookup is bounded (at most `MAX_LOOKUP_DAYS` dates, S3's own timeouts) and posts each
date as it is found. A backfill's progress is set per date by its screen (`set_live`). Rows can be
marked (space) to run several dates at once.
"""

from __future__ import annotations

from datetime import date, timedelta

from rich.text import Text
from textual import work
from textual.message import Message
from textual.widgets import DataTable
from textual.worker import get_current_worker

from etl_core import browse
from etl_core.backfill import BackfillRefused, look_up_inputs
from etl_core.events import DayProgress
from etl_core.kinds import StageName
from etl_core.services import Services
from etl_core.stages.staging.inputs import DayInputs
from tui.day_rows import DayRow, same_objects
from tui.messages import DaysLoaded
from tui.workers import describe, post_unless_cancelled

COLUMNS = (("date", "Date"), ("status", "Status"), ("run", "Run"), ("rows", "Rows"), ("inputs", "Inputs"))
MAX_SHOWN = 366  # dates in the view at once


class DayTable(DataTable[Text]):
    """Empty until `show_range`; the rows are newest first."""

    class InputsFound(Message, bubble=False):
        def __init__(self, found: DayInputs) -> None:
            super().__init__()
            self.found = found

    class InputsUnknown(Message):
        """S3 cannot tell a past date's files from today's (or could not be read): said on the screen."""

        def __init__(self, reason: str) -> None:
            super().__init__()
            self.reason = reason

    class Loaded(Message):
        """The rows are shown (the screen may highlight a date, start a run)."""

    class RowChanged(Message):
        """A row's content changed (what S3 holds, a backfill's state): the screen's detail of it may be out of date."""

    def __init__(self, services: Services, *, id: str | None = None) -> None:
        super().__init__(cursor_type="row", id=id)
        self.services = services
        self.rows_by_day: dict[date, DayRow] = {}
        self.marked: set[date] = set()
        self.first: date | None = None
        self.last: date | None = None
        self._live: dict[date, DayProgress] = {}  # a backfill's states, kept across reloads
        self._stages: dict[date, StageName] = {}

    def on_mount(self) -> None:
        for key, label in COLUMNS:
            self.add_column(label, key=key)

    # the dates ---------------------------------------------------------------------------------
    def show_range(self, first: date, last: date) -> None:
        """Load and show [first, last] (at most MAX_SHOWN dates, the newest)."""
        first = max(first, last - timedelta(days=MAX_SHOWN - 1))
        self.first, self.last = first, last
        self.border_title = Text("Ingestion dates (loading …)")
        self._load(self.services, (last - first).days + 1, last)

    def reload(self) -> None:
        if self.first is not None and self.last is not None:
            self.show_range(self.first, self.last)

    @work(thread=True, exit_on_error=False, name="days", group="days", exclusive=True)
    def _load(self, services: Services, count: int, last: date) -> None:
        post_unless_cancelled(self, DaysLoaded(browse.recent_days(services, count, last)))  # a newer range wins

    def on_days_loaded(self, message: DaysLoaded) -> None:
        rows = []
        for index, (day, inputs) in enumerate(message.days):
            before = next((earlier for _day, earlier in message.days[index + 1 :] if earlier), [])
            rows.append(DayRow(day, inputs, day.status == "succeeded" and same_objects(inputs, before)))
        self.rows_by_day = {row.day: row for row in rows}
        for row in rows:
            if (live := self._live.get(row.day)) is not None:
                self._apply(row, live)
        cursor = self.cursor_row
        self.clear()
        for row in rows:
            self.add_row(*self._cells(row), key=row.day.isoformat())
        self.border_title = Text(f"Ingestion dates ({len(rows)})")
        if rows:
            self.move_cursor(row=min(cursor, len(rows) - 1))
        self.post_message(self.Loaded())
        unsettled = [row.day for row in rows if row.runs.last_success is None]
        if unsettled:
            self._look_up(self.services, unsettled)

    @work(thread=True, exit_on_error=False, name="inputs of the days", group="days-inputs", exclusive=True)
    def _look_up(self, services: Services, days: list[date]) -> None:
        worker = get_current_worker()
        try:
            for found in look_up_inputs(services, days, lambda: worker.is_cancelled):
                self.post_message(self.InputsFound(found))
        except BackfillRefused as exc:
            self.post_message(self.InputsUnknown(f"the inputs of past dates cannot be told: {exc}"))
        except Exception as exc:  # noqa: BLE001 - S3 unreachable: the view still shows the history
            self.post_message(self.InputsUnknown(f"could not look up the inputs in S3: {describe(exc)}"))

    def on_day_table_inputs_found(self, message: DayTable.InputsFound) -> None:
        row = self.rows_by_day.get(message.found.day)
        if row is not None:
            row.found = message.found
            self._refresh(row)

    # a backfill's progress ---------------------------------------------------------------------
    def clear_live(self) -> None:
        self._live.clear()
        self._stages.clear()
        for row in self.rows_by_day.values():
            row.live, row.live_run, row.live_stage, row.live_reason = None, None, None, ""
            self._refresh(row)

    def set_live(self, progress: DayProgress) -> None:
        self._live[progress.day] = progress
        if (row := self.rows_by_day.get(progress.day)) is not None:
            self._apply(row, progress)
            self._refresh(row)

    def set_stage(self, day: date, stage: StageName | None, run_id: int | None = None) -> None:
        """The stage the date's run is in (shown beside "running"), and its run once it exists."""
        if (row := self.rows_by_day.get(day)) is not None:
            row.live_stage = stage
            if run_id is not None:
                row.live_run = run_id
            self._refresh(row)

    def progressed(self) -> bool:
        """A date of the backfill got past "queued" (it started running)."""
        return any(progress.status != "queued" for progress in self._live.values())

    def stop_live(self, reason: str) -> None:
        """The backfill stopped on an error: its running date failed with it, the queued ones were not run."""
        for day, progress in list(self._live.items()):
            if progress.status == "running":
                self.set_live(DayProgress(day, "failed", progress.run_id, reason))
            elif progress.status == "queued":
                self.set_live(DayProgress(day, "not run", progress.run_id))

    def live_status(self, day: date) -> str | None:
        progress = self._live.get(day)
        return progress.status if progress is not None else None

    @staticmethod
    def _apply(row: DayRow, progress: DayProgress) -> None:
        row.live, row.live_reason = progress.status, progress.reason
        row.live_run = progress.run_id if progress.run_id is not None else row.live_run
        if progress.status != "running":
            row.live_stage = None

    # marks and the highlighted date --------------------------------------------------------------
    @property
    def highlighted(self) -> DayRow | None:
        if self.row_count == 0:
            return None
        key = self.coordinate_to_cell_key(self.cursor_coordinate).row_key.value
        return self.rows_by_day.get(date.fromisoformat(str(key)))

    def toggle_mark(self) -> None:
        row = self.highlighted
        if row is None:
            return
        self.marked ^= {row.day}
        self._refresh(row)
        if self.cursor_row < self.row_count - 1:
            self.move_cursor(row=self.cursor_row + 1)

    def mark(self, days: list[date]) -> None:
        self.marked = set(days)
        for row in self.rows_by_day.values():
            self._refresh(row)

    def go_to(self, day: date) -> None:
        if day in self.rows_by_day:
            self.move_cursor(row=self.get_row_index(day.isoformat()))

    # drawing --------------------------------------------------------------------------------------
    def _cells(self, row: DayRow) -> list[Text]:
        day = Text(row.day.isoformat(), style="bold reverse" if row.day in self.marked else "")
        return [day, row.status(), row.run_text(), row.rows_text(), row.inputs_text()]

    def _refresh(self, row: DayRow) -> None:
        key = row.day.isoformat()
        if key not in self.rows:
            return
        for (column, _label), cell in zip(COLUMNS, self._cells(row), strict=True):
            self.update_cell(key, column, cell, update_width=True)  # "missing inputs", "running (staging)"
        self.post_message(self.RowChanged())
