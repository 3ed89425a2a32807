"""Trends of the run history in a bordered, scrollable panel: one line per series (drawn by TrendLines).

Given the series by its screen (`show`); it draws at every size from 80×24. With the `plots` extra
installed, a terminal of at least 120×40 and two dates or more, a line plot with axes of one series (the first, or the
one `plot_next` moved to) stands beside the lines.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Static

from etl_core.trends import Series
from tui.widgets.history.trend_lines import TrendLines

PLOT_SIZE = (120, 40)  # the smallest terminal (columns, lines) that shows the plot


def plots_installed() -> bool:
    """Whether the optional `plots` extra (textual-plotext, plotext) is installed."""
    return all(importlib.util.find_spec(name) is not None for name in ("textual_plotext", "plotext"))


class TrendsPanel(VerticalScroll):
    """Empty until `show` is called with the series (the history screen loads them)."""

    DEFAULT_CSS = """
    TrendsPanel { height: auto; max-height: 45%; border: round $primary-darken-2; }
    TrendsPanel #trends-empty { display: none; }
    TrendsPanel.-empty #trends-empty { display: block; }
    TrendsPanel #trends-body { height: auto; }
    TrendsPanel #trends-lines { width: 1fr; }
    TrendsPanel #trends-plot { width: 45%; }
    """

    drawn: list[Series]  # the series the last `show` drew (those with points)

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.drawn = []
        self.plotted = 0  # index in `drawn` of the plotted series

    def compose(self) -> ComposeResult:
        yield Static(Text("No successful run yet: trends appear after the first.", style="dim"), id="trends-empty")
        with Horizontal(id="trends-body"):
            yield TrendLines(id="trends-lines")

    def on_mount(self) -> None:
        self.border_title = "Trends per ingestion date (loading …)"

    def show(self, series: list[Series], seconds: Callable[[float], str]) -> None:
        """Draw `series`; `seconds` formats a duration (the console's clock, which tests hold still)."""
        self.drawn = [s for s in series if s.points]
        dates = len({day for s in self.drawn for day, _value in s.points})
        self.border_title = f"Trends over {dates} ingestion date(s)"
        self.set_class(not self.drawn, "-empty")
        self.query_one(TrendLines).show(self.drawn, seconds)
        self._plot()

    def plot_next(self) -> None:
        """Plot the next series (when the plot is shown)."""
        self.plotted += 1
        self._plot()

    def on_resize(self) -> None:
        self._plot()

    def _plot(self) -> None:
        columns, lines = PLOT_SIZE
        dates = max((len(series.points) for series in self.drawn), default=0)  # one point makes no line
        wanted = dates >= 2 and self.app.size.width >= columns and self.app.size.height >= lines
        shown = self.query("#trends-plot")
        if not wanted or not plots_installed():
            shown.set(display=False)
            return
        from tui.widgets.history.trend_plot import TrendPlot  # the optional extra, imported only when installed

        if shown:
            plot = shown.first(TrendPlot)
            plot.display = True
        else:
            plot = TrendPlot(id="trends-plot")
            self.query_one("#trends-body").mount(plot)
        plot.plot(self.drawn[self.plotted % len(self.drawn)])
