"""Trends of the run history: one line per series, its title, a Sparkline of its points and its last value.

Given the series by its screen (`show`); it draws at every size from 80×24: the sparkline takes the
width that the title and the value leave.
"""

from __future__ import annotations

from collections.abc import Callable

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Label, Sparkline, Static

from etl_core.trends import Series


def last_value(series: Series, seconds: Callable[[float], str]) -> str:
    if series.last is None:
        return "–"
    value = series.last
    if series.unit == "s":
        return seconds(value)
    return f"{value:,.0f}" if value == int(value) else f"{value:,.2f}"


class TrendLine(Horizontal):
    def __init__(self, series: Series, seconds: Callable[[float], str]) -> None:
        super().__init__(classes="trend-line")
        self.series = series
        self.seconds = seconds

    def compose(self) -> ComposeResult:
        first, last = (self.series.points[0][0], self.series.points[-1][0]) if self.series.points else (None, None)
        yield Label(Text(self.series.title), classes="trend-title")
        yield Sparkline(self.series.values, summary_function=max, classes="trend-spark")
        shown = Text(last_value(self.series, self.seconds), justify="right")
        yield Label(shown, classes="trend-last")
        if first is not None:
            self.tooltip = f"{self.series.title}: {len(self.series.points)} dates, {first} to {last}"


class TrendsPanel(VerticalScroll):
    """Empty until `show` is called with the series (the history screen loads them)."""

    DEFAULT_CSS = """
    TrendsPanel { height: auto; max-height: 45%; border: round $primary-darken-2; }
    TrendsPanel .trend-line { height: 1; }
    TrendsPanel .trend-title { width: 30; }
    TrendsPanel .trend-spark { width: 1fr; height: 1; }
    TrendsPanel .trend-last { width: 12; }
    """

    def on_mount(self) -> None:
        self.border_title = "Trends per ingestion date (loading …)"

    def show(self, series: list[Series], seconds: Callable[[float], str]) -> None:
        """Draw `series`; `seconds` formats a duration (the console's clock, which tests hold still)."""
        self.remove_children()
        drawn = [s for s in series if s.points]
        dates = len({day for s in drawn for day, _value in s.points})
        self.border_title = f"Trends over {dates} ingestion date(s)"
        if not drawn:
            self.mount(Static(Text("No successful run yet: trends appear after the first.", style="dim")))
            return
        self.mount_all(TrendLine(s, seconds) for s in drawn)
