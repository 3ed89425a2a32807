"""The log for reading: follow and pause, End, search with next/previous, a separator per run, the failed-stage
filter lifted at the next run, re-wrapping on resize."""

from __future__ import annotations

from etl_core.events import LogLine
from tui.widgets.bottom.log_view import Entry, RunSeparator
from tui_helpers import BAD_ORDERS, GOOD_ORDERS, make_app, screen_text, settle

NARROW = (80, 24)


def lines(first: int, count: int) -> list[Entry]:
    return [LogLine(1, "staging", "INFO", f"line {i}") for i in range(first, first + count)]


async def test_scrolling_up_pauses_following_and_end_resumes(env):
    app = make_app(env)
    async with app.run_test(size=NARROW) as pilot:
        await settle(pilot)
        view, pane = app.main.panes.log_view, app.main.panes.log_pane
        view.add(lines(0, 200))
        await pilot.pause()
        assert view.following and view.scroll_y == view.max_scroll_y
        view.focus()
        await pilot.press("pageup")
        await pilot.pause()
        assert not view.following
        reading = view.scroll_y
        view.add(lines(200, 50))  # a run goes on writing
        await pilot.pause()
        assert view.scroll_y == reading and view.held == 50  # not pulled back to the bottom
        assert "paused: 50 new below · End follows" in str(pane.border_subtitle)
        await pilot.press("end")
        await pilot.pause()
        assert view.following and view.held == 0 and view.scroll_y == view.max_scroll_y
        assert "following" in str(pane.border_subtitle)
        assert "line 249" in screen_text(app)


async def test_slash_searches_and_n_and_shift_n_move_between_matches(env):
    app = make_app(env)
    async with app.run_test(size=NARROW) as pilot:
        await settle(pilot)
        view = app.main.panes.log_view
        view.add(lines(0, 300))
        await pilot.pause()
        await pilot.press("slash")
        await pilot.press(*"LINE 1")  # case-insensitive: line 1, line 10..19, line 100..199
        await pilot.press("enter")
        await pilot.pause()
        assert view.search_text == "LINE 1" and len(view.matches) == 1 + 10 + 100
        assert view.has_focus and not view.following
        last = len(view.matches) - 1
        assert view.match_index == last  # the newest match first
        shown = screen_text(app)
        assert "line 199" in shown and f"{last + 1}/{last + 1} for 'LINE 1' · n/N" in shown
        await pilot.press("n")  # after the last: the first
        await pilot.pause()
        assert view.match_index == 0 and "line 1 " in screen_text(app) + " "
        await pilot.press("N")
        await pilot.pause()
        assert view.match_index == last
        row = view._starts[view.matches[view.match_index]]
        assert view.scroll_y <= row < view.scroll_y + view.scrollable_content_region.height  # on screen


async def test_the_log_rewraps_when_the_terminal_changes_size(env):
    app = make_app(env)
    async with app.run_test(size=(200, 40)) as pilot:
        await settle(pilot)
        view = app.main.panes.log_view
        tail = "the end of a long line"
        view.add([LogLine(1, "export", "INFO", "x" * 120 + " " + tail)])
        await pilot.pause()
        wide_rows = len(view._rows)
        await pilot.resize_terminal(*NARROW)
        await pilot.pause()
        assert len(view._rows) > wide_rows  # wrapped again, not cut
        assert tail in screen_text(app)
        assert max(row.cell_len for row in view._rows) <= view.scrollable_content_region.width
        await pilot.resize_terminal(200, 40)
        await pilot.pause()
        assert len(view._rows) == wide_rows


async def test_each_run_starts_with_a_separator_and_lifts_the_failed_stage_filter(env):
    env.put("orders.csv", BAD_ORDERS)
    app = make_app(env)
    async with app.run_test(size=NARROW) as pilot:
        await settle(pilot)
        await pilot.press("r")
        await settle(pilot)
        view = app.main.panes.log_view
        assert view.stage_filter == "staging"  # the failed stage's log
        env.put("orders.csv", GOOD_ORDERS)
        await pilot.press("t")  # retry staging: the next run shows whole again
        await settle(pilot)
        assert view.stage_filter is None
        separators = [e for e in view.shown if isinstance(e, RunSeparator)]
        assert [s.run_id for s in separators] == [1, 2]
        assert any(m.startswith("run #2: stages staging") for m in view.visible_messages())
        assert any(row.plain.startswith("── run #2 · staging · ") for row in view._rows)
