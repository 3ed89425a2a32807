"""The trends' bars: one per column, the largest value of the dates falling in it, 0 (lowest) to 7 (highest)."""

from __future__ import annotations

from tui.widgets.history.trend_lines import bar_levels, fitted


def test_bars_stretch_few_dates_and_keep_the_peak_of_many():
    assert bar_levels([10.0, 12.0, 3.0], 6) == [5, 5, 7, 7, 0, 0]
    many = [0.0] * 100
    many[37] = 5.0  # one spike among 100 dates in 10 columns stays visible
    assert bar_levels(many, 10) == [0, 0, 0, 7, 0, 0, 0, 0, 0, 0]
    assert bar_levels([4.0, 4.0], 3) == [0, 0, 0]  # a flat line sits at the bottom
    assert bar_levels([], 5) == []


def test_long_titles_end_with_an_ellipsis():
    assert fitted("orders rows", 29) == "orders rows"
    assert fitted("x" * 40, 29) == "x" * 28 + "…"
