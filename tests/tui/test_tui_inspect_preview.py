"""Table and S3 previews through the results viewer: key order, paging 100,000 rows, sort and filter on the server."""

from __future__ import annotations

import json

from inspect_helpers import (
    BIG_ROWS,
    make_big_table,
    preview_object,
    preview_table,
    reloaded,
    screen_text_of,
    shown_rows,
)
from support import run_without_pandas
from tui.screens.filter_prompt import FilterPrompt
from tui.widgets.chrome.key_bar import KeyBar
from tui.widgets.inspect.results_grid import KEEP_PAGES
from tui_helpers import BAD_ORDERS, SIZE, make_app, settle, wait_until


async def test_a_table_previews_in_key_order_and_pages_through_100000_rows(env):
    schema = make_big_table(env)  # inserted in descending id order: the heap order is not the key order
    app = make_app(env)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        viewer = await preview_table(pilot, app, schema, "events")
        grid = viewer.grid
        assert grid.total_rows == BIG_ROWS
        assert [(c.name, c.type_name, c.key) for c in grid.columns][:2] == [
            ("id", "integer", True),
            ("kind", "text", False),
        ]
        assert shown_rows(viewer, 0, 3) == env.query(f'SELECT * FROM "{schema}".events ORDER BY id LIMIT 3')
        shown = screen_text_of(app)
        assert "of 100,000" in shown and "ordered by id (primary key)" in shown, shown
        grid.focus()
        for _ in range(30):  # page down across several pages of the held cursor
            await pilot.press("pagedown")
        await wait_until(pilot, lambda: grid.row(grid.cursor_row) is not None, what="the page under the cursor")
        assert grid.cursor_row > 600 and (grid.row(grid.cursor_row) or ())[0] == grid.cursor_row + 1
        await pilot.press("end")
        await wait_until(pilot, lambda: grid.row(BIG_ROWS - 1) is not None, what="the last page")
        assert (grid.row(BIG_ROWS - 1) or ())[0] == BIG_ROWS
        last_rows = f"rows {BIG_ROWS - grid.size.height + 3:,}–{BIG_ROWS:,} of {BIG_ROWS:,}"
        await wait_until(pilot, lambda: last_rows in screen_text_of(app), what="the caption of the last rows")
        # memory stays bounded: a few pages in the grid, a window of pages in the core
        assert len(grid.held_pages) <= KEEP_PAGES
        assert viewer.opened is not None
        assert len(viewer.opened.rows.cached_pages) <= viewer.opened.rows.window_pages


async def test_sort_and_filter_run_on_the_server(env):
    schema = make_big_table(env)
    app = make_app(env)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        viewer = await preview_table(pilot, app, schema, "events")
        viewer.grid.focus()
        viewer.grid.move_cursor(0, 2)  # amount
        await reloaded(pilot, viewer, "right_square_bracket")
        expected = env.query(f'SELECT * FROM "{schema}".events ORDER BY amount DESC, id LIMIT 5')
        assert shown_rows(viewer, 0, 5) == expected and viewer.grid.total_rows == BIG_ROWS
        assert "amount descending" in screen_text_of(app)
        await reloaded(pilot, viewer, "left_square_bracket")
        assert shown_rows(viewer, 0, 5) == env.query(f'SELECT * FROM "{schema}".events ORDER BY amount, id LIMIT 5')
        # / then Enter: rows where the selected cell's column equals its value (here amount = 0)
        viewer.grid.move_cursor(0, 1)  # kind of the first row
        kind = (viewer.grid.row(0) or ())[1]
        await pilot.press("slash")
        await wait_until(pilot, lambda: isinstance(app.screen, FilterPrompt), what="the filter prompt")
        await reloaded(pilot, viewer, "enter")
        expected = env.query(f'SELECT * FROM "{schema}".events WHERE kind = %s ORDER BY amount, id', (kind,))
        assert viewer.grid.total_rows == len(expected) and shown_rows(viewer, 0, 5) == expected[:5]
        # a typed condition on top of it
        await pilot.press("slash")
        await wait_until(pilot, lambda: isinstance(app.screen, FilterPrompt), what="the filter prompt")
        await pilot.press(*"note IS NULL AND amount > 900")
        await reloaded(pilot, viewer, "enter")
        expected = env.query(
            f'SELECT * FROM "{schema}".events WHERE kind = %s AND note IS NULL AND amount > 900 ORDER BY amount, id',
            (kind,),
        )
        assert 0 < viewer.grid.total_rows == len(expected) and shown_rows(viewer, 0, 5) == expected[:5]
        assert "where kind = " in screen_text_of(app)
        # a condition that is not one expression is refused with its place; the view stays as it was
        total = viewer.grid.total_rows
        await pilot.press("slash")
        await wait_until(pilot, lambda: isinstance(app.screen, FilterPrompt), what="the filter prompt")
        await pilot.press(*"1=1) OR (1=1")
        await reloaded(pilot, viewer, "enter")
        assert viewer.error and viewer.grid.total_rows == 0 and total > 0
        # \ removes every filter
        await reloaded(pilot, viewer, "backslash")
        assert viewer.grid.total_rows == BIG_ROWS


async def test_an_s3_object_shows_pandas_and_staging_types_and_flags_values_that_would_not_load(env):
    env.put("orders.csv", BAD_ORDERS)
    app = make_app(env)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        viewer = await preview_object(pilot, app, "orders_data/orders.csv")
        heads = {c.name: c for c in viewer.grid.columns}
        assert heads["order_id"].type_name == "int64 → integer"
        assert heads["order_date"].type_name.endswith("→ date") and heads["order_date"].bad_values == 1
        assert viewer.grid.bad_cells == {(1, 2): viewer.grid.bad_cells[(1, 2)]}  # row 2, order_date
        shown = screen_text_of(app)
        assert "line 3, order_date '2022-13-45': date/time field value out of range" in shown, shown
        assert viewer.opened is not None
        assert viewer.opened.warning.endswith("1 value of the sample would not load into orders")
        assert "int64 → integer" in shown
        # sort in memory over the sample, numbers as numbers
        viewer.grid.focus()
        viewer.grid.move_cursor(0, 4)  # unit_price: 100, 50, 10
        await reloaded(pilot, viewer, "left_square_bracket")
        assert [(row or ())[4] for row in shown_rows(viewer, 0, 3)] == ["10", "50", "100"]


async def test_the_key_bar_offers_the_viewers_keys_while_it_has_the_focus(env):
    app = make_app(env)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        keys = app.main.query_one(KeyBar)
        names = [spec.name for spec in keys.shown(120)]
        assert names[:6] == ["run_all", "cancel_run", "retry_failed", "toggle_browse", "export_preview", "open_query"]
        assert ": queries the warehouse" in screen_text_of(app)  # at 80 columns the key bar has no room for it
        await pilot.press("b")  # the trees, hidden below 110 columns
        viewer = await preview_object(pilot, app, "orders_data/orders.csv")
        viewer.grid.focus()
        await pilot.pause()
        names = [spec.name for spec in keys.shown(80)]
        assert names[:3] == ["sort_ascending", "sort_descending", "filter"] and "search_log" not in names
        footer = screen_text_of(app).splitlines()[-1]
        assert "[  Sort ↑" in footer and "/  Filter" in footer and "Search" not in footer, footer
        await pilot.press("3")  # the pipeline: the main screen's keys again, `/` searches the log
        await pilot.pause()
        assert "search_log" in [spec.name for spec in keys.ranked] and "filter" not in [s.name for s in keys.ranked]


def test_on_the_lean_install_an_s3_preview_types_and_checks_its_values_without_pandas(env, tmp_path):
    """pandas is an extra (d2b-console[profile]): without it the preview still shows rows, the staging types
    and the values that would not load; only pandas' inferred types are missing, and the caption says why."""
    env.put("orders.csv", BAD_ORDERS)
    code = (
        "import json\n"
        "from etl_core.config import load_config\n"
        "from etl_core.services import open_services\n"
        "from tui.inspect.sources import SampleSource\n"
        "from tui.inspect.workbench import Workbench\n"
        f"with open_services(load_config({str(env.config_path)!r})) as services:\n"
        "    workbench = Workbench(services)\n"
        f"    source = SampleSource(workbench, {env.bucket!r}, 'orders_data/orders.csv', sort=(4, False))\n"
        "    opened = source.open()\n"
        "    print(json.dumps({'heads': [c.type_name for c in opened.columns], 'rows': opened.rows.total_rows,\n"
        "                      'unit_prices': [row[4] for row in opened.rows.page(0).rows],\n"
        "                      'bad': sorted(map(list, opened.bad_cells)), 'warning': opened.warning}))\n"
        "    workbench.close()\n"
    )
    result = run_without_pandas(code, tmp_path, timeout=120)
    assert result.returncode == 0, result.stderr
    shown = json.loads(result.stdout)
    assert shown["heads"][:3] == ["→ integer", "→ integer", "→ date"]
    assert shown["rows"] == 3 and shown["unit_prices"] == ["10", "50", "100"]  # sorted as numbers, no pandas
    assert len(shown["bad"]) == 1 and "would not load into orders" in shown["warning"]
    assert "pandas is not installed (pip install 'd2b-console[profile]')" in shown["warning"]


async def test_the_first_value_that_would_not_load_is_named_by_its_line_at_80x24(env):
    env.put("orders.csv", BAD_ORDERS)
    app = make_app(env)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("b")  # the trees, hidden below 110 columns
        await preview_object(pilot, app, "orders_data/orders.csv")
        shown = screen_text_of(app)
        assert "line 3, order_date '2022-13-45': date/time field value out of range" in shown, shown
