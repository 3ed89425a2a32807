"""The main screen: composes the panes and carries out the controller's decisions.

Left, the browse column (data lake, warehouse); right, the work column (pipeline, then the
bottom switcher: log, preview). Below 110 columns the browse column gives way (`b` shows it in
place of the work column); above, `b` hides it. A table or a CSV object previews in the paged
results viewer (`tui/widgets/inspect/`, a further pane of the switcher); what is not rows
(compressed, binary, ragged) in the plain preview pane. Inspection's actions are handed to
`MainInspection` (tui/screens/inspect_actions.py); the `:` SQL pane is a screen of its own.
"""

from __future__ import annotations

import os
import shlex
import subprocess
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual import events, on
from textual.app import ComposeResult, SuspendNotSupported
from textual.binding import BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import ContentSwitcher, DataTable, Tree

from etl_core import browse
from etl_core.browse import ExportPreview
from etl_core.events import LogLine, RunStarted
from etl_core.pipeline import STAGES, resume_point
from etl_core.services import Services
from tui.actions import bindings
from tui.bridge import EventBridge
from tui.clock import Clock
from tui.controller import AskResumePoint, ConfirmResume, Decision, Notice, RunController, StageChange, StartRun
from tui.messages import (
    ExportCheckDone,
    ExportConfirmationWanted,
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
from tui.screens.inspect_actions import MainInspection
from tui.widgets.bottom.log_pane import LogPane
from tui.widgets.bottom.log_view import LogView
from tui.widgets.bottom.preview_pane import PreviewPane, PreviewTable
from tui.widgets.browse.lake_tree import LakeTree
from tui.widgets.browse.warehouse_tree import WarehouseTree
from tui.widgets.chrome.key_bar import KeyBar
from tui.widgets.chrome.title_bar import TitleBar
from tui.widgets.inspect.results_viewer import ResultsViewer
from tui.widgets.run.stage_table import StageTable
from tui.workers import describe, in_thread

if TYPE_CHECKING:
    from tui.app import ConsoleApp

TICK_S = 0.5  # live elapsed times
LOG_FLUSH_S = 0.25  # trailing log lines of a run


class MainScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = bindings("main")
    # Textual's base class declares this as a plain (instance) list: a ClassVar annotation would not type-check.
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (110, "-wide")]  # noqa: RUF012

    def __init__(self, clock: Clock) -> None:
        super().__init__()
        self.clock = clock
        self.controller = RunController(clock)
        self._bridge: EventBridge | None = None
        self._export_screen: ExportPreviewScreen | None = None
        self._preview = "preview"  # the bottom switcher's preview: "preview" (plain) or "data-preview" (rows)
        self.inspection = MainInspection(self)

    @property
    def console_app(self) -> ConsoleApp:
        from tui.app import ConsoleApp

        app = self.app
        assert isinstance(app, ConsoleApp), "the main screen runs in the console app"
        return app

    # layout ---------------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        yield TitleBar(id="title")
        with Horizontal(id="main"):
            with Vertical(id="browse"):
                yield LakeTree(self.clock, id="lake")
                yield WarehouseTree(id="warehouse")
            with Vertical(id="work"):
                yield StageTable(self.clock, id="pipeline")
                with ContentSwitcher(id="bottom", initial="log"):
                    yield LogPane(self.clock, id="log")
                    yield PreviewPane(id="preview")
                    yield ResultsViewer(id="data-preview")
        yield KeyBar("main", id="keys")

    @property
    def title_bar(self) -> TitleBar:
        return self.query_one(TitleBar)

    def on_descendant_focus(self, event: events.DescendantFocus) -> None:
        """The key bar offers a results viewer's keys while it has the focus."""
        in_viewer = any(isinstance(node, ResultsViewer) for node in event.widget.ancestors_with_self)
        self.query_one(KeyBar).show_scopes(*(("results", "main") if in_viewer else ("main",)))

    @property
    def lake(self) -> LakeTree:
        return self.query_one("#lake", LakeTree)

    @property
    def warehouse(self) -> WarehouseTree:
        return self.query_one("#warehouse", WarehouseTree)

    @property
    def pipeline(self) -> StageTable:
        return self.query_one("#pipeline", StageTable)

    @property
    def log_pane(self) -> LogPane:
        return self.query_one("#log", LogPane)

    @property
    def log_view(self) -> LogView:
        return self.log_pane.view

    @property
    def preview_pane(self) -> PreviewPane:
        return self.query_one("#preview", PreviewPane)

    @property
    def bottom(self) -> ContentSwitcher:
        return self.query_one("#bottom", ContentSwitcher)

    def on_mount(self) -> None:
        self.lake.border_title = "Data lake (1)"
        self.warehouse.border_title = "Warehouse (2)"
        self.pipeline.border_title = "Pipeline (3)"
        self._status("r runs every stage · : queries the warehouse · ? lists every key")
        self.lake.set_message("connecting to S3 …")
        self.warehouse.set_message("connecting to the warehouse …")
        self.pipeline.focus()
        self.set_interval(TICK_S, self.pipeline.tick)
        self.set_interval(LOG_FLUSH_S, self._flush_run_logs)
        self.console_app.start()

    def _status(self, text: str) -> None:
        self.pipeline.border_subtitle = Text(self.clock.scrub(text))

    def show_bottom(self, pane: str) -> None:
        """ "log" or "preview" (the one last shown); in the narrow layout this also leaves the trees."""
        self.bottom.current = self._preview if pane == "preview" else pane
        self.remove_class("-toggled") if self.has_class("-narrow") else None

    # services -------------------------------------------------------------------------------
    def connect(self, services: Services) -> None:
        config = services.config
        buckets = [(config.source.bucket, f"source · {config.source.prefix or '/'}")]
        if config.export.bucket != config.source.bucket:
            buckets.append((config.export.bucket, "export"))
        if "s3" in services.problems:
            self.lake.set_message(f"not connected: {services.problems['s3']} (F5 retries)", "red")
        else:
            self.lake.connect(services, buckets)
        if "warehouse" in services.problems:
            self.warehouse.set_message(f"not connected: {services.problems['warehouse']} (F5 retries)", "red")
        else:
            workbench = self.console_app.workbench
            assert workbench is not None, "the app makes the inspection workbench before it connects the panes"
            self.warehouse.connect(services, workbench.catalog)
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
        if item is not None and item.kind == "object":
            self.inspection.inspect_object(item.bucket, item.key)

    @on(Tree.NodeSelected, "#warehouse")
    def _warehouse_selected(self, event: Tree.NodeSelected) -> None:
        item = event.node.data
        if item is not None and item.kind == "table":
            self.inspection.inspect_table(item.schema, item.table)

    def show_preview(self, data: bool) -> None:
        """The preview in the bottom pane: the results viewer (`data`), or the plain pane (what is not rows)."""
        self._preview = "data-preview" if data else "preview"
        self.show_bottom("preview")

    @property
    def data_preview(self) -> ResultsViewer:
        return self.query_one("#data-preview", ResultsViewer)

    def on_results_viewer_done(self, message: ResultsViewer.Done) -> None:
        self.inspection.viewer_done(message)

    def action_open_query(self) -> None:
        self.inspection.open_query()

    def action_insert_name(self) -> None:
        self.inspection.insert_name()

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
        self.show_bottom("preview" if self.bottom.current == "log" else "log")

    def action_toggle_browse(self) -> None:
        self.toggle_class("-toggled")
        showing = self.has_class("-narrow") == self.has_class("-toggled")
        (self.lake if showing else self.pipeline).focus()

    def _show_browse(self) -> None:
        if self.has_class("-narrow") != self.has_class("-toggled"):
            self.toggle_class("-toggled")

    def action_refresh(self) -> None:
        services = self.console_app.services
        if services is None or services.problems:
            self.console_app.reconnect()
            return
        self.lake.refresh_listing()
        self.warehouse.refresh_listing()
        self.notify("refreshing the trees")

    def action_focus_lake(self) -> None:
        self._show_browse()
        self.lake.focus()

    def action_focus_warehouse(self) -> None:
        self._show_browse()
        self.warehouse.focus()

    def action_focus_pipeline(self) -> None:
        self.show_bottom(self.bottom.current or "log")
        self.pipeline.focus()

    def action_focus_log(self) -> None:
        self.show_bottom(self.bottom.current or "log")
        current = self.bottom.current
        if current == "log":
            self.log_view.focus()
        else:
            (self.data_preview.grid if current == "data-preview" else self.query_one(PreviewTable)).focus()

    # the log --------------------------------------------------------------------------------
    def action_log_stage(self) -> None:
        self.show_bottom("log")
        self.log_view.cycle_stage()

    def action_log_level(self) -> None:
        self.show_bottom("log")
        self.log_view.cycle_level()

    def action_search_log(self) -> None:
        self.show_bottom("log")
        self.log_pane.open_search()

    def action_open_log(self) -> None:
        path = self.log_view.log_file
        if not path or not Path(path).is_file():
            logs = self.console_app.config.console.state_dir / "logs"
            self.console_app.tell(Notice(f"no run has finished in this console yet; the run logs are in {logs}"))
            return
        pager = shlex.split(os.environ.get("PAGER") or "less")
        try:
            with self.app.suspend():
                subprocess.run([*pager, path], check=False)
        except SuspendNotSupported:
            self.console_app.tell(Notice(f"this terminal cannot hand over to a pager; the log is {path}"))
        except OSError as exc:
            self.console_app.tell(
                Notice(f"cannot start the pager {pager[0]}: {exc.strerror}; the log is {path}", "error")
            )

    # decisions ------------------------------------------------------------------------------
    def carry_out(self, decision: Decision) -> None:
        if isinstance(decision, Notice):
            self.console_app.tell(decision)
        elif isinstance(decision, StartRun):
            self.start_run(decision.stages)
        elif isinstance(decision, AskResumePoint):
            if (services := self.console_app.need_services()) is not None:
                mode = decision.mode

                def find() -> ResumePointReady:
                    return ResumePointReady(resume_point(services), mode, bool(browse.recent_runs(services, limit=1)))

                in_thread(self, "find where the last run stopped", find, lambda found: found, group="history")
        elif isinstance(decision, ConfirmResume):
            stages = decision.stages

            def answered(yes: bool | None) -> None:
                if yes:
                    self.carry_out(self.controller.run(stages))
                else:
                    self.notify("resume cancelled")

            self.app.push_screen(ConfirmScreen(decision.title, decision.body, yes="Run"), answered)

    def on_resume_point_ready(self, message: ResumePointReady) -> None:
        self.carry_out(self.controller.resume_point_found(message.point, message.mode, message.has_runs))

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
        config = services.config
        destination = f"s3://{config.export.bucket}/{config.export.prefix}"
        job = self.controller.job(
            services,
            stages,
            bridge,
            lambda previews: self.post_message(ExportConfirmationWanted(previews, destination)),
        )
        self.show_bottom("log")
        self._status(self.controller.status_line)
        done = self.controller.run_done

        def work() -> None:
            try:
                summary = job()
            except Exception as exc:  # noqa: BLE001 - RunLocked, an unreachable warehouse: the run never started
                bridge.flush_logs()
                self.post_message(RunEnded(None, describe(exc)))
                return
            finally:
                done.set()
            bridge.flush_logs()
            self.post_message(RunEnded(summary))

        self.run_worker(work, name="run " + ",".join(stages), group="run", thread=True, exit_on_error=False)
        return True

    def on_pipeline_event(self, message: PipelineEvent) -> None:
        event = message.event
        if isinstance(event, RunStarted):
            self.log_pane.run_started(event.run_id, event.stages, event.at)
        change = self.controller.on_event(event)
        self._status(self.controller.status_line)
        if change is not None:
            self._show_change(change)

    def _show_change(self, change: StageChange) -> None:
        self.pipeline.show(change.view)
        if change.log is not None:
            self.log_pane.add_lines([change.log])
        if change.stopped:
            self.pipeline.select_stage(change.view.stage)
            self.show_bottom("log")
            self.log_view.set_filters(stage=change.view.stage, level="INFO")  # the failed stage's log, error last
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
        message.stop()  # the app also handles LogBatch (the services' start-up lines): show each line once
        self.log_pane.add_lines(message.lines)

    def on_run_ended(self, message: RunEnded) -> None:
        self._bridge = None
        screen, self._export_screen = self._export_screen, None
        if screen is not None:  # the run was cancelled (quit, a signal) while its preview was open
            screen.dismiss(None)
        outcome = self.controller.on_run_ended(message.summary, message.error)
        for view in outcome.changed:
            self.pipeline.show(view)
        self._status(self.controller.status_line)
        if outcome.log_file:
            self.log_view.log_file = outcome.log_file
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

    def _load_last_run(self, services: Services) -> None:
        def job() -> LastRunLoaded:
            runs = browse.recent_runs(services, limit=1)
            if not runs:
                return LastRunLoaded(None, [])
            return LastRunLoaded(runs[0], browse.run_stages(services, runs[0].run_id))

        in_thread(self, "load the last run", job, lambda loaded: loaded, group="history")

    def on_last_run_loaded(self, message: LastRunLoaded) -> None:
        changed = self.controller.restore(message.run, message.stages)
        for view in changed:
            self.pipeline.show(view)
        if changed:
            self._status(self.controller.status_line)

    # export and history ---------------------------------------------------------------------
    def action_export_preview(self) -> None:
        """The export preview of a run of the export stage (if there is anything to export yet)."""
        if self.controller.running:
            self.console_app.tell(Notice("a run is in progress: its export, if any, shows the preview", "warning"))
        elif (services := self.console_app.need_services()) is not None:
            in_thread(
                self, "export preview", lambda: browse.missing_export_tables(services), ExportCheckDone, group="export"
            )

    def on_export_check_done(self, message: ExportCheckDone) -> None:
        if message.missing:
            self.console_app.tell(
                Notice(
                    f"nothing to export yet: {', '.join(message.missing)} "
                    f"{'does' if len(message.missing) == 1 else 'do'} not exist; "
                    "r runs every stage, then shows the export preview"
                )
            )
        else:
            self.carry_out(self.controller.run(("export",)))

    def on_export_confirmation_wanted(self, message: ExportConfirmationWanted) -> None:
        self.pipeline.show(self.controller.export_asked())
        self._status("export preview open: y exports, Esc cancels")

        screen = ExportPreviewScreen(message.previews, message.destination)

        def answered(confirmed: bool | None) -> None:
            if self._export_screen is not screen:  # the run ended first
                return
            self._export_screen = None
            change = self.controller.export_answered(bool(confirmed))
            self._show_change(change)
            self._status(self.controller.status_line)
            self.notify("exporting …" if confirmed else "export cancelled: nothing was written")

        self._export_screen = screen
        self.app.push_screen(screen, answered)

    def action_history(self) -> None:
        if (services := self.console_app.need_services("warehouse")) is not None:
            self.app.push_screen(HistoryScreen(services, self.clock))

    def pipeline_rows(self) -> dict[str, list[str]]:
        """Plain text of every pipeline row (tests and the tmux check)."""
        return {stage: self.pipeline.row_text(stage) for stage in STAGES}

    def export_previews(self) -> list[ExportPreview]:
        return self._export_screen.previews if self._export_screen is not None else []
