"""The history's trends at 80×24 and the checks view with its offending rows opening in the SQL pane."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from textual.widgets import DataTable, Static

from etl_core.pipeline import run_pipeline
from support import Env, put_dataset
from tui.screens.checks import ChecksScreen
from tui.screens.history import HistoryScreen
from tui.screens.query import QueryScreen
from tui.widgets.history.trend_lines import TrendLines
from tui.widgets.history.trends import TrendsPanel
from tui_helpers import make_app, open_screen, settle, wait_until


def run_dated(env: Env, day: date, orders: int, product: int = 1) -> None:
    text = env.config_path.read_text()
    env.config_path.write_text(re.sub(r'ingestion_date = "[^"]*"', f'ingestion_date = "{day}"', text))
    put_dataset(
        env,
        orders=[(i, 1, "2022-01-03", product, 10, 1) for i in range(1, orders + 1)],
        reviews=[(5, 1)],
        shipments=[(1, 1, "2022-01-05", None)],
    )
    with env.open() as services:
        assert run_pipeline(services).status == "succeeded"


def three_dates(env: Env) -> None:
    """Runs of 1-3 September 2022 loading 10, 12 and 3 orders."""
    for n, orders in enumerate((10, 12, 3)):
        run_dated(env, date(2022, 9, 1) + timedelta(days=n), orders)


async def open_trends(pilot) -> TrendsPanel:
    """The history (h) opened from the main screen, and its trends panel."""
    await settle(pilot)
    screen = await open_screen(pilot, "h", HistoryScreen)
    return screen.query_one(TrendsPanel)


async def test_the_history_draws_a_trend_per_series_at_80x24(env: Env):
    three_dates(env)
    app = make_app(env)
    async with app.run_test(size=(80, 24)) as pilot:
        panel = await open_trends(pilot)
        await wait_until(pilot, lambda: bool(panel.drawn), what="the trends")
        series = {s.title: s for s in panel.drawn}
        assert series["orders rows"].values == [10.0, 12.0, 3.0]
        assert len(series["late shipments"].values) == 3
        assert {"staging duration", "export duration", "public-holiday orders"} <= set(series)
        drawn = panel.query_one(TrendLines)
        await pilot.pause()
        rows = [drawn.render_line(y).text for y in range(len(panel.drawn))]
        orders_line = rows[[s.title for s in panel.drawn].index("orders rows")]
        assert orders_line.startswith("orders rows") and orders_line.rstrip().endswith(" 3"), orders_line
        # 10, 12, 3: both the lowest and the highest bar
        assert set("▁█") <= set(orders_line) and len(orders_line) == drawn.size.width > 0, orders_line
        assert str(panel.border_title) == "Trends over 3 ingestion date(s)"
        assert not [plot for plot in panel.query("#trends-plot") if plot.display]  # below 120×40: sparklines only


async def test_the_history_plots_a_trend_with_axes_at_120x40(env: Env):
    pytest.importorskip("textual_plotext", reason="the plots extra (scripts/test.sh installs it)")
    from tui.widgets.history.trend_plot import TrendPlot

    three_dates(env)
    app = make_app(env)
    async with app.run_test(size=(120, 40)) as pilot:
        panel = await open_trends(pilot)
        await wait_until(pilot, lambda: bool(panel.query(TrendPlot)), what="the trend plot")
        plot = panel.query_one(TrendPlot)
        await pilot.pause()
        assert (
            plot.series is not None and plot.series.title == "orders rows" and plot.series.values == [10.0, 12.0, 3.0]
        )
        assert plot.display and plot.size.width > 30 and plot.size.height >= 10
        drawn = str(plot.render())
        assert "orders rows" in drawn and "2022-09-01" in drawn and "2022-09-03" in drawn, drawn
        assert "12" in drawn and "3" in drawn, drawn  # the y axis spans the values
        await pilot.press("p")
        await pilot.pause()
        assert plot.series.title == panel.drawn[1].title and plot.series.title in str(plot.render())


async def test_the_checks_view_shows_each_run_and_opens_the_offending_rows(env: Env):
    run_dated(env, date(2022, 9, 1), 4)
    run_dated(env, date(2022, 9, 2), 4, product=99)  # product 99 is unknown: orders_product_known does not pass
    app = make_app(env)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("C")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, ChecksScreen), (app.focused, [n.message for n in app._notifications])
        grid = screen.query_one("#checks-grid", DataTable)
        await wait_until(pilot, lambda: grid.row_count > 0, what="the checks grid")
        assert [str(c.label) for c in grid.columns.values()] == ["Check", "#2", "#1"]
        row = screen.checks.index("orders_product_known")
        assert [str(cell) for cell in grid.get_row_at(row)][1:] == ["✘", "✔"]
        grid.move_cursor(row=row, column=1)
        await pilot.pause()
        sample = str(screen.query_one("#checks-sample", Static).render())
        assert "offending rows (4 kept): 1, 2, 3, 4" in sample
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, QueryScreen), what="the SQL pane")
        await settle(pilot)
        editor_text = app.screen.query_one("TextArea").text  # type: ignore[attr-defined]
        assert f"FROM {env.user_id}_staging.orders WHERE order_id = ANY(ARRAY['1','2','3','4']" in editor_text


async def test_the_export_preview_says_what_the_export_changes(env: Env, exported_keys):
    from tui.screens.export_preview import ExportPreviewScreen

    run_dated(env, date(2022, 9, 1), 4)  # exported once
    put_dataset(
        env,
        orders=[(i, 1, "2022-01-03", 1, 10, 1) for i in range(1, 5)],
        reviews=[(5, 1)],
        shipments=[(1, 1, "2022-01-20", None)],  # shipped 17 days after the order, not delivered: late
    )
    app = make_app(env)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("r")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, ExportPreviewScreen)
        shipments = next(p for p in screen.previews if p.table == "agg_shipments")
        assert shipments.changes is not None
        assert shipments.changes.lines() == [
            "agg_shipments: 0 row(s) added, 0 removed, 1 changed, 0 unchanged",
            "agg_shipments 2022-09-01: tt_late_shipments 0 → 1",
        ]
        shown = [str(w.render()) for w in screen.query(".export-changes")]
        assert any("tt_late_shipments 0 → 1" in text for text in shown)


async def test_the_history_filters_by_status_and_opens_a_runs_log(env: Env):
    run_dated(env, date(2022, 9, 1), 4)
    env.put("orders.csv", "order_id,customer_id\n1,1\n")
    with env.open() as services:
        failed = run_pipeline(services)
    assert failed.status == "failed"
    app = make_app(env)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("h")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, HistoryScreen)
        runs = screen.query_one("#history-runs", DataTable)
        await wait_until(pilot, lambda: runs.row_count == 2, what="two runs")
        await pilot.press("f")  # failed only
        assert runs.row_count == 1 and str(runs.get_row_at(0)[0]) == f"#{failed.run_id}"
        assert str(runs.border_title) == "Runs (failed: 1 of 2)"
        await pilot.press("f")  # succeeded only
        assert runs.row_count == 1 and str(runs.get_row_at(0)[0]) != f"#{failed.run_id}"
        for _ in range(3):  # cancelled, abandoned, then all again
            await pilot.press("f")
        assert runs.row_count == 2
        runs.move_cursor(row=0)
        await pilot.press("o")  # headless: no terminal to hand over, so it names the log instead
        await pilot.pause()
        messages = [n.message for n in app._notifications]
        assert any(str(failed.log_file) in m for m in messages), messages
