"""The pipeline pane: one row per stage with status, start, elapsed/duration, rows and a progress bar.

Drawn for the pane's width, never scrolled sideways: at 80 columns every stage keeps its status,
rows and progress; the start and elapsed columns give way first. Status colours survive the
cursor (it only changes the background).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from rich.table import Table
from rich.text import Text
from textual.binding import Binding, BindingType
from textual.geometry import Size
from textual.reactive import reactive
from textual.widget import Widget

from etl_core.kinds import STAGE_NAMES as STAGES
from tui.format import count
from tui.stage_view import StageView, status_cell
from tui.status_style import GREEN, GREY, MAGENTA, RED, YELLOW

if TYPE_CHECKING:
    from etl_core.kinds import StageName
    from tui.clock import Clock

# Cell widths, spaces included: " analytics ", "? interrupted ", "09-05 14:02 ", "  12.34s", "  1,000,000 ".
WIDTHS = {"stage": 11, "status": 14, "started": 12, "elapsed": 9, "rows": 12}
LABELS = {
    "stage": " Stage",
    "status": "Status",
    "started": "Started",
    "elapsed": "Elapsed",
    "rows": "Rows ",
    "progress": " Progress",
}
PERCENT_W = 5  # " 100%"
MIN_BAR = 8
MAX_BAR = 30


def progress_bar(view: StageView, width: int, spin: int = 0) -> Text:
    """A bar of `width` cells and its percentage; a stage that stopped never reads 100%."""
    fraction = view.fraction
    if view.status == "running" and fraction is None:
        cells = ["░"] * width
        for i in range(3):
            cells[(spin + i) % width] = "█"
        return Text("".join(cells), style=YELLOW)
    if fraction is None:
        return Text("░" * width, style="dim")
    stopped = view.status in ("failed", "cancelled", "abandoned")
    percent = min(int(fraction * 100), 99) if stopped else int(fraction * 100)
    filled = min(int(fraction * width), width - 1) if stopped else int(fraction * width)
    style = {"succeeded": GREEN, "failed": RED, "cancelled": MAGENTA, "abandoned": RED}.get(view.status, YELLOW)
    return Text.assemble(("█" * filled, style), ("░" * (width - filled), "dim"), f" {percent:>3}%")


class StageTable(Widget, can_focus=True):
    """Rows keyed by stage name; the screen updates a row with `show(view)`."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {"stage-table--cursor"}
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up,k", "move(-1)", "Up", show=False),
        Binding("down,j", "move(1)", "Down", show=False),
    ]

    cursor: reactive[int] = reactive(0)

    def __init__(self, clock: Clock, **kwargs) -> None:
        super().__init__(**kwargs)
        self.clock = clock
        self.views: dict[str, StageView] = {stage: StageView(stage) for stage in STAGES}
        self._spin = 0

    def show(self, view: StageView) -> None:
        self.views[view.stage] = view
        self.refresh()

    def tick(self) -> None:
        """Refresh live elapsed times and the busy bars of running stages."""
        self._spin += 1
        if any(view.status == "running" for view in self.views.values()):
            self.refresh()

    @property
    def selected_stage(self) -> StageName:
        return STAGES[self.cursor]

    def select_stage(self, stage: str) -> None:
        self.cursor = STAGES.index(stage)

    def action_move(self, step: int) -> None:
        self.cursor = max(0, min(len(STAGES) - 1, self.cursor + step))

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return 1 + len(STAGES)

    @staticmethod
    def columns(width: int) -> list[str]:
        """The columns that fit `width`: stage, status, rows and progress always; start and elapsed if room."""
        shown = ["stage", "status", "started", "elapsed", "rows", "progress"]
        room = width - sum(WIDTHS.values()) - 1 - MIN_BAR - PERCENT_W
        for name in ("started", "elapsed"):  # the first to give way
            if room < 0:
                shown.remove(name)
                room += WIDTHS[name]
        return shown

    def cells(self, view: StageView, width: int) -> dict[str, Text]:
        shown = self.columns(width)
        room = width - sum(WIDTHS.get(name, 0) for name in shown) - 1  # the progress cell, after its space
        bar_width = max(MIN_BAR, min(MAX_BAR, room - PERCENT_W))
        bar = progress_bar(view, bar_width, self._spin)
        if view.status == "running" and view.note and room - bar.cell_len > 4:  # wide panes: what it is on
            bar.append(" " + view.note, style=GREY)
            bar.truncate(room, overflow="ellipsis")
        elapsed = view.elapsed(self.clock.monotonic())
        every = {
            "stage": Text.assemble(" ", (view.stage, "bold")),
            "status": status_cell(view.status, view.stale),
            "started": Text(self.clock.start(view.started_at), style=GREY),
            "elapsed": Text(self.clock.duration(elapsed)),
            "rows": Text(count(view.rows) + " "),
            "progress": Text.assemble(" ", bar),
        }
        return {name: every[name] for name in shown}

    def render(self) -> Table:
        width = self.content_region.width or self.size.width
        shown = self.columns(width)
        table = Table(box=None, padding=0, show_header=True, header_style="bold", expand=True, show_edge=False)
        for name in shown:
            table.add_column(
                LABELS[name],
                width=WIDTHS.get(name),
                no_wrap=True,
                overflow="ellipsis",
                justify="right" if name in ("elapsed", "rows") else "left",
                ratio=1 if name == "progress" else None,
            )
        cursor_style = self.get_component_rich_style("stage-table--cursor", partial=True)
        for index, stage in enumerate(STAGES):
            cells = self.cells(self.views[stage], width)
            style = cursor_style if index == self.cursor else None
            table.add_row(*(cells[name] for name in shown), style=style)
        return table

    def on_focus(self) -> None:
        self.refresh()

    def on_blur(self) -> None:
        self.refresh()

    def row_text(self, stage: str) -> list[str]:
        """The plain text of a stage's cells at the pane's width (tests, the tmux check)."""
        width = self.content_region.width or 120
        return [cell.plain.strip() for cell in self.cells(self.views[stage], width).values()]
