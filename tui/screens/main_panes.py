"""The main screen's layout and focus: its panes, the bottom switcher, the browse column, the status line.

Below 110 columns the browse column gives way (the screen's class `-narrow`); `b` shows it in
place of the work column (`-toggled`), and above 110 columns `b` hides it. The bottom switcher
holds the log, the plain preview (what is not rows) and the results viewer (rows).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import ContentSwitcher

from etl_core.kinds import STAGE_NAMES as STAGES
from tui.screens.cell import CellScreen
from tui.status_style import RED
from tui.widgets.bottom.log_pane import LogPane
from tui.widgets.bottom.preview_pane import PreviewPane, PreviewTable
from tui.widgets.browse.lake_tree import LakeTree
from tui.widgets.browse.warehouse_tree import WarehouseTree
from tui.widgets.chrome.key_bar import KeyBar
from tui.widgets.chrome.title_bar import TitleBar
from tui.widgets.inspect.results_viewer import ResultsViewer
from tui.widgets.run.stage_table import StageTable

if TYPE_CHECKING:
    from etl_core.services import Services
    from tui.clock import Clock
    from tui.inspect.workbench import Workbench
    from tui.widgets.bottom.log_view import LogView


class MainPanes:
    """Finds the main screen's panes and moves the layout and the focus between them."""

    def __init__(self, screen: Screen[None], clock: Clock) -> None:
        self.screen = screen
        self.clock = clock
        self._preview = "preview"  # the bottom switcher's preview: "preview" (plain) or "data-preview" (rows)

    # the panes ------------------------------------------------------------------------------
    @property
    def title_bar(self) -> TitleBar:
        return self.screen.query_one(TitleBar)

    @property
    def lake(self) -> LakeTree:
        return self.screen.query_one("#lake", LakeTree)

    @property
    def warehouse(self) -> WarehouseTree:
        return self.screen.query_one("#warehouse", WarehouseTree)

    @property
    def pipeline(self) -> StageTable:
        return self.screen.query_one("#pipeline", StageTable)

    @property
    def bottom(self) -> ContentSwitcher:
        return self.screen.query_one("#bottom", ContentSwitcher)

    @property
    def log_pane(self) -> LogPane:
        return self.screen.query_one("#log", LogPane)

    @property
    def log_view(self) -> LogView:
        return self.log_pane.view

    @property
    def preview_pane(self) -> PreviewPane:
        return self.screen.query_one("#preview", PreviewPane)

    @property
    def data_preview(self) -> ResultsViewer:
        return self.screen.query_one("#data-preview", ResultsViewer)

    def pipeline_rows(self) -> dict[str, list[str]]:
        """Plain text of every pipeline row (tests and the tmux check)."""
        return {stage: self.pipeline.row_text(stage) for stage in STAGES}

    # at start and as the services come and go -------------------------------------------------
    def titled(self) -> None:
        self.lake.border_title = "Data lake (1)"
        self.warehouse.border_title = "Warehouse (2)"
        self.pipeline.border_title = "Pipeline (3)"
        self.status("r runs every stage · : queries the warehouse · ? lists every key")
        self.connecting()
        self.pipeline.focus()

    def status(self, text: str) -> None:
        """The line under the pipeline: what the console is doing or waiting for."""
        self.pipeline.border_subtitle = Text(self.clock.scrub(text))

    def connecting(self) -> None:
        self.lake.set_message("connecting to S3 …")
        self.warehouse.set_message("connecting to the warehouse …")

    def disconnected(self) -> None:
        self.lake.set_message("not connected: see the log (F5 retries)", RED)
        self.warehouse.set_message("not connected: see the log (F5 retries)", RED)

    def connect(self, services: Services, workbench: Workbench | None) -> None:
        """The trees list what the services reach, or say why they cannot."""
        config = services.config
        buckets = [(config.source.bucket, f"source · {config.source.prefix or '/'}")]
        if config.export.bucket != config.source.bucket:
            buckets.append((config.export.bucket, "export"))
        if "s3" in services.problems:
            self.lake.set_message(f"not connected: {services.problems['s3']} (F5 retries)", RED)
        else:
            self.lake.connect(services, buckets)
        if "warehouse" in services.problems:
            self.warehouse.set_message(f"not connected: {services.problems['warehouse']} (F5 retries)", RED)
        else:
            assert workbench is not None, "the app makes the inspection workbench before it connects the panes"
            self.warehouse.connect(services, workbench.catalog)

    def refresh_trees(self) -> None:
        self.lake.refresh_listing()
        self.warehouse.refresh_listing()

    # the bottom switcher ----------------------------------------------------------------------
    def show_bottom(self, pane: str) -> None:
        """ "log", "preview" (the one last shown) or a pane's id; in the narrow layout this also leaves the trees."""
        self.bottom.current = self._preview if pane == "preview" else pane
        if self.screen.has_class("-narrow"):
            self.screen.remove_class("-toggled")

    def show_preview(self, data: bool) -> None:
        """The preview in the bottom pane: the results viewer (`data`), or the plain pane (what is not rows)."""
        self._preview = "data-preview" if data else "preview"
        self.show_bottom("preview")

    def toggle_preview(self) -> None:
        self.show_bottom("preview" if self.bottom.current == "log" else "log")

    def show_cell(self) -> None:
        cell = self.preview_pane.cell_at_cursor()
        if cell is None:
            self.screen.notify("preview an object or a table first (Enter on it), then pick a cell")
            return
        self.screen.app.push_screen(CellScreen(*cell))

    # the browse column and the focus ----------------------------------------------------------
    def toggle_browse(self) -> None:
        self.screen.toggle_class("-toggled")
        showing = self.screen.has_class("-narrow") == self.screen.has_class("-toggled")
        (self.lake if showing else self.pipeline).focus()

    def _show_browse(self) -> None:
        if self.screen.has_class("-narrow") != self.screen.has_class("-toggled"):
            self.screen.toggle_class("-toggled")

    def focus_lake(self) -> None:
        self._show_browse()
        self.lake.focus()

    def focus_warehouse(self) -> None:
        self._show_browse()
        self.warehouse.focus()

    def focus_pipeline(self) -> None:
        self.show_bottom(self.bottom.current or "log")
        self.pipeline.focus()

    def focus_log(self) -> None:
        """The log, or the preview when that is what the bottom pane shows."""
        self.show_bottom(self.bottom.current or "log")
        current = self.bottom.current
        target: Widget
        if current == "log":
            target = self.log_view
        else:
            target = self.data_preview.grid if current == "data-preview" else self.screen.query_one(PreviewTable)
        target.focus()

    def focus_changed(self, widget: Widget) -> None:
        """The key bar offers a results viewer's keys while it has the focus."""
        in_viewer = any(isinstance(node, ResultsViewer) for node in widget.ancestors_with_self)
        self.screen.query_one(KeyBar).show_scopes(*(("results", "main") if in_viewer else ("main",)))
