"""All the trends in one widget: a line per series, its title, a sparkline of its points and its last value.

One widget draws every line as a strip of rich segments (a run of equal bars is one segment), because a widget per
line and cell, or a rich Text with Textual's sparkline renderable, made 365 dates over 13 series take
far longer than the 50 ms a redraw may take (bench/workers/trends.py measures it).
"""

from __future__ import annotations

from collections.abc import Callable
from itertools import groupby
from typing import ClassVar

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from textual.geometry import Size
from textual.renderables._blend_colors import blend_colors
from textual.strip import Strip
from textual.widget import Widget

from etl_core.trends import Series

TITLE_WIDTH = 30
VALUE_WIDTH = 12
BARS = "▁▂▃▄▅▆▇█"


def last_value(series: Series, seconds: Callable[[float], str]) -> str:
    if series.last is None:
        return "–"
    value = series.last
    if series.unit == "s":
        return seconds(value)
    return f"{value:,.0f}" if value == int(value) else f"{value:,.2f}"


def fitted(text: str, width: int) -> str:
    """`text` in at most `width` cells, ending with "…" when cut."""
    return text if cell_len(text) <= width else set_cell_size(text, width - 1) + "…"


def bar_levels(values: list[float], width: int) -> list[int]:
    """One bar per column (0 lowest to 7 highest): the largest value of the dates that fall in that column."""
    if not values:
        return []
    low, high = min(values), max(values)
    extent = (high - low) or 1.0
    count = len(values)
    levels = []
    for column in range(width):
        first = column * count // width
        last = max(first + 1, (column + 1) * count // width)
        levels.append(int((max(values[first:last]) - low) / extent * (len(BARS) - 1)))
    return levels


class TrendLines(Widget):
    """Draws `series` (set by `show`), one line each; the sparkline takes the width the title and value leave."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {"trend-lines--max-color", "trend-lines--min-color"}
    DEFAULT_CSS = """
    TrendLines { height: auto; }
    TrendLines > .trend-lines--max-color { color: $primary; }
    TrendLines > .trend-lines--min-color { color: $primary 30%; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.series: list[Series] = []
        self.seconds: Callable[[float], str] = str
        self._strips: list[Strip] = []
        self._strips_width = -1

    def show(self, series: list[Series], seconds: Callable[[float], str]) -> None:
        self.series, self.seconds = series, seconds
        self._strips_width = -1  # drawn again at the next render
        self.refresh(layout=True)

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return len(self.series)

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        if self._strips_width != width:
            self._strips, self._strips_width = self._draw(width), width
        return self._strips[y] if y < len(self._strips) else Strip.blank(width, self.rich_style)

    def _draw(self, width: int) -> list[Strip]:
        base = self.rich_style
        _, background = self.background_colors
        low = (background + self.get_component_styles("trend-lines--min-color").color).rich_color
        high = (background + self.get_component_styles("trend-lines--max-color").color).rich_color
        styles = [base + Style(color=blend_colors(low, high, level / (len(BARS) - 1))) for level in range(len(BARS))]
        spark_width = max(1, width - TITLE_WIDTH - VALUE_WIDTH)
        strips = []
        for series in self.series:
            segments = [Segment(set_cell_size(fitted(series.title, TITLE_WIDTH - 1), TITLE_WIDTH), base)]
            for level, run in groupby(bar_levels(series.values, spark_width)):
                segments.append(Segment(BARS[level] * len(list(run)), styles[level]))
            segments.append(Segment(last_value(series, self.seconds).rjust(VALUE_WIDTH), base))
            strips.append(Strip(segments).adjust_cell_length(width, base))
        return strips
