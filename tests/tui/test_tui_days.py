"""The Days view (`d`, issue 22 item 8): one row per ingestion date with its status, run, rows and inputs."""

from __future__ import annotations

from datetime import date, timedelta

from textual.widgets import DataTable

from helpers import assert_succeeded, run
from tui.screens.days import DaysScreen
from tui_helpers import SIZE, make_app, settle


async def test_days_lists_each_date_with_status_rows_inputs_and_stale(env):
    last = date.fromisoformat("2022-09-06")
    for day in (last - timedelta(days=2), last):  # the same files twice: the second date is stale
        env.rewrite_config(ingestion_date=day.isoformat())
        assert_succeeded(run(env))
    app = make_app(env)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("d")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, DaysScreen)
        table = screen.query_one("#days-table", DataTable)
        assert table.row_count == 30
        rows = {
            str(getattr(cells[0], "plain", cells[0])): [str(getattr(c, "plain", c)) for c in cells]
            for cells in (table.get_row_at(i) for i in range(table.row_count))
        }
        assert "stale" in rows["2022-09-06"][1] and rows["2022-09-06"][2] == "#2"
        assert "succeeded" in rows["2022-09-04"][1] and rows["2022-09-04"][2] == "#1"
        assert rows["2022-09-04"][3] == "9" and "orders_data/orders.csv" in rows["2022-09-04"][4]
        assert rows["2022-09-05"][1] == "missing" and rows["2022-09-05"][2] == ""
        await pilot.press("escape")
        assert not isinstance(app.screen, DaysScreen)
