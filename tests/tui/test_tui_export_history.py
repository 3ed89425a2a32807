"""Export preview (confirm writes the objects, cancel writes nothing) and the run history screen."""

from __future__ import annotations

from textual.widgets import DataTable, TabbedContent

from tui.screens.confirm import ConfirmScreen
from tui.screens.export_preview import ExportPreviewScreen
from tui.screens.history import HistoryScreen
from tui_helpers import SIZE, data_of, last_summary, make_app, settle, statuses

TABLES = ["agg_public_holiday", "agg_shipments", "best_performing_product"]


async def _at_preview(pilot, *keys: str) -> ExportPreviewScreen:
    for key in keys:
        await pilot.press(key)
        await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, ExportPreviewScreen), f"{keys}: no export preview ({screen})"
    return screen


async def test_r_stops_at_the_export_preview_esc_records_the_export_cancelled(env, exported_keys):
    app = make_app(env)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = await _at_preview(pilot, "r")
        # the run waits: prepare, staging, analytics done; export waits for the operator's word
        assert statuses(app) == {
            "prepare": "succeeded",
            "staging": "succeeded",
            "analytics": "succeeded",
            "export": "confirming",
        }
        assert app.main.panes.pipeline_rows()["export"][1] == "? confirm?"
        assert [p.table for p in screen.previews] == TABLES
        assert screen.query_one("#export-tabs", TabbedContent).tab_count == 4  # the three tables, then the inputs
        for preview in screen.previews:
            assert preview.uri == f"s3://{env.bucket}/analytics_export/{env.user_id}/{preview.table}.csv"
            assert preview.checks and all(c.passed for c in preview.checks)
            assert screen.query_one(f"#rows-{preview.table}", DataTable).row_count == 1
        shipments = screen.query_one("#rows-agg_shipments", DataTable)
        assert [str(v) for v in shipments.get_row_at(0)] == ["2022-09-06", "1", "1"]
        assert exported_keys() == []  # nothing written before the yes
        # which dimensions the analytics were computed on (the tests' warehouse: its own)
        assert screen.previews[0].dimensions == f"the warehouse's own dimensions ({env.dims_schema})"
        assert "computed on the warehouse's own dimensions" in str(screen._summary())

        await pilot.press("escape")
        await settle(pilot)
        assert not isinstance(app.screen, ExportPreviewScreen) and not app.main.controller.running
        assert exported_keys() == []
        summary = last_summary(app)
        assert summary.status == "cancelled" and summary.stages[-1].stage == "export"
        assert summary.stages[-1].status == "cancelled" and "export preview" in (summary.stages[-1].error or "")
        assert statuses(app)["export"] == "cancelled"
        assert any("export cancelled at the preview" in m for m in app.main.panes.log_view.visible_messages())
        recorded = env.query(
            f'SELECT stage, status FROM "{env.user_id}_staging".console_stage_runs WHERE run_id = %s ORDER BY stage',
            (summary.run_id,),
        )
        assert ("export", "cancelled") in recorded and ("analytics", "succeeded") in recorded


async def test_every_way_to_export_goes_through_the_preview(env, exported_keys):
    app = make_app(env)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await _at_preview(pilot, "r")
        await pilot.press("escape")  # run #1: export cancelled
        await settle(pilot)
        # t retries the stage that stopped: the export, through its preview
        await _at_preview(pilot, "t")
        await pilot.press("escape")
        await settle(pilot)
        # R resumes from the export: confirm the plan, then the preview
        await pilot.press("R")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen) and "1. export" in app.screen.body
        await _at_preview(pilot, "y")
        await pilot.press("escape")
        await settle(pilot)
        # s on the export row
        app.main.panes.pipeline.select_stage("export")
        await _at_preview(pilot, "s")
        await pilot.press("escape")
        await settle(pilot)
        assert exported_keys() == []
        # e: the preview, and this time y
        await _at_preview(pilot, "e")
        await pilot.press("y")
        await settle(pilot)
        assert statuses(app)["export"] == "succeeded"
        assert [s.stage for s in last_summary(app).stages] == ["export"]
        assert app.main.panes.pipeline_rows()["export"][-1].endswith("100%")
        assert exported_keys() == [f"{t}.csv" for t in TABLES]
        # the lake tree lists the new export prefix after the export
        names = [data_of(c).key for c in app.main.panes.lake.root.children[0].children]
        assert "analytics_export/" in names
        runs = env.query(f'SELECT status FROM "{env.user_id}_staging".console_runs ORDER BY run_id')
        assert [status for (status,) in runs] == ["cancelled"] * 4 + ["succeeded"]


async def test_e_before_the_first_run_says_there_is_nothing_to_export(env):
    app = make_app(env)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("e")
        await settle(pilot)
        assert not isinstance(app.screen, ExportPreviewScreen)
        said = [n.message for n in app._notifications]
        assert any(
            m.startswith("nothing to export yet: ")
            and f"{env.user_id}_analytics.agg_public_holiday" in m
            and "r runs every stage" in m
            for m in said
        ), said
        assert not any("UndefinedTable" in m or "does not exist\n" in m for m in said)
        await pilot.press("t")  # no runs at all: retry and resume say so
        await settle(pilot)
        await pilot.press("R")
        await settle(pilot)
        said = [n.message for n in app._notifications]
        assert "no runs yet: nothing to retry (r runs every stage)" in said
        assert "no runs yet: nothing to resume (r runs every stage)" in said


async def test_history_lists_runs_and_their_stages(env):
    env.put(
        "orders.csv",
        "order_id,customer_id,order_date,product_id,unit_price,quantity,total_price\n1,1,not-a-date,1,100,2,200\n",
    )
    app = make_app(env)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("r")
        await settle(pilot)
        assert last_summary(app).status == "failed"
        await pilot.press("s")  # the failed stage is selected: run it alone (fails again)
        await settle(pilot)
        await pilot.press("h")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, HistoryScreen)
        runs = screen.query_one("#history-runs", DataTable)
        assert runs.row_count == 2
        newest = [str(getattr(c, "plain", c)) for c in runs.get_row_at(0)]
        assert newest[0] == "#2" and "failed" in newest[2] and newest[4] == "staging"
        assert screen.shown_run == 2
        # the first run: its four stages with status, rows and durations, and its error
        runs.move_cursor(row=1)
        await settle(pilot)
        assert screen.shown_run == 1
        stages = screen.query_one("#history-stages", DataTable)
        cells = [[str(getattr(c, "plain", c)) for c in stages.get_row_at(i)] for i in range(stages.row_count)]
        table = {row[0]: row for row in cells}
        assert list(table) == ["prepare", "staging", "analytics", "export"]
        assert "succeeded" in table["prepare"][1] and table["prepare"][3].endswith("s") and table["prepare"][4] == "0"
        assert "failed" in table["staging"][1] and "orders.csv" in table["staging"][5]
        assert "skipped" in table["export"][1]
        errors = str(screen.query_one("#history-errors").render())
        assert "staging:" in errors and "not-a-date" in errors
        # Provenance: the objects the run found, recorded even though the load failed (not loaded).
        assert "orders: orders_data/orders.csv (" in errors and "not loaded" in errors and "ETag " in errors
        await pilot.press("escape")
        assert not isinstance(app.screen, HistoryScreen)
