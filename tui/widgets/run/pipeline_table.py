"""The pipeline pane: one row per stage with status, start, elapsed/duration, rows and a progress bar."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import DataTable

from etl_core.pipeline import STAGES
from tui.clock import Clock
from tui.format import count
from tui.stage_view import GLYPHS, StageView

BAR_WIDTH = 14
NOTE_WIDTH = 14  # what the stage is on (a file, a table), after the bar
COLUMNS = (("glyph", " ", 1), ("stage", "Stage", 9), ("status", "Status", 9), ("started", "Started", 8),
           ("elapsed", "Elapsed", 8), ("rows", "Rows", 10), ("progress", "Progress", BAR_WIDTH + 5 + NOTE_WIDTH + 1))


def progress_bar(view: StageView, spin: int = 0) -> Text:
    bar = _bar(view, spin)
    if view.status == "running" and view.note:
        note = view.note if len(view.note) <= NOTE_WIDTH else view.note[: NOTE_WIDTH - 1] + "…"
        bar.append(" " + note, style="dim")
    return bar


def _bar(view: StageView, spin: int) -> Text:
    fraction = view.fraction
    if view.status == "running" and fraction is None:
        pos = spin % BAR_WIDTH
        cells = ["░"] * BAR_WIDTH
        for i in range(3):
            cells[(pos + i) % BAR_WIDTH] = "█"
        return Text("".join(cells) + "    ", style="yellow")
    if fraction is None:
        return Text("░" * BAR_WIDTH + "    ", style="dim")
    filled = round(fraction * BAR_WIDTH)
    style = {"succeeded": "green", "failed": "red", "cancelled": "magenta"}.get(view.status, "yellow")
    return Text.assemble(("█" * filled, style), ("░" * (BAR_WIDTH - filled), "dim"), f" {int(fraction * 100):>3}%")


class PipelineTable(DataTable):
    """Rows keyed by stage name; the app updates a row with `show(view)`."""

    def __init__(self, clock: Clock, **kwargs) -> None:
        super().__init__(cursor_type="row", zebra_stripes=False, **kwargs)
        self.clock = clock
        self._spin = 0

    def on_mount(self) -> None:
        for key, label, width in COLUMNS:
            self.add_column(label, key=key, width=width)
        for stage in STAGES:
            self.add_row(*self._cells(StageView(stage)), key=stage)

    def _cells(self, view: StageView) -> list:
        glyph, style = GLYPHS.get(view.status, ("?", ""))
        elapsed = view.elapsed(self.clock.monotonic())
        return [
            Text(glyph, style=style),
            Text(view.stage, style="bold"),
            Text(view.status, style=style),
            Text(self.clock.time(view.started_at), style="dim"),
            Text(self.clock.duration(elapsed), justify="right"),
            Text(count(view.rows), justify="right"),
            progress_bar(view, self._spin),
        ]

    def show(self, view: StageView) -> None:
        for (key, _label, _width), value in zip(COLUMNS, self._cells(view), strict=True):
            self.update_cell(view.stage, key, value)

    def tick(self, views: list[StageView]) -> None:
        """Refresh live elapsed times and the busy bars of running stages."""
        self._spin += 1
        for view in views:
            if view.status == "running":
                self.show(view)

    @property
    def selected_stage(self) -> str:
        return STAGES[max(0, min(self.cursor_row, len(STAGES) - 1))]

    def select_stage(self, stage: str) -> None:
        self.move_cursor(row=STAGES.index(stage))

    def row_text(self, stage: str) -> list[str]:
        """The plain text of a stage's row (tests, the tmux check)."""
        return [str(c.plain if isinstance(c, Text) else c) for c in self.get_row(stage)]
