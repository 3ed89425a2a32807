"""The main screen: composes the panes and hands each key and message to the part that owns it.

Left, the browse column (data lake, warehouse); right, the work column (pipeline, then the
bottom switcher: log, preview). Each concern is a part of its own, as plain classes the screen
holds: the layout and the focus (`MainPanes`, main_panes.py), run control (`RunControl`,
main_runs.py), the export gate (`MainExportGate`, main_export.py), the log (`MainLog`,
main_log.py) and data inspection (`MainInspection`, inspect_actions.py). The screen keeps only
what Textual needs on it: the composition, and one line per action of the registry (scope
"main") or message, each handing over to its part. A new action is a method of its part plus
that line; a new screen is opened from a part (as history is here).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from textual import events, on
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import ContentSwitcher, DataTable, Tree

from tui.actions import bindings
from tui.controller import RunController
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
from tui.screens.inspect_actions import MainInspection
from tui.screens.main_export import ExportMessage, MainExportGate
from tui.screens.main_log import MainLog
from tui.screens.main_panes import MainPanes
from tui.screens.main_runs import RunControl, RunMessage, load_last_run
from tui.widgets.bottom.log_pane import LogPane
from tui.widgets.bottom.preview_pane import PreviewPane
from tui.widgets.browse.lake_tree import LakeTree
from tui.widgets.browse.warehouse_tree import WarehouseTree
from tui.widgets.chrome.key_bar import KeyBar
from tui.widgets.chrome.title_bar import TitleBar
from tui.widgets.inspect.results_viewer import ResultsViewer
from tui.widgets.run.stage_table import StageTable

if TYPE_CHECKING:
    from etl_core.services import Services
    from tui.clock import Clock
    from tui.host import ConsoleHost

TICK_S = 0.5  # live elapsed times
LOG_FLUSH_S = 0.25  # trailing log lines of a run


class MainScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = bindings("main")
    # Textual's base class declares this as a plain (instance) list: a ClassVar annotation would not type-check.
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (110, "-wide")]  # noqa: RUF012

    def __init__(self, clock: Clock, host: ConsoleHost) -> None:
        super().__init__()
        self.clock = clock
        self.host = host
        self.controller = RunController(clock)
        self.panes = MainPanes(self, clock)
        self.runs = RunControl(self)
        self.export_gate = MainExportGate(self)
        self.logs = MainLog(self.panes, host)
        self.inspection = MainInspection(self)

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

    def on_mount(self) -> None:
        self.panes.titled()
        self.set_interval(TICK_S, self.panes.pipeline.tick)
        self.set_interval(LOG_FLUSH_S, self.runs.flush_logs)
        self.host.start()

    def connect(self, services: Services) -> None:
        """The services are open: the trees list what they reach, the pipeline shows the last run."""
        self.panes.connect(services, self.host.workbench)
        if "warehouse" not in services.problems:
            load_last_run(self, services)

    # messages, each to its part -------------------------------------------------------------
    def on_descendant_focus(self, event: events.DescendantFocus) -> None:
        self.panes.focus_changed(event.widget)

    @on(Tree.NodeSelected, "#lake")
    @on(Tree.NodeSelected, "#warehouse")
    def _tree_selected(self, event: Tree.NodeSelected[object]) -> None:
        self.inspection.node_selected(event.node.data)

    @on(DataTable.CellSelected, "#preview-table")
    def _cell_selected(self, _event: DataTable.CellSelected) -> None:
        self.panes.show_cell()

    def on_results_viewer_done(self, message: ResultsViewer.Done) -> None:
        self.inspection.viewer_done(message)

    @on(ResultsViewer.DialogWanted)
    def _viewer_dialog(self, message: ResultsViewer.DialogWanted) -> None:
        from tui.screens.viewer_dialogs import open_dialog  # the screens a key opens load after the first frame

        open_dialog(self.app, message)

    @on(PipelineEvent)
    @on(ProgressMerged)
    @on(RunEnded)
    @on(ResumePointReady)
    @on(LastRunLoaded)
    def _run_message(self, message: RunMessage) -> None:
        self.runs.handle(message)

    @on(ExportCheckDone)
    @on(ExportConfirmationWanted)
    def _export_message(self, message: ExportMessage) -> None:
        self.export_gate.handle(message)

    def on_log_batch(self, message: LogBatch) -> None:
        message.stop()  # the app also handles LogBatch (the services' start-up lines): show each line once
        self.logs.add(message.lines)

    # the registry's actions (scope "main"), each to its part ----------------------------------
    def action_run_all(self) -> None:
        self.runs.run_all()

    def action_run_selected(self) -> None:
        self.runs.run_selected()

    def action_retry_failed(self) -> None:
        self.runs.retry()

    def action_resume(self) -> None:
        self.runs.resume()

    def action_cancel_run(self) -> None:
        self.runs.cancel()

    def action_export_preview(self) -> None:
        self.export_gate.preview()

    def action_history(self) -> None:
        if (services := self.host.need_services("warehouse")) is not None:
            from tui.screens.history import HistoryScreen  # imported by the services' worker, once connected

            self.app.push_screen(HistoryScreen(services, self.clock, self.controller))

    def action_days(self) -> None:
        if (services := self.host.need_services("warehouse")) is not None:
            from tui.screens.days import DaysScreen

            def back(ran: bool | None) -> None:
                if ran:  # the pipeline shows the newest run, as at start
                    load_last_run(self, services)

            self.app.push_screen(DaysScreen(services, self.controller), back)

    def action_checks(self) -> None:
        if (services := self.host.need_services("warehouse")) is not None:
            from tui.screens.checks import ChecksScreen

            self.app.push_screen(ChecksScreen(services, self.inspection.open_query))

    def action_toggle_browse(self) -> None:
        self.panes.toggle_browse()

    def action_toggle_preview(self) -> None:
        self.panes.toggle_preview()

    def action_show_cell(self) -> None:
        self.panes.show_cell()

    def action_focus_lake(self) -> None:
        self.panes.focus_lake()

    def action_focus_warehouse(self) -> None:
        self.panes.focus_warehouse()

    def action_focus_pipeline(self) -> None:
        self.panes.focus_pipeline()

    def action_focus_log(self) -> None:
        self.panes.focus_log()

    def action_refresh(self) -> None:
        services = self.host.services
        if services is None or services.problems:
            self.host.reconnect()
            return
        self.panes.refresh_trees()
        self.notify("refreshing the trees")

    def action_log_stage(self) -> None:
        self.logs.cycle_stage()

    def action_log_level(self) -> None:
        self.logs.cycle_level()

    def action_search_log(self) -> None:
        self.logs.search()

    def action_open_log(self) -> None:
        self.logs.open_in_pager()

    def action_open_query(self) -> None:
        self.inspection.open_query()

    def action_insert_name(self) -> None:
        self.inspection.insert_name()
