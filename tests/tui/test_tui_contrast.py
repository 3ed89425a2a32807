"""Every status text on every row of the pipeline (plain, selected, focused) reads at WCAG AA (4.5:1)
in the default theme, in truecolor and 256 colours, computed from what the widget draws; and every
other screen that colours a status, a severity or a level (the log, toasts, the export preview, the
Checks grid, the Days view) draws all its text at AA, measured on the composed screen."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, Literal

import pytest
from textual.coordinate import Coordinate
from textual.widgets import DataTable, TabbedContent

from contrast import AA, measure_line, measure_screen, row_background
from etl_core.browse import ExportPreview, Preview
from etl_core.events import CheckOutcome, LogLine
from etl_core.kinds import LogLevel
from etl_core.trends import CheckGrid
from tui.stage_view import GLYPHS, ViewStatus
from tui_helpers import BAD_ORDERS, SIZE, make_app, open_screen, settle

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
        screen = await open_screen(pilot, "h", HistoryScreen)
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


# --- every other place a status, a severity or a level is coloured: whole screens, as composed ---------


def unreadable(app, label: str) -> list[tuple[str, str, str, str, float]]:
    """The text of the top screen under AA (none expected), each with where it is drawn and its colours."""
    return [(label, m.where, m.system, m.text[:50], round(m.ratio, 2)) for m in measure_screen(app) if m.ratio < AA]


def drawn(app) -> str:
    """All the text the top screen draws (to prove a measurement saw what it is about)."""
    return " ".join(m.text for m in measure_screen(app))


async def test_log_levels_search_marks_and_toasts_read_at_aa(env):
    app = make_app(env)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        log = app.main.panes.log_view
        at = datetime(2022, 9, 6, 14, 2, tzinfo=UTC)
        levels: list[LogLevel] = ["DEBUG", "INFO", "WARNING", "ERROR"]
        log.set_filters(level="DEBUG")
        log.add([LogLine(1, "staging", level, f"{level.lower()} line about orders.csv", at) for level in levels])
        for severity in ("information", "warning", "error"):
            app.notify(f"{severity} toast", severity=severity)
        await pilot.pause()
        low = []
        for focused in (False, True):
            if focused:
                log.focus()
            else:
                app.screen.set_focus(None)
            await pilot.pause()
            shown = drawn(app)
            assert all(level in shown for level in levels) and "error toast" in shown, shown
            low += unreadable(app, f"log focused={focused}")
        log.search("orders")  # every line matches: the current match and the others are highlighted
        await pilot.pause()
        low += unreadable(app, "log search")
        assert not low, "\n".join(map(str, sorted(set(low))))


def _preview(table: str, checks: list[CheckOutcome], stale: str = "") -> ExportPreview:
    rows = Preview(title=table, columns=["ingestion_date", "value"], rows=[["2022-09-06", 3]], total_rows=1)
    return ExportPreview(table, f"s3://lake/out/{table}.csv", rows, checks, stale=stale, dimensions="demo")


@pytest.mark.parametrize("case", ["blocked", "warned and stale", "passed"])
async def test_export_preview_marks_read_at_aa(env, case):
    from tui.screens.export_preview import ExportPreviewScreen

    passed = CheckOutcome("has_run_row", "ERROR", True, "one row: ok")
    failed = CheckOutcome("no_negative", "ERROR", False, "2 row(s) negative")
    warned = CheckOutcome("few_rows", "WARN", False, "1 row, expected more")
    checks = {"blocked": [passed, failed, warned], "warned and stale": [passed, warned], "passed": [passed]}[case]
    stale = "staging ran again at 14:02" if case == "warned and stale" else ""
    previews = [_preview("agg_shipments", checks, stale), _preview("agg_public_holiday", [passed])]
    app = make_app(env)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = ExportPreviewScreen(previews, "s3://lake/out/")
        app.push_screen(screen)
        await pilot.pause()
        low = []
        for tab in ("tab-agg_shipments", "tab-agg_public_holiday"):
            screen.query_one(TabbedContent).active = tab
            await pilot.pause()
            for focus in ("#export-tabs Tabs", "#cancel", f"#rows-{tab.removeprefix('tab-')}"):
                screen.query_one(focus).focus()
                await pilot.pause()
                low += unreadable(app, f"{case} {tab} {focus}")
        screen.query_one(TabbedContent).active = "tab-agg_shipments"
        await pilot.pause()
        marks = {"blocked": "✔ ✘ !", "warned and stale": "✔ ! STALE", "passed": "✔ All checks passed"}[case]
        shown = drawn(app)
        assert all(mark in shown for mark in marks.split()), shown
        assert not low, "\n".join(map(str, sorted(set(low))))


async def _walk_cells(pilot, table: DataTable[Any], label: str, cells: list[Coordinate]) -> list[Any]:
    """The screen measured with the cursor on each of `cells`, focused and then not."""
    app, low = pilot.app, []
    for focused in (True, False):
        if focused:
            table.focus()
        else:
            app.screen.set_focus(None)
        for cell in cells:
            table.cursor_coordinate = cell
            await pilot.pause()
            assert table.has_focus == focused
            low += unreadable(app, f"{label} focused={focused} cursor={tuple(cell)}")
    return low


async def test_checks_grid_marks_read_at_aa_under_the_cursor_and_off_it(env):
    from tui.messages import ChecksLoaded
    from tui.screens.checks import ChecksScreen

    outcomes: tuple[bool | None, ...] = (True, False, None)
    grid = CheckGrid(runs=(3, 2, 1), outcomes={"a_check": outcomes, "b_check": outcomes[::-1]})
    app = make_app(env)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = await open_screen(pilot, "C", ChecksScreen)
        screen.on_checks_loaded(ChecksLoaded(grid))  # every mark, whatever the history holds
        await pilot.pause()
        table = screen.query_one("#checks-grid", DataTable)
        assert {"✔", "✘", "·"} <= set(drawn(app).split())
        cells = [Coordinate(row, column) for row in range(2) for column in range(4)]
        low = await _walk_cells(pilot, table, "checks", cells)
        assert not low, "\n".join(map(str, sorted(set(low))))


async def test_days_statuses_read_at_aa_under_the_cursor_and_off_it(env):
    from helpers import run
    from tui.screens.days import DaysScreen

    run(env, ["prepare"])
    runs = f'"{env.user_id}_staging".console_runs'
    inputs = f'"{env.user_id}_staging".console_run_inputs'
    last = env.config.pipeline.ingestion_date
    statuses = ["succeeded", "succeeded", "failed", "cancelled", "abandoned", "running"]  # newest date first
    for back, status in enumerate(statuses):
        env.execute(
            f"INSERT INTO {runs} (status, stages, ingestion_date, host, pid) "
            "VALUES (%s, 'staging,analytics', %s, 'h', 1)",
            (status, last - timedelta(days=back)),
        )
    for back in (0, 1):  # the two newest dates loaded the same object: the newer one is stale
        env.execute(
            f"INSERT INTO {inputs} (run_id, table_name, key, version_id, etag, size, last_modified, rows) "
            f"SELECT run_id, 'orders', 'orders.csv', NULL, 'e1', 10, now(), 3 FROM {runs} WHERE ingestion_date = %s",
            (last - timedelta(days=back),),
        )
    app = make_app(env)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        table = (await open_screen(pilot, "d", DaysScreen)).query_one("#days-table", DataTable)
        shown = drawn(app)
        for word in ("stale", "succeeded", "failed", "cancelled", "interrupted", "missing"):
            assert word in shown, (word, shown)
        cells = [Coordinate(row, 0) for row in range(len(statuses) + 1)]
        low = await _walk_cells(pilot, table, "days", cells)
        assert not low, "\n".join(map(str, sorted(set(low))))


async def test_the_history_screen_reads_at_aa_with_a_failed_run_selected(env):
    """The whole history screen (runs, stages with their errors, the detail, trends) with the cursor on
    each run and then on each stage, each table focused."""
    from helpers import assert_succeeded, run
    from tui.screens.history import HistoryScreen

    assert_succeeded(run(env))
    env.put("orders.csv", BAD_ORDERS)
    assert run(env).status == "failed"
    app = make_app(env)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = await open_screen(pilot, "h", HistoryScreen)
        runs, stages = screen.query_one("#history-runs", DataTable), screen.query_one("#history-stages", DataTable)
        low = await _walk_cells(pilot, runs, "history runs", [Coordinate(row, 0) for row in range(runs.row_count)])
        runs.focus()
        runs.cursor_coordinate = Coordinate(0, 0)  # the failed run: its stages and its error
        await settle(pilot)
        assert "failed" in drawn(app) and "2022-13-45" in drawn(app)
        low += await _walk_cells(
            pilot, stages, "history stages", [Coordinate(row, 0) for row in range(stages.row_count)]
        )
        assert not low, "\n".join(map(str, sorted(set(low))))


async def test_the_sql_pane_reads_at_aa_with_a_result_an_error_and_a_superuser_title(env, monkeypatch):
    from etl_core.query_address import QUERY_URL_ENV
    from inspect_helpers import open_query_pane, run_in_pane

    monkeypatch.delenv(QUERY_URL_ENV, raising=False)  # the pane runs as the pipeline's superuser: said in BAD
    app = make_app(env)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = await open_query_pane(pilot, app)
        await settle(pilot)
        assert "SUPERUSER" in drawn(app)
        await run_in_pane(pilot, screen, "SELECT 1 AS one, 'two' AS two")
        assert "1 row" in drawn(app)
        low = unreadable(app, "sql result")
        screen.results.grid.focus()
        await pilot.pause()
        low += unreadable(app, "sql result focused")
        await run_in_pane(pilot, screen, "SELECT nosuchcolumn FROM (VALUES (1)) AS t(id)")
        assert "does not exist" in drawn(app)
        low += unreadable(app, "sql error")
        assert not low, "\n".join(map(str, sorted(set(low))))
