"""Trends of the run history in a bordered, scrollable panel: one line per series (drawn by TrendLines).

Given the series by its screen (`show`); it draws at every size from 80×24.
"""

from __future__ import annotations

from collections.abc import Callable

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from etl_core.trends import Series
from tui.widgets.history.trend_lines import TrendLines


class TrendsPanel(VerticalScroll):
    """Empty until `show` is called with the series (the history screen loads them)."""

    DEFAULT_CSS = """
    TrendsPanel { height: auto; max-height: 45%; border: round $primary-darken-2; }
    TrendsPanel #trends-empty { display: none; }
    TrendsPanel.-empty #trends-empty { display: block; }
    """

    drawn: list[Series]  # the series the last `show` drew (those with points)

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.drawn = []

    def compose(self) -> ComposeResult:
        yield Static(Text("No successful run yet: trends appear after the first.", style="dim"), id="trends-empty")
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
