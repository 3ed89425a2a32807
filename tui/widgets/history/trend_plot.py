"""One trend as a line plot with axes (the optional `plots` extra: textual-plotext); imported only when installed.

The dates on the x axis (up to TICKS of them labelled, ISO), the values on the y axis, the title above.
"""

from __future__ import annotations

from textual_plotext import PlotextPlot

from etl_core.trends import Series

TICKS = 4


class TrendPlot(PlotextPlot):
    DEFAULT_CSS = "TrendPlot { width: 1fr; height: 14; }"

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.series: Series | None = None

    def plot(self, series: Series) -> None:
        self.series = series
        plt = self.plt
        plt.clear_data()
        plt.clear_figure()
        # Positions, not plotext dates: its own date ticks fall between days and repeat a date.
        last = len(series.points) - 1
        plt.plot(list(range(last + 1)), series.values, marker="braille")
        ticks = sorted({round(i * last / (TICKS - 1)) for i in range(TICKS)})
        plt.xticks([float(i) for i in ticks], [series.points[i][0].isoformat() for i in ticks])
        unit = {"s": " (seconds)", "rows": ""}.get(series.unit, "")
        plt.title(f"{series.title}{unit}")
        self.refresh()
