"""The `:` SQL pane on the real warehouse: a query and its paged result, a refused write, cancel, errors, history."""

from __future__ import annotations

from inspect_helpers import (
    BIG_ROWS,
    make_big_table,
    open_query_pane,
    preview_object,
    run_in_pane,
    screen_text_of,
    shown_rows,
)
from support import Env
from tui.screens.query_history import QueryHistoryScreen
from tui_helpers import GOOD_ORDERS, SIZE, make_app, settle, wait_until


async def test_a_query_runs_with_ctrl_j_and_its_result_pages_below(env):
    schema = make_big_table(env)
    app = make_app(env)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = await open_query_pane(pilot, app)
        await run_in_pane(
            pilot, screen, f"SELECT 1;\nSELECT id, kind, amount FROM {schema}.events\nWHERE amount < 10 ORDER BY id"
        )
        viewer = screen.results
        expected = env.query(f'SELECT id, kind, amount FROM "{schema}".events WHERE amount < 10 ORDER BY id')
        assert viewer.grid.total_rows == len(expected) == 1000
        assert [c.name for c in viewer.grid.columns] == ["id", "kind", "amount"]
        assert [c.type_name for c in viewer.grid.columns] == ["integer", "text", "integer"]
        assert shown_rows(viewer, 0, 3) == expected[:3]
        assert "rows 1–" in screen_text_of(app) and "of 1,000" in screen_text_of(app)
        # the last row: End in the result fetches its page from the held cursor
        viewer.grid.focus()
        await pilot.press("end")
        await wait_until(pilot, lambda: viewer.grid.row(999) is not None, what="the last page")
        assert viewer.grid.row(999) == expected[999]
        # the statement under the cursor ran, not the first one; it is in the history
        assert app.workbench is not None
        entries = app.workbench.history.entries()
        assert entries[-1].text.startswith("SELECT id, kind, amount") and entries[-1].rows == 1000


async def test_a_write_is_refused_as_read_only_and_changes_nothing(env):
    schema = make_big_table(env)
    app = make_app(env)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = await open_query_pane(pilot, app)
        await run_in_pane(pilot, screen, f"DELETE FROM {schema}.events WHERE id < 100")
        status = screen_text_of(app)
        assert "read-only" in status and "DELETE" in status, status
        await run_in_pane(pilot, screen, f"WITH d AS (DELETE FROM {schema}.events RETURNING *) SELECT * FROM d")
        assert "read-only" in screen_text_of(app)
    assert env.query(f'SELECT count(*) FROM "{schema}".events') == [(BIG_ROWS,)]


async def test_a_long_query_is_cancelled_with_ctrl_g_and_esc_and_the_pane_stays_usable(env):
    app = make_app(env)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = await open_query_pane(pilot, app)
        for key in ("ctrl+g", "escape"):
            await run_in_pane(pilot, screen, "SELECT pg_sleep(60)", wait=False)
            await wait_until(pilot, lambda: _sleeping(env) > 0, what="pg_sleep to run on the server")
            await pilot.press(key)
            await wait_until(pilot, lambda: not screen.running, what="the cancel", timeout=20)
            assert "cancelled" in screen_text_of(app)
            assert app.screen is screen  # Esc while running cancels; it does not leave the pane
        await wait_until(pilot, lambda: _sleeping(env) == 0, what="pg_sleep to end")
        await run_in_pane(pilot, screen, "SELECT 41 + 1 AS answer")
        assert screen.results.grid.row(0) == (42,)
        await pilot.press("escape")  # nothing runs: back to the main screen
        await pilot.pause()
        assert app.screen is app.main


def _sleeping(env: Env) -> int:
    """Backends running the pane's pg_sleep (its text is declared as a cursor)."""
    count: int = env.query(
        "SELECT count(*) FROM pg_stat_activity WHERE query LIKE %s AND state = 'active' AND pid <> pg_backend_pid()",
        ("%CURSOR WITH HOLD FOR SELECT pg_sleep(60)%",),
    )[0][0]
    return count


async def test_an_error_is_said_in_the_pane_and_its_place_selected_in_the_editor(env):
    app = make_app(env)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = await open_query_pane(pilot, app)
        await run_in_pane(pilot, screen, "SELECT 1;\nSELECT id,\n       nosuchcolumn FROM (VALUES (1)) AS t(id)")
        shown = screen_text_of(app)
        assert 'column "nosuchcolumn" does not exist (line 3, column 8)' in shown, shown
        selection = screen.editor.selected_text
        assert selection == "nosuchcolumn", selection


async def test_the_history_recalls_a_past_query_into_the_editor(env):
    app = make_app(env)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = await open_query_pane(pilot, app)
        await run_in_pane(pilot, screen, "SELECT 'first' AS q")
        await run_in_pane(pilot, screen, "SELECT 'second' AS q")
        screen.editor.text = ""
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: isinstance(app.screen, QueryHistoryScreen), what="the history")
        await pilot.press("down", "enter")  # newest first: the second entry is the first query
        await pilot.pause()
        assert app.screen is screen and screen.editor.text == "SELECT 'first' AS q"


async def test_values_and_names_from_the_warehouse_are_shown_literally_at_80_by_24(env):
    app = make_app(env)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        screen = await open_query_pane(pilot, app)
        await run_in_pane(
            pilot,
            screen,
            "SELECT '[red]x[/red]' AS \"[b]h\", E'a\\x1b[31mb\\nc' AS esc, '[link=https://e.x]y[/link]' AS l",
        )
        assert screen.results.grid.row(0) == ("[red]x[/red]", "a\x1b[31mb\nc", "[link=https://e.x]y[/link]")
        shown = screen_text_of(app)
        # markup as text; the escape and the line break as their pictures, so they cannot move the screen
        assert "[red]x[/red]" in shown and "[b]h" in shown and "a␛[31mb⏎c" in shown, shown
        assert "ctrl+j" in shown.lower() or "^j" in shown, shown  # the keys are still on screen at 80x24


async def test_with_the_warehouse_unreachable_the_pane_says_so_runs_nothing_and_the_lake_still_previews(make_env):
    env = make_env()
    env.put("orders.csv", GOOD_ORDERS)
    env.rewrite_config(url="postgresql://nobody@127.0.0.1:9/nowhere")
    app = make_app(env)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert app.services is not None and set(app.services.problems) == {"warehouse"}
        screen = await open_query_pane(pilot, app)
        shown = screen_text_of(app)
        assert "the warehouse is not reachable:" in shown and "127.0.0.1" in shown, shown
        await run_in_pane(pilot, screen, "SELECT 1", wait=False)
        await settle(pilot)
        assert not screen.running and screen.results.source is None  # nothing was tried
        assert "the warehouse is not reachable:" in screen_text_of(app)
        assert app.workbench is not None and app.workbench.history.entries() == []
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.screen is app.main, what="the main screen")
        # S3 does not need the warehouse: the object previews, its values checked by staging's own checks
        viewer = await preview_object(pilot, app, "orders_data/orders.csv")
        assert viewer.grid.total_rows == 3 and (viewer.grid.row(0) or ())[:3] == ("1", "1", "2022-01-03")
        assert viewer.opened is not None
        assert viewer.opened.warning == ""  # a clean sample: nothing flagged, and nothing left "not checked"
        assert app.is_running


async def test_without_a_reader_the_title_says_the_pane_runs_as_the_pipelines_superuser(env, monkeypatch):
    monkeypatch.delenv("D2B_QUERY_URL", raising=False)
    app = make_app(env)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = await open_query_pane(pilot, app)
        title = "as postgres (SUPERUSER, the pipeline's role: set D2B_QUERY_URL for a reader)"
        await wait_until(pilot, lambda: title in str(screen.query_one("#query-title").render()), what="the role")


async def test_a_typo_gets_postgres_syntax_error_once_placed_in_the_editor(env):
    app = make_app(env)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = await open_query_pane(pilot, app)
        await run_in_pane(pilot, screen, "SELECT 1;\nselec 1")
        shown = screen_text_of(app)
        assert 'syntax error at or near "selec" (line 2, column 1)' in shown, shown
        assert "refused" not in shown and shown.count("(line ") == 1, shown
        assert screen.editor.selected_text == "selec"
