"""Every status text on every row of the pipeline (plain, selected, focused) reads at WCAG AA (4.5:1)
in the default theme, in truecolor and 256 colours, computed from what the widget draws."""

from __future__ import annotations

from typing import Literal

from textual.widgets import DataTable

from contrast import AA, measure_line, row_background
from tui.stage_view import GLYPHS, ViewStatus
from tui_helpers import SIZE, make_app, settle

STATUSES: list[ViewStatus | Literal["stale"]] = [*GLYPHS, "stale"]


async def test_every_pipeline_status_reads_at_aa_on_every_row_background(env):
    app = make_app(env)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        table = app.main.panes.pipeline
        views = app.main.controller.views
        low, measured_in, cursor_backgrounds = [], set(), {}
        for focused in (False, True):
            if focused:
                table.focus()
            else:
                app.screen.set_focus(None)
            await pilot.pause()
            assert table.has_focus == focused
            for status in STATUSES:
                for view in views.values():
                    view.status = "succeeded" if status == "stale" else status
                    view.stale = "changed" if status == "stale" else ""
                    view.rows, view.done, view.total, view.note = 1234, 1, 2, "orders.csv"
                    table.show(view)
                table.refresh()
                await pilot.pause()
                for y in range(1, 1 + len(views)):  # line 0 is the header
                    selected = y - 1 == table.cursor
                    where = "focused" if focused and selected else "selected" if selected else "plain"
                    if selected:
                        cursor_backgrounds[where] = row_background(app, table, y)
                    for measured in measure_line(app, table, y):
                        measured_in.add((where, measured.system))
                        if measured.ratio < AA:
                            low.append((status, where, measured.system, measured.text, round(measured.ratio, 2)))
        assert len(measured_in) == 6  # three backgrounds, two colour systems
        assert cursor_backgrounds["focused"] != cursor_backgrounds["selected"]  # focus still shows
        assert not low, "\n".join(map(str, sorted(set(low))))


async def test_every_history_status_reads_at_aa_on_every_row_background(env):
    from helpers import run
    from tui.screens.history import HistoryScreen

    run(env, ["prepare"])
    runs = f'"{env.user_id}_staging".console_runs'
    for status in ("succeeded", "failed", "cancelled", "abandoned", "running"):
        env.execute(
            f"INSERT INTO {runs} (status, stages, ingestion_date, host, pid) VALUES (%s, 'prepare', now(), 'h', 1)",
            (status,),
        )
    app = make_app(env)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("h")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, HistoryScreen)
        table = screen.query_one("#history-runs", DataTable)
        low, measured_in, cursor_backgrounds = [], set(), {}
        for focused in (True, False):
            if focused:
                table.focus()
            else:
                screen.query_one("#history-stages").focus()
            await pilot.pause()
            assert table.has_focus == focused
            for y in range(1, 1 + table.row_count):
                selected = y - 1 == table.cursor_row
                where = "focused" if focused and selected else "selected" if selected else "plain"
                if selected:
                    cursor_backgrounds[where] = row_background(app, table, y)
                for measured in measure_line(app, table, y):
                    measured_in.add((where, measured.system))
                    if measured.ratio < AA:
                        low.append((where, measured.system, measured.text, round(measured.ratio, 2)))
        assert len(measured_in) == 6
        assert cursor_backgrounds["focused"] != cursor_backgrounds["selected"]
        assert not low, "\n".join(map(str, sorted(set(low))))
