"""Running stages from the console: run all, a failing stage, retry, resume, cancel, one run at a time."""

from __future__ import annotations

from pathlib import Path

import psycopg2

from etl_core.events import LogLine
from tui.screens.confirm import ConfirmScreen
from tui.screens.export_preview import ExportPreviewScreen
from tui_helpers import (
    BAD_ORDERS,
    GOOD_ORDERS,
    SIZE,
    last_summary,
    make_app,
    run_all_and_export,
    settle,
    statuses,
    wait_until,
)


async def test_run_all_succeeds_with_rows_and_durations(env, exported_keys):
    app = make_app(env)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await run_all_and_export(pilot)
        assert statuses(app) == dict.fromkeys(("prepare", "staging", "analytics", "export"), "succeeded")
        rows = app.main.panes.pipeline_rows()
        for stage, (name, status, started, elapsed, _rows, bar) in rows.items():
            assert (name, status) == (stage, "✔ succeeded")
            assert started and elapsed.endswith("s") and bar.endswith("100%"), rows[stage]
        assert [rows[s][4] for s in ("prepare", "staging", "analytics", "export")] == ["0", "9", "3", "3"]
        assert last_summary(app).status == "succeeded"
        # the warehouse tree was refreshed after the stages: staging and analytics tables with counts
        tables = app.main.panes.warehouse.table_rows()
        assert tables[f"{env.user_id}_staging.orders"] == 3
        assert tables[f"{env.user_id}_analytics.agg_shipments"] == 1
        # the log shows every stage, and the full log is on disk
        messages = app.main.panes.log_view.visible_messages()
        assert any("stage succeeded" in m for m in messages)
        assert any(m.startswith("exported ") for m in messages)
        assert "[export] stage succeeded" in Path(last_summary(app).log_file or "").read_text(encoding="utf-8")
        assert exported_keys() == ["agg_public_holiday.csv", "agg_shipments.csv", "best_performing_product.csv"]


async def test_failing_stage_shows_error_and_log_then_retry_and_resume(env):
    env.put("orders.csv", BAD_ORDERS)
    app = make_app(env)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("r")
        await settle(pilot)
        assert statuses(app) == {
            "prepare": "succeeded",
            "staging": "failed",
            "analytics": "skipped",
            "export": "skipped",
        }
        error = app.main.controller.views["staging"].error or ""
        assert "orders.csv" in error and "2022-13-45" in error, error
        # the failed stage's log is selected: filter on staging, the error is its last line
        pane = app.main.panes.log_view
        assert pane.stage_filter == "staging"
        visible = pane.visible_messages()
        assert visible and all(line.stage == "staging" for line in pane.shown if isinstance(line, LogLine))
        assert any(error in m for m in visible[-3:]), visible[-3:]
        assert app.main.panes.pipeline.selected_stage == "staging"
        assert app.main.panes.pipeline.row_text("staging")[1] == "✘ failed"

        # retry after the object is fixed: only the failed stage runs
        env.put("orders.csv", GOOD_ORDERS)
        await pilot.press("t")
        await settle(pilot)
        summary = last_summary(app)
        assert summary.stages[0].stage == "staging" and len(summary.stages) == 1
        assert statuses(app)["staging"] == "succeeded"
        assert app.main.controller.views["staging"].rows == 9

        # resume: lists what will run (analytics, export), asks, then runs them; the export shows its preview
        await pilot.press("R")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        assert "1. analytics" in app.screen.body and "2. export" in app.screen.body
        await pilot.press("y")
        await settle(pilot)
        assert isinstance(app.screen, ExportPreviewScreen)
        await pilot.press("y")
        await settle(pilot)
        assert statuses(app) == dict.fromkeys(("prepare", "staging", "analytics", "export"), "succeeded")
        assert [s.stage for s in last_summary(app).stages] == ["analytics", "export"]


async def test_cancel_running_stage_and_one_run_at_a_time(env, exported_keys):
    app = make_app(env)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await run_all_and_export(pilot)
        assert last_summary(app).status == "succeeded"
        env.s3.delete_objects(
            Bucket=env.bucket,
            Delete={"Objects": [{"Key": f"analytics_export/{env.user_id}/{name}"} for name in exported_keys()]},
        )

        # hold a lock the analytics stage needs, so it is surely running when we cancel it
        blocker = psycopg2.connect(env.pg_uri)
        try:
            with blocker.cursor() as cur:
                cur.execute(f'LOCK TABLE "{env.user_id}_analytics".agg_public_holiday IN SHARE MODE')
            await pilot.press("r")
            views = app.main.controller.views
            await wait_until(pilot, lambda: views["analytics"].status == "running", what="analytics running")
            assert app.main.controller.running
            await pilot.press("r")  # a second run is refused while one runs
            await pilot.pause()
            assert app.main.panes.pipeline_rows()["analytics"][1] == "▶ running"
            await pilot.press("c")
            await settle(pilot)
        finally:
            blocker.rollback()
            blocker.close()
        assert statuses(app) == {
            "prepare": "succeeded",
            "staging": "succeeded",
            "analytics": "cancelled",
            "export": "skipped",
        }
        assert last_summary(app).status == "cancelled"
        assert not app.main.controller.running
        assert any("cancel" in m for m in app.main.panes.log_view.visible_messages())
        assert exported_keys() == []  # nothing exported by the cancelled run
        # the browse panes stayed usable: the warehouse listing still works after the cancel
        assert app.main.panes.warehouse.table_rows()[f"{env.user_id}_analytics.agg_public_holiday"] == 1
