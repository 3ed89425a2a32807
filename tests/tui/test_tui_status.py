"""Status at a glance, and the smaller promises: interrupted runs, dates, bars, cursor colours, footer, lake tree
expansions and last-modified, quitting that says what it stops, a crash that is never silent."""

from __future__ import annotations

from datetime import datetime, timedelta

import psycopg2
import pytest
from broken_console import BrokenConsole
from rich.console import Console

from etl_core import history
from etl_core.events import StageResult, utc_now
from etl_core.pipeline import STAGES
from etl_core.services import open_services
from etl_core.stages.prepare import ensure_schemas
from tui.screens.confirm import ConfirmScreen
from tui.screens.quitting import QuittingScreen
from tui.stage_view import StageView
from tui.status_style import RED
from tui.widgets.chrome.key_bar import KeyBar
from tui.widgets.run.stage_table import StageTable, progress_bar
from tui_helpers import make_app, run_all_and_export, screen_text, settle, wait_until


def test_a_stage_that_stopped_never_reads_100_percent():
    for status in ("failed", "cancelled", "abandoned"):
        bar = progress_bar(StageView("staging", status=status, done=10, total=10), 20)
        assert bar.plain.endswith(" 99%") and "░" in bar.plain, (status, bar.plain)
    done = progress_bar(StageView("staging", status="succeeded", done=10, total=10), 20)
    assert done.plain == "█" * 20 + " 100%"


def test_at_80_columns_every_stage_keeps_status_rows_and_progress_and_the_footer_help_and_quit():
    assert StageTable.columns(78) == ["stage", "status", "started", "elapsed", "rows", "progress"]
    assert StageTable.columns(66) == ["stage", "status", "elapsed", "rows", "progress"]  # the start gives way first
    assert StageTable.columns(50) == ["stage", "status", "rows", "progress"]
    keys = KeyBar("main")
    for width in (40, 80, 120, 200):
        names = [spec.name for spec in keys.shown(width)]
        assert names[-2:] == ["help", "quit"], width
    assert [spec.name for spec in keys.shown(80)][:3] == ["run_all", "cancel_run", "retry_failed"]


def _interrupted_run(env) -> tuple[int, datetime]:
    """A run whose process died yesterday in staging, written with the core's own history functions;
    (its id, the stages' start)."""
    config = env.config
    yesterday = utc_now() - timedelta(days=1)
    with open_services(config) as services, services.transaction("test") as cur:
        ensure_schemas(cur, [config.staging_schema, config.analytics_schema])
        history.ensure_history_tables(cur, config)
        run_id, _ = history.start_run(cur, config, STAGES)
        history.record_stage(cur, config, run_id, StageResult("prepare", "succeeded", yesterday, 0.5, 0))
        history.record_stage(cur, config, run_id, StageResult("staging", "running", yesterday, 0.0, 0))
    return run_id, yesterday


async def test_an_interrupted_run_reads_as_interrupted_with_its_date(env):
    run_id, started = _interrupted_run(env)
    app = make_app(env)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        rows = app.main.panes.pipeline_rows()
        assert rows["staging"][1] == "? interrupted"
        # The recorded start, not the clock read again: a minute may turn between the two.
        assert rows["prepare"][2] == started.astimezone().strftime("%m-%d %H:%M")  # not today: the date too
        assert f"last run #{run_id} interrupted" in screen_text(app)
        assert "running" not in rows["staging"][1]


async def test_the_cursor_keeps_the_status_colour(env):
    env.put("orders.csv", "order_id,customer_id\n1,2\n")
    app = make_app(env)
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        await pilot.press("r")
        await settle(pilot)
        table = app.main.panes.pipeline
        assert table.selected_stage == "staging" and table.has_focus is not None
        console = Console(width=table.content_region.width, color_system="truecolor", record=False)
        segments = list(console.render(table.render()))
        failed = [s for s in segments if "failed" in s.text]
        assert failed and failed[0].style is not None and failed[0].style.color is not None
        assert failed[0].style.color.triplet is not None and failed[0].style.color.triplet.hex == RED
        assert failed[0].style.bgcolor is not None  # the cursor row: a background only


async def test_the_lake_tree_keeps_what_was_expanded_and_shows_the_listing_time(env):
    app = make_app(env)
    async with app.run_test(size=(150, 46)) as pilot:
        await settle(pilot)
        await run_all_and_export(pilot)
        lake = app.main.panes.lake
        bucket = lake.root.children[0]
        for key in ("orders_data/", "analytics_export/", f"analytics_export/{env.user_id}/"):
            node = next(n for n in _walk(bucket) if n.data.key == key)
            node.expand()
            await settle(pilot)
        expanded = sorted(n.data.key for n in _walk(bucket) if n.data.kind == "prefix" and n.is_expanded)
        await pilot.press("f5")
        await settle(pilot)
        assert sorted(n.data.key for n in _walk(bucket) if n.data.kind == "prefix" and n.is_expanded) == expanded
        await pilot.press("e")  # an export refreshes the tree too
        await settle(pilot)
        await pilot.press("y")
        await settle(pilot)
        assert sorted(n.data.key for n in _walk(bucket) if n.data.kind == "prefix" and n.is_expanded) == expanded
        exported = {n.data.key for n in _walk(bucket) if n.data.kind == "object"}
        assert f"analytics_export/{env.user_id}/agg_shipments.csv" in exported
        # last-modified: the object's own, as the listing says
        listing = env.s3.list_objects_v2(Bucket=env.bucket, Prefix="orders_data/orders.csv")["Contents"][0]
        orders = next(n for n in _walk(bucket) if n.data.key == "orders_data/orders.csv")
        assert orders.data.last_modified == listing["LastModified"]
        assert app.clock.stamp(listing["LastModified"]) in orders.label.plain


def _walk(node):
    for child in node.children:
        if child.data is not None and child.data.kind in ("prefix", "object"):
            yield child
            yield from _walk(child)


async def test_quitting_during_a_run_says_what_it_stops_and_records_the_run_cancelled(env):
    app = make_app(env)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await run_all_and_export(pilot)
        blocker = psycopg2.connect(env.pg_uri)  # hold a lock analytics needs: the run is surely running
        try:
            with blocker.cursor() as cur:
                cur.execute(f'LOCK TABLE "{env.user_id}_analytics".agg_public_holiday IN SHARE MODE')
            await pilot.press("r")
            await wait_until(
                pilot, lambda: app.main.controller.views["analytics"].status == "running", what="analytics running"
            )
            await pilot.press("q")
            await pilot.pause()
            assert isinstance(app.screen, ConfirmScreen) and "Cancel run #2 and quit?" in app.screen.body
            await pilot.press("y")
            await pilot.pause()
            assert isinstance(app.screen, QuittingScreen)
            assert "cancelling run #2" in screen_text(app)
            await wait_until(pilot, lambda: not app.is_running, timeout=60, what="the console to exit")
        finally:
            blocker.rollback()
            blocker.close()
    assert app.return_code == 0 and app.farewell == "d2b-console: cancelling run #2."
    assert env.query(f'SELECT status FROM "{env.user_id}_staging".console_runs WHERE run_id = 2') == [("cancelled",)]


async def test_a_crash_names_a_redacted_report_exits_1_and_closes_the_services(env):
    app = BrokenConsole(env.config)
    with pytest.raises(RuntimeError, match="a bug"):
        async with app.run_test(size=(80, 24)) as pilot:
            await wait_until(pilot, lambda: app.crash is not None, what="the crash")
    assert app.crash is not None and app.crash.path is not None
    assert app.crash.path.parent == env.config.console.state_dir / "crash"
    report = app.crash.path.read_text()
    assert "Traceback" in report and "a bug [/x] in a handler" in report
    assert app.crash.operator_line.startswith("d2b-console stopped on an unexpected error (RuntimeError")
    assert app.return_code == 1 and app.services is None  # closed
    assert app._exit_renderables == []  # no traceback on the terminal: run_app prints the one line
