"""The history screen's trends: how long 365 ingestion dates take to draw, with no services.

About 13 synthetic series of 365 points each (rows per source table, stage durations, analytics
values) are handed to a TrendsPanel mounted in a headless app; the time runs from the `show` call to
after the screen's next refresh (layout and compositor update), best and median of several rounds.
"""

from __future__ import annotations

import asyncio
import math
import statistics
import time
from datetime import date, timedelta
from typing import Any

from textual.app import App, ComposeResult

from bench.workers.protocol import emit
from etl_core.trends import Series
from tui.widgets.history.trend_lines import TrendLines
from tui.widgets.history.trends import TrendsPanel

DATES = 365
SERIES = 13
ROUNDS = 7


def synthetic_series(dates: int = DATES, count: int = SERIES) -> list[Series]:
    """`count` series with a weekly wave and a slow drift, so every sparkline has shape."""
    first = date(2025, 1, 1)
    out = []
    for index in range(count):
        unit = ("rows", "s", "")[index % 3]
        points = tuple(
            (first + timedelta(days=day), 1000.0 * (index + 1) + 300 * math.sin(day / 7 + index) + day)
            for day in range(dates)
        )
        out.append(Series(f"series {index + 1}", unit, points))
    return out


class TrendsApp(App[None]):
    def compose(self) -> ComposeResult:
        yield TrendsPanel()


def seconds(value: float) -> str:
    return f"{value:.1f}s"


async def _rounds(rounds: int, size: tuple[int, int]) -> tuple[list[float], list[float], bool]:
    """Wall and CPU seconds of each round (CPU time tells what the draw costs on a busy machine)."""
    series = synthetic_series()
    times, cpu, plotted = [], [], False
    app = TrendsApp()
    async with app.run_test(size=size) as pilot:
        panel = app.query_one(TrendsPanel)
        lines = panel.query_one(TrendLines)
        await pilot.pause()
        for _ in range(rounds):
            started, cpu_started = time.perf_counter(), time.process_time()
            panel.show(series, seconds)
            await lines.wait_for_refresh()  # after the screen's next refresh: laid out and drawn
            times.append(time.perf_counter() - started)
            cpu.append(time.process_time() - cpu_started)
            plotted = any(plot.display for plot in panel.query("#trends-plot"))
            if lines.size.height != len(series):
                raise SystemExit(f"the trends panel drew {lines.size.height} lines, not {len(series)}")
            panel.show([], seconds)  # back to empty: every round draws from scratch
            await pilot.pause()
    return times, cpu, plotted


def trends_draw(spec: dict[str, Any]) -> None:
    rounds = int(spec.get("rounds", ROUNDS))
    size = tuple(spec.get("size", (110, 48)))  # below 120 columns: the sparklines alone
    times, cpu, plotted = asyncio.run(_rounds(rounds, (size[0], size[1])))
    emit(
        {
            "dates": DATES,
            "series": SERIES,
            "rounds": rounds,
            "size": list(size),
            "plot": plotted,
            "best_ms": min(times) * 1000,
            "median_ms": statistics.median(times) * 1000,
            "all_ms": [t * 1000 for t in times],
            "cpu_median_ms": statistics.median(cpu) * 1000,
        }
    )
