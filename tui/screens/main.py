"""The main screen: composes the panes and carries out the controller's decisions.

Left, the browse column (data lake, warehouse); right, the work column (pipeline, then the
bottom switcher: log, preview). Issue 13's inspection panes (the `:` SQL editor, the paged
results viewer) belong in `tui/widgets/bottom/` as further panes of the bottom switcher, with
their actions in `tui/actions.py` (scope "main").
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, TabbedContent, TabPane, Tree

from etl_core import browse
from etl_core.events import LogLine
from etl_core.pipeline import STAGES, resume_point
from etl_core.services import Services
from tui.actions import bindings
from tui.bridge import EventBridge
from tui.clock import Clock
from tui.controller import AskResumePoint, ConfirmResume, Decision, Notice, RunController, StageChange, StartRun
from tui.messages import (
    ExportPreviewReady,
    LastRunLoaded,
    LogBatch,
    PipelineEvent,
    ProgressMerged,
    ResumePointReady,
    RunEnded,
)
from tui.screens.cell import CellScreen
from tui.screens.confirm import ConfirmScreen
from tui.screens.export_preview import ExportPreviewScreen
from tui.screens.history import HistoryScreen
from tui.widgets.bottom.log_pane import LogPane
from tui.widgets.bottom.preview_pane import PreviewPane, PreviewTable
from tui.widgets.browse.lake_tree import LakeTree
from tui.widgets.browse.warehouse_tree import WarehouseTree
from tui.widgets.run.pipeline_table import PipelineTable
from tui.workers import describe, in_thread

if TYPE_CHECKING:
    from tui.app import ConsoleApp

TICK_S = 0.5         # live elapsed times
LOG_FLUSH_S = 0.25   # trailing log lines of a run


class MainScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = bindings("main")

    def __init__(self, clock: Clock) -> None:
        super().__init__()
        self.clock = clock
        self.controller = RunController(clock)
        self._bridge: EventBridge | None = None

    @property
    def console_app(self) -> ConsoleApp:
        from tui.app import ConsoleApp

        app = self.app
        assert isinstance(app, ConsoleApp), "the main screen runs in the console app"
        return app

    # layout ---------------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        clock = self.clock
        yield Header(icon="◆")
        with Horizontal(id="main"):
            with Vertical(id="browse"):
                yield LakeTree(clock, id="lake")
                yield WarehouseTree(id="warehouse")
            with Vertical(id="work"):
                yield PipelineTable(clock, id="pipeline")
                with TabbedContent(id="bottom", initial="log-tab"):
                    with TabPane("Log", id="log-tab"):
                        yield LogPane(clock, id="log")
                    with TabPane("Preview", id="preview-tab"):
                        yield PreviewPane(id="preview")
        yield Footer()

    @property
    def lake(self) -> LakeTree:
        return self.query_one("#lake", LakeTree)

    @property
    def warehouse(self) -> WarehouseTree:
        return self.query_one("#warehouse", WarehouseTree)

    @property
    def pipeline(self) -> PipelineTable:
        return self.query_one("#pipeline", PipelineTable)

    @property
    def log_pane(self) -> LogPane:
        return self.query_one("#log", LogPane)

    @property
    def preview_pane(self) -> PreviewPane:
        return self.query_one("#preview", PreviewPane)

    @property
    def bottom(self) -> TabbedContent:
        return self.query_one("#bottom", TabbedContent)

    def on_mount(self) -> None:
        self.lake.border_title = "Data lake (1)"
        self.warehouse.border_title = "Warehouse (2)"
        self.pipeline.border_title = "Pipeline (3)"
        self.pipeline.border_subtitle = "r run all · s run stage · t retry · R resume · c cancel"
        self.lake.set_message("connecting to S3 …")
        self.warehouse.set_message("connecting to the warehouse …")
        self.lake.focus()
        self.set_interval(TICK_S, self._tick)
        self.set_interval(LOG_FLUSH_S, self._flush_run_logs)

    # services -------------------------------------------------------------------------------
    def connect(self, services: Services) -> None:
        config = services.config
        buckets = [(config.source.bucket, f"source · {config.source.prefix or '/'}")]
        if config.export.bucket != config.source.bucket:
            buckets.append((config.export.bucket, "export"))
        self.lake.connect(services, buckets)
        self.warehouse.connect(services)
        self._load_last_run(services)

    def connecting(self) -> None:
        self.lake.set_message("connecting to S3 …")
        self.warehouse.set_message("connecting to the warehouse …")

    def disconnected(self) -> None:
        self.lake.set_message("not connected: see the log (F5 retries)", "red")
        self.warehouse.set_message("not connected: see the log (F5 retries)", "red")

    def add_log(self, lines: list[LogLine]) -> None:
        self.log_pane.add_lines(lines)

    # browsing -------------------------------------------------------------------------------
    @on(Tree.NodeSelected, "#lake")
    def _lake_selected(self, event: Tree.NodeSelected) -> None:
        item = event.node.data
        if item is not None and item.kind == "object" and (services := self.console_app.need_services()) is not None:
            self._preview(f"s3://{item.bucket}/{item.key}", lambda: browse.preview_object(services, item.bucket,
                                                                                          item.key))

    @on(Tree.NodeSelected, "#warehouse")
    def _warehouse_selected(self, event: Tree.NodeSelected) -> None:
        item = event.node.data
        if item is not None and item.kind == "table" and (services := self.console_app.need_services()) is not None:
            self._preview(f"{item.schema}.{item.table}", lambda: browse.preview_table(services, item.schema,
                                                                                      item.table))

    def _preview(self, title: str, job) -> None:
        self.bottom.active = "preview-tab"
        self.preview_pane.load(title, job)

    @on(DataTable.CellSelected, "#preview-table")
    def _cell_selected(self, _event: DataTable.CellSelected) -> None:
        self.action_show_cell()

    def action_show_cell(self) -> None:
        cell = self.preview_pane.cell_at_cursor()
        if cell is None:
            self.notify("preview an object or a table first (Enter on it), then pick a cell")
            return
        self.app.push_screen(CellScreen(*cell))

    def action_toggle_preview(self) -> None:
        self.bottom.active = "preview-tab" if self.bottom.active == "log-tab" else "log-tab"

    def action_refresh(self) -> None:
        if self.console_app.services is None:
            self.console_app.reconnect()
            return
        self.lake.refresh_listing()
        self.warehouse.refresh_listing()
        self.notify("refreshing the trees")

    def action_focus_lake(self) -> None:
        self.lake.focus()

    def action_focus_warehouse(self) -> None:
        self.warehouse.focus()

    def action_focus_pipeline(self) -> None:
        self.pipeline.focus()

    def action_focus_log(self) -> None:
        (self.log_pane if self.bottom.active == "log-tab" else self.query_one(PreviewTable)).focus()

    def action_log_stage(self) -> None:
        self.bottom.active = "log-tab"
        self.log_pane.cycle_stage()

    def action_log_level(self) -> None:
        self.bottom.active = "log-tab"
        self.log_pane.cycle_level()

    # decisions ------------------------------------------------------------------------------
    def carry_out(self, decision: Decision) -> None:
        if isinstance(decision, Notice):
            self.console_app.tell(decision)
        elif isinstance(decision, StartRun):
            self.start_run(decision.stages)
        elif isinstance(decision, AskResumePoint):
            if (services := self.console_app.need_services()) is not None:
                mode = decision.mode
                in_thread(self, "find where the last run stopped", lambda: resume_point(services),
                          lambda point: ResumePointReady(point, mode), group="history")
        elif isinstance(decision, ConfirmResume):
            stages = decision.stages

            def answered(yes: bool | None) -> None:
                if yes:
                    self.carry_out(self.controller.run(stages))
                else:
                    self.notify("resume cancelled")

            self.app.push_screen(ConfirmScreen(decision.title, decision.body, yes="Run"), answered)

    def on_resume_point_ready(self, message: ResumePointReady) -> None:
        self.carry_out(self.controller.resume_point_found(message.point, message.mode))

    def action_run_all(self) -> None:
        self.carry_out(self.controller.run(STAGES))

    def action_run_selected(self) -> None:
        self.carry_out(self.controller.run((self.pipeline.selected_stage,)))

    def action_retry_failed(self) -> None:
        self.carry_out(self.controller.retry())

    def action_resume(self) -> None:
        self.carry_out(self.controller.resume())

    def action_cancel_run(self) -> None:
        notice, token = self.controller.cancel()
        if token is not None:
            self.console_app.ui_log("cancel requested by the operator", "WARNING")
            self.run_worker(token.cancel, name="cancel", group="cancel", thread=True, exit_on_error=False)
        self.console_app.tell(notice)

    # a run ----------------------------------------------------------------------------------
    def start_run(self, stages: tuple[str, ...]) -> bool:
        services = self.console_app.need_services()
        if services is None:
            return False
        for view in self.controller.begin(stages):
            self.pipeline.show(view)
        bridge = EventBridge(self.post_message)
        self._bridge = bridge
        job = self.controller.job(services, stages, bridge)
        self.bottom.active = "log-tab"
        self.pipeline.border_subtitle = self.controller.status_line

        def work() -> None:
            try:
                summary = job()
            except Exception as exc:  # noqa: BLE001 - RunLocked, an unreachable warehouse: the run never started
                bridge.flush_logs()
                self.post_message(RunEnded(None, describe(exc)))
                return
            bridge.flush_logs()
            self.post_message(RunEnded(summary))

        self.run_worker(work, name="run " + ",".join(stages), group="run", thread=True, exit_on_error=False)
        return True

    def on_pipeline_event(self, message: PipelineEvent) -> None:
        change = self.controller.on_event(message.event)
        self.pipeline.border_subtitle = self.controller.status_line
        if change is not None:
            self._show_change(change)

    def _show_change(self, change: StageChange) -> None:
        self.pipeline.show(change.view)
        if change.log is not None:
            self.log_pane.add_lines([change.log])
        if change.stopped:
            self.pipeline.select_stage(change.view.stage)
            self.bottom.active = "log-tab"
            self.log_pane.set_filters(stage=change.view.stage, level="INFO")  # the failed stage's log, error last
        if change.notice is not None:
            self.console_app.tell(change.notice, timeout=10)
        if change.refresh_warehouse:
            self.warehouse.refresh_listing()
        if change.refresh_lake:
            self.lake.refresh_listing()

    def on_progress_merged(self, message: ProgressMerged) -> None:
        for view in self.controller.on_progress(message.take()):
            self.pipeline.show(view)

    def on_log_batch(self, message: LogBatch) -> None:
        self.log_pane.add_lines(message.lines)

    def on_run_ended(self, message: RunEnded) -> None:
        self._bridge = None
        outcome = self.controller.on_run_ended(message.summary, message.error)
        for view in outcome.changed:
            self.pipeline.show(view)
        self.pipeline.border_subtitle = self.controller.status_line
        self.log_pane.log_file = outcome.log_file or self.log_pane.log_file
        if outcome.log:
            self.console_app.ui_log(outcome.log)
        if outcome.notice is not None:
            if outcome.notice.severity == "error":
                self.console_app.report_error(outcome.notice.title, outcome.notice.message)
            else:
                self.console_app.tell(outcome.notice)

    def _flush_run_logs(self) -> None:
        if self._bridge is not None:
            self._bridge.flush_logs()

    def _tick(self) -> None:
        if self.controller.running:
            self.pipeline.tick(list(self.controller.views.values()))

    def _load_last_run(self, services: Services) -> None:
        def job() -> LastRunLoaded:
            runs = browse.recent_runs(services, limit=1)
            return LastRunLoaded(runs[0], browse.run_stages(services, runs[0].run_id)) if runs else \
                LastRunLoaded(None, [])

        in_thread(self, "load the last run", job, lambda loaded: loaded, group="history")

    def on_last_run_loaded(self, message: LastRunLoaded) -> None:
        changed = self.controller.restore(message.run, message.stages)
        for view in changed:
            self.pipeline.show(view)
        if changed:
            self.pipeline.border_subtitle = self.controller.status_line

    # export and history ---------------------------------------------------------------------
    def action_export_preview(self) -> None:
        if (services := self.console_app.need_services()) is not None:
            in_thread(self, "export preview", lambda: browse.preview_export(services), ExportPreviewReady,
                      group="export")

    def on_export_preview_ready(self, message: ExportPreviewReady) -> None:
        config = self.console_app.config
        destination = f"s3://{config.export.bucket}/{config.export.prefix}"

        def answered(confirmed: bool | None) -> None:
            if confirmed:
                decision = self.controller.run(("export",))
                self.carry_out(decision)
                if isinstance(decision, StartRun):
                    self.notify("exporting …")
            else:
                self.console_app.ui_log("export cancelled by the operator: nothing was written")
                self.notify("export cancelled: nothing was written")

        self.app.push_screen(ExportPreviewScreen(message.previews, destination), answered)

    def action_history(self) -> None:
        if (services := self.console_app.need_services()) is not None:
            self.app.push_screen(HistoryScreen(services, self.console_app.clock))

    def pipeline_rows(self) -> dict[str, list[str]]:
        """Plain text of every pipeline row (tests and the tmux check)."""
        return {stage: self.pipeline.row_text(stage) for stage in STAGES}
