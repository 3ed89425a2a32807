"""Profiles whose numbers the test computes itself; copy to the clipboard; save a table and a result to CSV."""

from __future__ import annotations

import csv
from typing import Any

from textual.widgets import Input

from inspect_helpers import (
    BIG_ROWS,
    make_big_table,
    open_query_pane,
    preview_object,
    preview_table,
    run_in_pane,
    screen_text_of,
)
from tui.screens.confirm import ConfirmScreen
from tui.screens.profile import ProfileScreen
from tui.screens.save_csv import SaveScreen
from tui_helpers import SIZE, make_app, settle, wait_until


def profile_top(screen: ProfileScreen) -> list[Any]:
    assert screen.profile is not None
    return list(screen.profile.top)


async def profile_of(pilot, app, column: int) -> ProfileScreen:
    viewer = app.main.panes.data_preview if app.screen is app.main else app.screen.results
    viewer.grid.focus()
    viewer.grid.move_cursor(0, column)
    await pilot.press("F")
    await wait_until(pilot, lambda: isinstance(app.screen, ProfileScreen), what="the profile screen")
    screen = app.screen
    assert isinstance(screen, ProfileScreen)
    await wait_until(pilot, lambda: screen.profile is not None or bool(screen.error), what="the profile", timeout=60)
    await pilot.pause()
    return screen


async def test_a_table_profile_is_computed_over_every_row(env):
    schema = make_big_table(env)
    app = make_app(env)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await preview_table(pilot, app, schema, "events")
        screen = await profile_of(pilot, app, 3)  # note: NULL every tenth row
        profile = screen.profile
        assert profile is not None
        ((rows, nulls, distinct, low, high),) = env.query(
            f"SELECT count(*), count(*) - count(note), count(DISTINCT note), min(note), max(note) "
            f'FROM "{schema}".events'
        )
        assert (
            (profile.rows, profile.nulls, profile.distinct, profile.min_value, profile.max_value)
            == (rows, nulls, distinct, low, high)
            == (BIG_ROWS, BIG_ROWS // 10, BIG_ROWS - BIG_ROWS // 10, low, high)
        )
        assert profile.top[0].value is None and profile.top[0].count == nulls and profile.top[0].share == 0.1
        shown = screen_text_of(app)
        assert f"all {BIG_ROWS:,} rows of {schema}.events" in shown and "SQL over the table" in shown, shown
        await pilot.press("escape")
        screen = await profile_of(pilot, app, 1)  # kind: seven values
        expected = env.query(f'SELECT kind, count(*) FROM "{schema}".events GROUP BY kind ORDER BY 2 DESC, 1')
        assert [(v.value, v.count) for v in profile_top(screen)] == expected
        assert "14.3%" in screen_text_of(app)


async def test_a_query_result_and_an_s3_sample_are_profiled_and_say_over_what(env):
    app = make_app(env)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        pane = await open_query_pane(pilot, app)
        await run_in_pane(pilot, pane, "SELECT g % 3 AS r FROM generate_series(1, 10) AS g")
        screen = await profile_of(pilot, app, 0)
        assert screen.profile is not None and (screen.profile.rows, screen.profile.distinct) == (10, 3)
        assert [(v.value, v.count) for v in profile_top(screen)] == [(1, 4), (0, 3), (2, 3)]
        assert "all 10 rows of the query result" in screen_text_of(app)
        await pilot.press("escape")
        await pilot.press("escape")  # back to the main screen
        await preview_object(pilot, app, "orders_data/orders.csv")
        screen = await profile_of(pilot, app, 3)  # product_id: 1, 2, 1
        assert [(v.value, v.count) for v in profile_top(screen)] == [(1, 2), (2, 1)]
        shown = screen_text_of(app)
        assert "all 3 rows of s3://" in shown and "pandas over the ranged sample" in shown, shown


SENT = "sent to the terminal's clipboard (OSC 52); if nothing pastes, see docs/TUI.md"


async def test_y_copies_the_cell_and_shift_y_the_row_as_csv(env):
    app = make_app(env)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        pane = await open_query_pane(pilot, app)
        await run_in_pane(pilot, pane, "SELECT 7 AS n, 'a, \"quoted\" [b]text[/b]' AS t, NULL::int AS x")
        grid = pane.results.grid
        grid.focus()
        grid.move_cursor(0, 1)
        await pilot.press("y")
        assert app.clipboard == 'a, "quoted" [b]text[/b]'
        await pilot.press("Y")
        assert app.clipboard == '7,"a, ""quoted"" [b]text[/b]",'
        assert next(csv.reader([app.clipboard])) == ["7", 'a, "quoted" [b]text[/b]', ""]
        # it cannot know that the terminal took it: it says what it did, never "copied"
        said = [(n.title, n.message) for n in app._notifications]
        assert ("cell sent to the clipboard", 't: a, "quoted" [b]text[/b]\n' + SENT) in said, said
        assert any(title == "row sent to the clipboard" and message.endswith(SENT) for title, message in said), said
        assert not any("copied" in title + message for title, message in said), said


async def save_to(pilot, app, path) -> SaveScreen:
    await pilot.press("S")
    await wait_until(pilot, lambda: isinstance(app.screen, SaveScreen), what="the save dialog")
    screen = app.screen
    assert isinstance(screen, SaveScreen)
    screen.query_one(Input).value = str(path)
    await pilot.press("enter")
    return screen


async def test_save_writes_every_row_and_asks_before_overwriting(env, tmp_path):
    schema = make_big_table(env)
    app = make_app(env)
    target = tmp_path / "events.csv"
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        viewer = await preview_table(pilot, app, schema, "events")
        viewer.grid.focus()
        screen = await save_to(pilot, app, target)
        await wait_until(pilot, lambda: app.screen is not screen, what="the save", timeout=120)
        with target.open(newline="") as f:
            saved = list(csv.reader(f))
        expected = env.query(f'SELECT e.id::text, kind, amount::text, note FROM "{schema}".events AS e ORDER BY e.id')
        assert saved[0] == ["id", "kind", "amount", "note"]
        assert [tuple(None if v == "" else v for v in row) for row in saved[1:]] == expected
        assert any(n.title == "saved" and f"{BIG_ROWS:,} rows" in n.message for n in app._notifications)
        # again to the same path: asked first; "n" keeps the file as it was
        before = target.read_bytes()
        screen = await save_to(pilot, app, target)
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="the overwrite question")
        await pilot.press("n")
        await pilot.pause()
        assert app.screen is screen and "not overwritten" in screen_text_of(app)
        assert target.read_bytes() == before
        await pilot.press("escape")
        # a query result: its own rows, all of them
        pane = await open_query_pane(pilot, app)
        await run_in_pane(pilot, pane, f"SELECT id, amount FROM {schema}.events WHERE kind = 'kind 3' ORDER BY id")
        pane.results.grid.focus()
        result_file = tmp_path / "result.csv"
        screen = await save_to(pilot, app, result_file)
        await wait_until(pilot, lambda: app.screen is not screen, what="the save", timeout=120)
        with result_file.open(newline="") as f:
            rows = list(csv.reader(f))[1:]
        assert [(int(a), int(b)) for a, b in rows] == env.query(
            f"SELECT id, amount FROM \"{schema}\".events WHERE kind = 'kind 3' ORDER BY id"
        )
