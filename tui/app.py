"""The d2b-console Textual app: browse S3 and the warehouse, run stages, read logs, preview and export.

Every blocking call (opening the services, listings, previews, runs, history) runs in a thread
worker that only posts messages (tui.messages); the handlers below own every change of state
and of the widgets. Stage logic lives in etl_core; this module only presents it.
"""

from __future__ import annotations

import argparse
import gc
import sys
from collections.abc import Callable
from typing import Any, ClassVar

from textual import on
from textual.app import App, ComposeResult
from textual.binding import BindingType
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import DataTable, Footer, Header, TabbedContent, TabPane, Tree
from textual.widgets.tree import NodeID, UnknownNodeID
from textual.worker import Worker, WorkerState

from etl_core import browse
from etl_core.config import Config, load_config
from etl_core.errors import EXIT_CONFIG, ConfigError, D2BError
from etl_core.events import CancelToken, LogLine, RunFinished, RunStarted, StageFinished, StageStarted
from etl_core.pipeline import STAGES, resume_point, run_pipeline, stages_from
from etl_core.secrets import redact
from etl_core.services import Services, open_services
from tui.actions import bindings
from tui.bridge import EventBridge
from tui.clock import Clock
from tui.messages import (
    BackgroundError,
    ExportPreviewReady,
    HistoryReady,
    LakeListed,
    LakeListFailed,
    LogBatch,
    PipelineEvent,
    PreviewFailed,
    PreviewReady,
    ProgressMerged,
    ResumePointReady,
    RunEnded,
    RunStagesReady,
    ServicesFailed,
    ServicesReady,
    WarehouseListed,
)
from tui.palette import ActionsProvider
from tui.screens.cell import CellScreen
from tui.screens.confirm import ConfirmScreen
from tui.screens.export_preview import ExportPreviewScreen
from tui.screens.help import HelpScreen
from tui.screens.history import HistoryScreen
from tui.state import StageView
from tui.widgets.lake_tree import LakeTree
from tui.widgets.log_pane import LogPane
from tui.widgets.pipeline_table import PipelineTable
from tui.widgets.preview_pane import PreviewPane, PreviewTable
from tui.widgets.warehouse_tree import WarehouseTree

TICK_S = 0.5         # live elapsed times
LOG_FLUSH_S = 0.25   # trailing log lines of a run


def describe(exc: BaseException) -> str:
    """An operator-facing sentence for any exception (secrets redacted, first line only)."""
    if isinstance(exc, D2BError):
        return redact(str(exc))
    text = redact(str(exc)).strip().splitlines()
    return f"{exc.__class__.__name__}: {text[0] if text else ''}".strip(": ")


class LastRunLoaded(Message):
    """The newest run in the history and its stages, to show in the pipeline table at start."""

    def __init__(self, run: Any, stages: list) -> None:
        super().__init__()
        self.run = run
        self.stages = stages


class ConsoleApp(App[int]):
    CSS_PATH = "console.tcss"
    TITLE = "d2b-console"
    BINDINGS: ClassVar[list[BindingType]] = bindings()
    COMMANDS = App.COMMANDS | {ActionsProvider}

    def __init__(self, config: Config, *, services: Services | None = None, clock: Clock | None = None,
                 demo_scale: float | None = None) -> None:
        super().__init__()
        self.config = config
        self.clock = clock or Clock()
        self.services: Services | None = services
        self._owns_services = services is None
        self._closing = False
        self.demo_scale = demo_scale
        self.views: dict[str, StageView] = {stage: StageView(stage) for stage in STAGES}
        self.running = False
        self.run_id: int | None = None
        self.last_summary: Any = None
        self.last_failed: str | None = None
        self._cancel: CancelToken | None = None
        self._bridge: EventBridge | None = None
        self._preview_request = 0
        self._services_failed: str | None = None

    # layout ---------------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        yield Header(icon="◆")
        with Horizontal(id="main"):
            with Vertical(id="browse"):
                yield LakeTree(self.clock, id="lake")
                yield WarehouseTree(id="warehouse")
            with Vertical(id="work"):
                yield PipelineTable(self.clock, id="pipeline")
                with TabbedContent(id="bottom", initial="log-tab"):
                    with TabPane("Log", id="log-tab"):
                        yield LogPane(self.clock, id="log")
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

    def on_mount(self) -> None:
        config = self.config
        self.sub_title = self.clock.scrub(
            f"user {config.pipeline.user_id} · ingestion {config.pipeline.ingestion_date} · "
            f"as of {config.pipeline.as_of_date}")
        self.lake.border_title = "Data lake (1)"
        self.warehouse.border_title = "Warehouse (2)"
        self.pipeline.border_title = "Pipeline (3)"
        self.pipeline.border_subtitle = "r run all · s run stage · t retry · R resume · c cancel"
        self.lake.set_message("connecting to S3 …")
        self.warehouse.set_message("connecting to the warehouse …")
        for warning in config.warnings:
            self.ui_log(warning, "WARNING")
        self.lake.focus()
        self.set_interval(TICK_S, self._tick)
        self.set_interval(LOG_FLUSH_S, self._flush_run_logs)
        if self.services is None:
            self._open_services()
        else:
            self.post_message(ServicesReady(self.services))

    async def on_unmount(self) -> None:
        self._closing = True
        if self._cancel is not None:
            self._cancel.cancel()
        if self._owns_services and self.services is not None:
            services, self.services = self.services, None
            services.close()

    # helpers --------------------------------------------------------------------------------
    def ui_log(self, message: str, level: str = "INFO", stage: str | None = None) -> None:
        """A line from the console itself (not from a run) in the log pane."""
        self.log_pane.add_lines([LogLine(self.run_id or 0, stage, level, message, self.clock.now())])

    def report_error(self, context: str, error: str) -> None:
        self.ui_log(f"{context}: {error}", "ERROR")
        self.notify(self.clock.scrub(error), title=context, severity="error", timeout=8)

    def background(self, context: str, job: Callable[[], Any], done: Callable[[Any], Message], *,
                   group: str, failed: Callable[[str], Message] | None = None, exclusive: bool = False) -> None:
        """Run a blocking `job` in a thread worker; post `done(result)` or an error message."""
        def work() -> None:
            try:
                result = job()
            except Exception as exc:  # noqa: BLE001 - every failure becomes a message: the app keeps working
                self.post_message(failed(describe(exc)) if failed else BackgroundError(context, describe(exc)))
                return
            self.post_message(done(result))

        self.run_worker(work, name=context, group=group, thread=True, exclusive=exclusive, exit_on_error=False)

    def need_services(self) -> Services | None:
        if self.services is None:
            if self._services_failed:
                self.notify(f"not connected: {self._services_failed}. F5 retries.", severity="error")
            else:
                self.notify("still connecting to S3 and the warehouse …", severity="warning")
        return self.services

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state == WorkerState.ERROR and event.worker.error is not None:  # a backstop: workers catch
            self.post_message(BackgroundError(event.worker.name or "background task", describe(event.worker.error)))

    def on_background_error(self, message: BackgroundError) -> None:
        self.report_error(message.context, message.error)

    # services -------------------------------------------------------------------------------
    def _open_services(self) -> None:
        self._services_failed = None

        def work() -> None:
            def log(message: str) -> None:
                self.post_message(LogBatch([LogLine(0, None, "INFO", message, self.clock.now())]))
            try:
                services = open_services(self.config, log=log, demo_scale=self.demo_scale)
            except Exception as exc:  # noqa: BLE001 - a failed start is shown, the app keeps running
                self.post_message(ServicesFailed(describe(exc)))
                return
            if self._closing:  # the app quit while the services were starting
                services.close()
                return
            self.post_message(ServicesReady(services))

        self.ui_log(f"config {self.config.path}; connecting to S3 and the warehouse")
        self.run_worker(work, name="open services", group="services", thread=True, exit_on_error=False)

    def on_services_ready(self, message: ServicesReady) -> None:
        # Everything alive now (widgets, imported modules) lives as long as the app: keep it out of the
        # collector, so a full collection during a run stays short (it stalled the UI for 120 ms).
        gc.collect()
        gc.freeze()
        self.services = message.services
        self._services_failed = None
        self.sub_title = self.clock.scrub(
            f"user {self.config.pipeline.user_id} · {self.services.s3_label} · {self.services.warehouse_label} · "
            f"ingestion {self.config.pipeline.ingestion_date} · as of {self.config.pipeline.as_of_date}")
        self.ui_log(f"connected: S3 {self.services.s3_label}, warehouse {self.services.warehouse_label}")
        self._reset_lake()
        self.refresh_warehouse()
        self._load_last_run()

    def on_services_failed(self, message: ServicesFailed) -> None:
        self._services_failed = message.error
        self.lake.set_message("not connected: see the log (F5 retries)", "red")
        self.warehouse.set_message("not connected: see the log (F5 retries)", "red")
        self.report_error("cannot connect", message.error)

    # data lake ------------------------------------------------------------------------------
    def _reset_lake(self) -> None:
        config = self.config
        buckets = [(config.source.bucket, f"source · {config.source.prefix or '/'}")]
        if config.export.bucket != config.source.bucket:
            buckets.append((config.export.bucket, "export"))
        self.lake.set_buckets(buckets)
        first = self.lake.root.children[0]
        first.expand()  # lists the source bucket right away (NodeExpanded)

    @on(Tree.NodeExpanded, "#lake")
    def _lake_expanded(self, event: Tree.NodeExpanded) -> None:
        node = event.node
        item = node.data
        if item is None or item.kind not in ("bucket", "prefix") or item.loaded or item.loading:
            return
        services = self.need_services()
        if services is None:
            return
        self.lake.mark_loading(node)
        node_id = node.id
        self.background(f"list s3://{item.bucket}/{item.key}", lambda: browse.list_s3(services, item.bucket, item.key),
                        lambda entries: LakeListed(node_id, entries), group="lake",
                        failed=lambda error: LakeListFailed(node_id, error))

    def _lake_node(self, node_id: int):
        try:
            return self.lake.get_node_by_id(NodeID(node_id))
        except UnknownNodeID:  # the tree was rebuilt meanwhile
            return None

    def on_lake_listed(self, message: LakeListed) -> None:
        node = self._lake_node(message.node_id)
        if node is not None:
            self.lake.fill(node, message.entries)

    def on_lake_list_failed(self, message: LakeListFailed) -> None:
        node = self._lake_node(message.node_id)
        if node is not None:
            self.lake.fail(node, message.error)
        self.report_error("S3 listing failed", message.error)

    def refresh_lake(self) -> None:
        """List again every expanded level (after an export, or F5)."""
        self.lake.invalidate()
        for node in self.lake.expanded_unloaded():
            self._lake_expanded(Tree.NodeExpanded(node))

    @on(Tree.NodeSelected, "#lake")
    def _lake_selected(self, event: Tree.NodeSelected) -> None:
        item = event.node.data
        if item is not None and item.kind == "object":
            services = self.need_services()
            if services is not None:
                self._preview(f"s3://{item.bucket}/{item.key}",
                              lambda: browse.preview_object(services, item.bucket, item.key))

    # warehouse ------------------------------------------------------------------------------
    def refresh_warehouse(self) -> None:
        services = self.services
        if services is None:
            return
        self.background("warehouse listing", lambda: browse.list_warehouse(services), WarehouseListed,
                        group="warehouse", exclusive=True)

    def on_warehouse_listed(self, message: WarehouseListed) -> None:
        config = self.config
        roles = {config.staging_schema: "staging", config.analytics_schema: "analytics",
                 config.warehouse.dims_schema: "dimensions"}
        self.warehouse.set_schemas(message.schemas, roles)

    @on(Tree.NodeSelected, "#warehouse")
    def _warehouse_selected(self, event: Tree.NodeSelected) -> None:
        item = event.node.data
        if item is not None and item.kind == "table":
            services = self.need_services()
            if services is not None:
                self._preview(f"{item.schema}.{item.table}",
                              lambda: browse.preview_table(services, item.schema, item.table))

    # preview --------------------------------------------------------------------------------
    def _preview(self, title: str, job: Callable[[], Any]) -> None:
        self._preview_request += 1
        request = self._preview_request
        self.preview_pane.show_loading(title)
        self.query_one("#bottom", TabbedContent).active = "preview-tab"
        self.background(f"preview {title}", job, lambda preview: PreviewReady(request, preview), group="preview",
                        failed=lambda error: PreviewFailed(request, title, error))

    def on_preview_ready(self, message: PreviewReady) -> None:
        if message.request == self._preview_request:
            self.preview_pane.show(message.preview)

    def on_preview_failed(self, message: PreviewFailed) -> None:
        if message.request == self._preview_request:
            self.preview_pane.show_error(message.title, message.error)
        self.report_error(f"preview of {message.title} failed", message.error)

    @on(DataTable.CellSelected, "#preview-table")
    def _cell_selected(self, _event: DataTable.CellSelected) -> None:
        self.action_show_cell()

    def action_show_cell(self) -> None:
        cell = self.preview_pane.cell_at_cursor()
        if cell is None:
            self.notify("preview an object or a table first (Enter on it), then pick a cell")
            return
        self.push_screen(CellScreen(*cell))

    def action_toggle_preview(self) -> None:
        tabs = self.query_one("#bottom", TabbedContent)
        tabs.active = "preview-tab" if tabs.active == "log-tab" else "log-tab"

    # running --------------------------------------------------------------------------------
    def start_run(self, stages: tuple[str, ...]) -> bool:
        if self.running:
            self.notify("a run is already in progress (c cancels it)", severity="warning")
            return False
        services = self.need_services()
        if services is None:
            return False
        self.running = True
        self.last_failed = None
        token, bridge = CancelToken(), EventBridge(self.post_message)
        self._cancel, self._bridge = token, bridge
        for stage in stages:
            self.views[stage].queue()
            self.pipeline.show(self.views[stage])
        self.query_one("#bottom", TabbedContent).active = "log-tab"
        self.pipeline.border_subtitle = f"starting {', '.join(stages)} …"

        def work() -> None:
            try:
                summary = run_pipeline(services, stages, bridge, token)
            except Exception as exc:  # noqa: BLE001 - RunLocked, an unreachable warehouse: the run never started
                bridge.flush_logs()
                self.post_message(RunEnded(None, describe(exc)))
                return
            bridge.flush_logs()
            self.post_message(RunEnded(summary))

        self.run_worker(work, name="run " + ",".join(stages), group="run", thread=True, exit_on_error=False)
        return True

    def on_pipeline_event(self, message: PipelineEvent) -> None:
        event = message.event
        if isinstance(event, RunStarted):
            self.run_id = event.run_id
            self.pipeline.border_subtitle = f"run #{event.run_id} running: {', '.join(event.stages)} · c cancels"
        elif isinstance(event, StageStarted):
            view = self.views[event.stage]
            view.start(event.run_id, event.at, self.clock.monotonic())
            self.pipeline.show(view)
            self.log_pane.add_lines([LogLine(event.run_id, event.stage, "INFO", "stage started", event.at)])
        elif isinstance(event, StageFinished):
            self._stage_finished(event)
        elif isinstance(event, RunFinished):
            self.last_summary = event.summary

    def _stage_finished(self, event: StageFinished) -> None:
        result = event.result
        view = self.views[result.stage]
        view.finish(event.run_id, result)
        self.pipeline.show(view)
        if result.status == "skipped":
            return
        level = {"succeeded": "INFO", "cancelled": "WARNING"}.get(result.status, "ERROR")
        self.log_pane.add_lines([LogLine(event.run_id, result.stage, level,
                                         f"stage {result.status} in {result.duration_s:.2f}s, {result.rows:,} rows",
                                         self.clock.now())])
        if result.status in ("failed", "cancelled"):
            self.last_failed = result.stage
            self.pipeline.select_stage(result.stage)
            self.query_one("#bottom", TabbedContent).active = "log-tab"
            self.log_pane.set_filters(stage=result.stage, level="INFO")  # the failed stage's log, error last
            self.notify(self.clock.scrub(result.error or result.status), title=f"{result.stage} {result.status}",
                        severity="error" if result.status == "failed" else "warning", timeout=10)
        self.refresh_warehouse()
        if result.stage == "export" and result.status == "succeeded":
            self.refresh_lake()

    def on_progress_merged(self, message: ProgressMerged) -> None:
        for progress in message.take():
            view = self.views.get(progress.stage)
            if view is not None and view.status == "running":
                view.progress(progress)
                self.pipeline.show(view)

    def on_log_batch(self, message: LogBatch) -> None:
        self.log_pane.add_lines(message.lines)

    def on_run_ended(self, message: RunEnded) -> None:
        self.running = False
        self._cancel = None
        self._bridge = None
        for view in self.views.values():
            if view.status in ("queued", "running"):
                view.status = "pending" if view.status == "queued" else "abandoned"
                self.pipeline.show(view)
        summary = message.summary
        if message.error or summary is None:
            self.pipeline.border_subtitle = "the run did not start"
            self.report_error("run not started", message.error or "the run ended without a summary")
            return
        self.last_summary = summary
        self.log_pane.log_file = summary.log_file
        if summary.log_file:
            self.ui_log(f"run #{summary.run_id} {summary.status}; full log: {summary.log_file}")
        self.pipeline.border_subtitle = (f"run #{summary.run_id} {summary.status} in "
                                         f"{self.clock.duration(summary.duration_s)}")
        if summary.status == "succeeded":
            self.notify(f"run #{summary.run_id}: {', '.join(s.stage for s in summary.stages)} succeeded",
                        title="run succeeded")

    def _flush_run_logs(self) -> None:
        if self._bridge is not None:
            self._bridge.flush_logs()

    def _tick(self) -> None:
        if self.running:
            self.pipeline.tick(list(self.views.values()))

    def _load_last_run(self) -> None:
        services = self.services
        if services is None:
            return

        def job() -> tuple[Any, list]:
            runs = browse.recent_runs(services, limit=1)
            return (runs[0], browse.run_stages(services, runs[0].run_id)) if runs else (None, [])

        self.background("load the last run", job, lambda found: LastRunLoaded(*found), group="history")

    def on_last_run_loaded(self, message: LastRunLoaded) -> None:
        if message.run is None or self.running or self.run_id is not None:
            return
        for record in message.stages:
            view = self.views.get(record.stage)
            if view is None:
                continue
            view.status = record.status if record.status != "running" else "abandoned"
            view.started_at, view.duration_s, view.rows, view.error = (record.started_at, record.duration_s,
                                                                       record.rows, record.error)
            view.run_id = record.run_id
            if record.status == "succeeded":
                view.done = view.total = 1
            if record.status in ("failed", "cancelled", "abandoned") and self.last_failed is None:
                self.last_failed = record.stage
            self.pipeline.show(view)
        self.pipeline.border_subtitle = f"last run #{message.run.run_id} {message.run.status}"

    # pipeline actions (bound from tui.actions) ---------------------------------------------
    def action_run_all(self) -> None:
        self.start_run(STAGES)

    def action_run_selected(self) -> None:
        self.start_run((self.pipeline.selected_stage,))

    def action_retry_failed(self) -> None:
        if self.running:
            self.notify("a run is in progress; retry when it ends", severity="warning")
        elif self.last_failed:
            self.start_run((self.last_failed,))
        elif (services := self.need_services()) is not None:
            self.background("find the failed stage", lambda: resume_point(services),
                            lambda point: ResumePointReady(point, "retry"), group="history")

    def action_resume(self) -> None:
        if self.running:
            self.notify("a run is in progress; resume when it ends", severity="warning")
            return
        unfinished = next((s for s in STAGES
                           if self.views[s].status in ("failed", "cancelled", "abandoned", "skipped")), None)
        if unfinished is not None:
            self._confirm_resume(self.views[unfinished].run_id, unfinished, self.views[unfinished].status)
        elif (services := self.need_services()) is not None:
            self.background("find the resume point", lambda: resume_point(services),
                            lambda point: ResumePointReady(point, "resume"), group="history")

    def on_resume_point_ready(self, message: ResumePointReady) -> None:
        if message.point is None:
            self.notify("the last run succeeded: nothing to retry or resume")
            return
        run_id, stage = message.point
        if message.mode == "retry":
            self.start_run((stage,))
        else:
            self._confirm_resume(run_id, stage, "did not finish")

    def _confirm_resume(self, run_id: int | None, stage: str, status: str) -> None:
        stages = stages_from(stage)
        body = (f"In run #{run_id}, {stage} {status if status == 'did not finish' else 'was ' + status}.\n"
                "This will run, in order:\n"
                + "\n".join(f"  {i}. {s}" for i, s in enumerate(stages, 1)))

        def answered(yes: bool | None) -> None:
            if yes:
                self.start_run(stages)
            else:
                self.notify("resume cancelled")

        self.push_screen(ConfirmScreen(f"Resume from {stage}?", body, yes="Run"), answered)

    def action_cancel_run(self) -> None:
        token = self._cancel
        if not self.running or token is None:
            self.notify("nothing is running")
            return
        if token.cancelled:
            self.notify("already cancelling …")
            return
        self.ui_log("cancel requested by the operator", "WARNING")
        self.notify("cancelling the running stage …", severity="warning")
        self.run_worker(token.cancel, name="cancel", group="cancel", thread=True, exit_on_error=False)

    def action_export_preview(self) -> None:
        services = self.need_services()
        if services is not None:
            self.background("export preview", lambda: browse.preview_export(services), ExportPreviewReady,
                            group="export")

    def on_export_preview_ready(self, message: ExportPreviewReady) -> None:
        destination = f"s3://{self.config.export.bucket}/{self.config.export.prefix}"

        def answered(confirmed: bool | None) -> None:
            if confirmed:
                if self.start_run(("export",)):
                    self.notify("exporting …")
            else:
                self.ui_log("export cancelled by the operator: nothing was written")
                self.notify("export cancelled: nothing was written")

        self.push_screen(ExportPreviewScreen(message.previews, destination), answered)

    def action_history(self) -> None:
        services = self.need_services()
        if services is not None:
            self.background("run history", lambda: browse.recent_runs(services), HistoryReady, group="history")

    def on_history_ready(self, message: HistoryReady) -> None:
        self.push_screen(HistoryScreen(message.runs, self.clock))

    def on_history_screen_stages_wanted(self, message: HistoryScreen.StagesWanted) -> None:
        services = self.services
        if services is not None:
            run_id = message.run_id
            self.background(f"stages of run #{run_id}", lambda: browse.run_stages(services, run_id),
                            lambda stages: RunStagesReady(run_id, stages), group="history-stages", exclusive=True)

    def on_run_stages_ready(self, message: RunStagesReady) -> None:
        for screen in self.screen_stack:
            if isinstance(screen, HistoryScreen):
                screen.show_stages(message.run_id, message.stages)

    # browse / log / app actions -------------------------------------------------------------
    def action_refresh(self) -> None:
        if self.services is None:
            if self._services_failed:
                self.lake.set_message("connecting to S3 …")
                self.warehouse.set_message("connecting to the warehouse …")
                self._open_services()
            return
        self.refresh_lake()
        self.refresh_warehouse()
        self.notify("refreshing the trees")

    def action_focus_lake(self) -> None:
        self.lake.focus()

    def action_focus_warehouse(self) -> None:
        self.warehouse.focus()

    def action_focus_pipeline(self) -> None:
        self.pipeline.focus()

    def action_focus_log(self) -> None:
        tabs = self.query_one("#bottom", TabbedContent)
        (self.log_pane if tabs.active == "log-tab" else self.query_one(PreviewTable)).focus()

    def action_log_stage(self) -> None:
        self.query_one("#bottom", TabbedContent).active = "log-tab"
        self.log_pane.cycle_stage()

    def action_log_level(self) -> None:
        self.query_one("#bottom", TabbedContent).active = "log-tab"
        self.log_pane.cycle_level()

    def action_help(self) -> None:
        self.push_screen(HelpScreen())

    async def action_quit(self) -> None:
        if not self.running:
            self.exit(0)
            return

        def answered(yes: bool | None) -> None:
            if yes:
                if self._cancel is not None:
                    self._cancel.cancel()
                self.exit(0)

        self.push_screen(ConfirmScreen("A run is in progress", "Cancel the running stage and quit?",
                                       yes="Cancel run and quit", no="Stay"), answered)

    def pipeline_rows(self) -> dict[str, list[str]]:
        """Plain text of every pipeline row (tests and the tmux check)."""
        return {stage: self.pipeline.row_text(stage) for stage in STAGES}


def run_console(args: argparse.Namespace) -> int:
    """The interactive console: 2 on a bad config (a message, no traceback), else the app's exit code."""
    try:
        config = load_config(args.config)
    except ConfigError as exc:
        print(f"d2b-console: bad configuration: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    demo_scale = getattr(args, "demo_scale", None)
    if demo_scale is not None and not 0 < demo_scale <= 1000:
        print("d2b-console: --demo-scale must be between 0 (excluded) and 1000", file=sys.stderr)
        return EXIT_CONFIG
    app = ConsoleApp(config, demo_scale=demo_scale)
    code = app.run()
    return int(code or 0)


__all__ = ["ConsoleApp", "run_console"]
