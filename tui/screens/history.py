"""Past runs (start, status, duration), for the highlighted run its stages and source objects, and the trends.

The screen loads them itself, in thread workers (HistoryLoaded, RunStagesLoaded, TrendsLoaded come back to it).
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Footer, Static

from etl_core import browse
from etl_core.history import RunRecord, StageRecord
from etl_core.history_days import InputRecord
from etl_core.kinds import StageName
from etl_core.lineage import StaleStage
from etl_core.pipeline import STAGES, run_log_path
from etl_core.services import Services
from tui.clock import Clock
from tui.controller import RunController
from tui.format import count
from tui.messages import HistoryLoaded, RunStagesLoaded, TrendsLoaded
from tui.pager import open_in_pager
from tui.screens.days import DaysScreen
from tui.stage_view import status_cell
from tui.status_style import BAD, RED, STALE_STYLE
from tui.widgets.chrome.title_bar import TitleBar
from tui.widgets.history.trends import TrendsPanel
from tui.workers import in_thread

WIDE = 100  # columns from which the runs table also shows the ingestion date
ERROR_COLUMN_AT = 56  # where the stages table's error column starts (stage, status, start, duration, rows)


def ellipsized(text: str, width: int, style: str = "") -> Text:
    shown = Text(text, style=style)
    shown.truncate(width, overflow="ellipsis")
    return shown


def stages_text(stages: str) -> Text:
    """A run's stages, short: "all" for the four, else "staging → export"."""
    names = stages.split(",")
    return Text("all" if tuple(names) == STAGES else " → ".join(names))


def input_line(found: InputRecord, clock: Clock) -> str:
    """One source object of a run, as loaded: key, version, size, last-modified, ETag and records."""
    version = f" version {found.version_id}" if found.version_id else ""
    rows = f", {found.rows:,} rows" if found.rows is not None else ", not loaded"
    return (
        f"{found.key}{version} ({found.size:,} bytes, modified {clock.stamp(found.last_modified)}, "
        f"ETag {found.etag}{rows})"
    )


class HistoryScreen(ModalScreen[None]):
    """Modal: only its own keys are active (Esc or h goes back)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,h", "close", "Back", show=True),
        Binding("o", "open_log", "Run's log", show=True),
        Binding("f", "filter_status", "Filter status", show=True),
        Binding("r", "rerun_date", "Rerun date", show=True),
        Binding("p", "plot_next", "Plot next trend", show=False),  # with the `plots` extra, from 120×40
    ]
    FILTERS: ClassVar[tuple[str | None, ...]] = (None, "failed", "succeeded", "cancelled", "abandoned")

    def __init__(self, services: Services, clock: Clock, run_slot: RunController) -> None:
        super().__init__()
        self.services = services
        self.run_slot = run_slot  # the console's one run slot, for a rerun of a run's date
        self.runs: list[RunRecord] = []
        self.clock = clock
        self.shown_run: int | None = None
        self.status_filter: str | None = None
        self.stale: dict[StageName, StaleStage] = {}  # stage -> its newest output, computed from older inputs

    def compose(self) -> ComposeResult:
        yield TitleBar(["Run history"], id="title")
        with Vertical(id="history-body"):
            yield DataTable(cursor_type="row", id="history-runs")
            yield DataTable(cursor_type="row", id="history-stages")
            yield Static("", id="history-errors")
            yield TrendsPanel(id="history-trends")
        yield Footer()

    def on_mount(self) -> None:
        runs = self.query_one("#history-runs", DataTable)
        runs.border_title = Text("Runs (loading …)")
        self.wide = self.app.size.width >= WIDE  # below, the ingestion date gives way (it is in the title's facts)
        columns = [
            ("run", "Run"),
            ("started", "Started"),
            ("status", "Status"),
            ("duration", "Duration"),
            ("stages", "Stages"),
        ] + ([("ingestion", "Ingestion date")] if self.wide else [])
        for key, label in columns:
            runs.add_column(label, key=key)
        stages = self.query_one("#history-stages", DataTable)
        stages.border_title = "Stages"
        for key, label in (
            ("stage", "Stage"),
            ("status", "Status"),
            ("started", "Started"),
            ("duration", "Duration"),
            ("rows", "Rows"),
            ("error", "Error"),
        ):
            stages.add_column(label, key=key)
        runs.focus()
        self._load_runs(self.services)
        self._load_trends(self.services)

    @work(thread=True, exit_on_error=False, name="trends", group="history-trends")
    def _load_trends(self, services: Services) -> None:
        self.post_message(TrendsLoaded(browse.history_trends(services)))

    def on_trends_loaded(self, message: TrendsLoaded) -> None:
        self.query_one(TrendsPanel).show(message.series, self.clock.duration)

    @work(thread=True, exit_on_error=False, name="run history", group="history")
    def _load_runs(self, services: Services) -> None:
        self.post_message(HistoryLoaded(browse.recent_runs(services), browse.stale_stages(services)))

    def on_history_loaded(self, message: HistoryLoaded) -> None:
        self.runs, self.stale = message.runs, message.stale
        self._fill_runs()

    def _fill_runs(self) -> None:
        runs = self.query_one("#history-runs", DataTable)
        runs.clear()
        shown = [run for run in self.runs if self.status_filter in (None, run.status)]
        which = f"{self.status_filter}: {len(shown)} of {len(self.runs)}" if self.status_filter else str(len(self.runs))
        runs.border_title = Text(f"Runs ({which})")
        for run in shown:
            cells = [
                Text(f"#{run.run_id}"),
                Text(self.clock.stamp(run.started_at)),
                status_cell(run.status),
                Text(self.clock.duration(run.duration_s), justify="right"),
                stages_text(run.stages),
            ]
            if self.wide:
                cells.append(Text(run.ingestion_date.isoformat()))
            runs.add_row(*cells, key=str(run.run_id))
        if not self.runs:
            self.query_one("#history-errors", Static).update(
                Text("No runs yet: press r on the main screen.", style="dim")
            )

    @on(DataTable.RowHighlighted, "#history-runs")
    def _run_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.row_key is not None and event.row_key.value is not None:
            run_id = int(event.row_key.value)
            services = self.services
            in_thread(
                self,
                f"stages of run #{run_id}",
                lambda: (browse.run_stages(services, run_id), browse.run_inputs(services, run_id)),
                lambda loaded: RunStagesLoaded(run_id, *loaded),
                group="history-stages",
                exclusive=True,
            )

    def on_run_stages_loaded(self, message: RunStagesLoaded) -> None:
        self.show_stages(message.run_id, message.stages, message.inputs)

    def show_stages(self, run_id: int, stages: list[StageRecord], inputs: list[InputRecord] | None = None) -> None:
        self.shown_run = run_id
        table = self.query_one("#history-stages", DataTable)
        table.border_title = Text(f"Stages of run #{run_id}")
        table.clear()
        errors = Text()
        error_width = max(10, self.size.width - ERROR_COLUMN_AT)
        for stage in stages:
            ran = stage.status != "skipped"
            error = self.clock.scrub(stage.error or "")
            stale = self.stale.get(stage.stage)
            stale_reason = stale.reason if stale is not None and stale.run_id == run_id else ""
            table.add_row(
                Text(stage.stage),
                status_cell(stage.status, stale_reason),
                Text(self.clock.start(stage.started_at)),
                Text(self.clock.duration(stage.duration_s if ran else None), justify="right"),
                Text(count(stage.rows if ran else None), justify="right"),
                ellipsized(error, error_width, RED),
                key=stage.stage,
            )
            if stage.error:
                errors.append(f"{stage.stage}: ", style=BAD)
                errors.append(self.clock.scrub(stage.error) + "\n")
            if stale_reason:
                errors.append(f"{stage.stage}: stale: ", style=STALE_STYLE)
                errors.append(stale_reason + "\n")
        for found in inputs or ():
            errors.append(f"{found.table}: ", style="bold")
            errors.append(self.clock.scrub(input_line(found, self.clock)) + "\n")
        self.query_one("#history-errors", Static).update(errors)

    def action_filter_status(self) -> None:
        """Cycle the runs shown: all, failed, succeeded, cancelled, abandoned."""
        self.status_filter = self.FILTERS[(self.FILTERS.index(self.status_filter) + 1) % len(self.FILTERS)]
        self._fill_runs()

    def _highlighted_run(self) -> RunRecord | None:
        table = self.query_one("#history-runs", DataTable)
        if table.row_count == 0:
            return None
        run_id = int(str(table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value))
        return next((run for run in self.runs if run.run_id == run_id), None)

    def action_rerun_date(self) -> None:
        """Run the highlighted run's ingestion date again, from that date's own inputs, in the Days view."""
        run = self._highlighted_run()
        if run is None:
            return
        if (busy := self.run_slot.busy()) is not None:
            self.notify(busy.message, severity="warning", markup=False)
            return

        def back(_ran: bool | None) -> None:
            self._load_runs(self.services)  # the rerun's runs are listed

        self.app.push_screen(DaysScreen(self.services, self.run_slot, rerun=run.ingestion_date), back)

    def action_open_log(self) -> None:
        """The highlighted run's full log in $PAGER."""
        run = self._highlighted_run()
        if run is None:
            return
        run_id = run.run_id
        path = run_log_path(self.services.config, run_id)
        if not path.is_file():
            self.notify(f"run #{run_id} has no log here: {path} (it ran on another machine or state folder)")
            return
        open_in_pager(self.app, path, lambda notice: self.notify(notice.message, severity="warning"))

    def action_plot_next(self) -> None:
        self.query_one(TrendsPanel).plot_next()

    def action_close(self) -> None:
        self.dismiss(None)
