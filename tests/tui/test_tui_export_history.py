"""Export preview (confirm writes the objects, cancel writes nothing) and the run history screen."""

from __future__ import annotations

from textual.widgets import DataTable, TabbedContent

from tui.screens.export_preview import ExportPreviewScreen
from tui.screens.history import HistoryScreen
from tui_helpers import SIZE, make_app, settle, statuses

TABLES = ["agg_public_holiday", "agg_shipments", "best_performing_product"]


async def test_export_preview_cancel_then_confirm(env, exported_keys):
    app = make_app(env)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("r")
        await settle(pilot)
        env.s3.delete_objects(Bucket=env.bucket, Delete={"Objects": [
            {"Key": f"analytics_export/{env.user_id}/{name}"} for name in exported_keys()]})
        assert exported_keys() == []

        await pilot.press("e")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, ExportPreviewScreen)
        assert [p.table for p in screen.previews] == TABLES
        tabs = screen.query_one("#export-tabs", TabbedContent)
        assert tabs.tab_count == 3
        for preview in screen.previews:
            assert preview.uri == f"s3://{env.bucket}/analytics_export/{env.user_id}/{preview.table}.csv"
            assert preview.checks and all(c.passed for c in preview.checks)
            rows = screen.query_one(f"#rows-{preview.table}", DataTable)
            assert rows.row_count == 1
        shipments = screen.query_one("#rows-agg_shipments", DataTable)
        assert [str(v) for v in shipments.get_row_at(0)] == ["2022-09-06", "1", "1"]
        # cancel: nothing written
        await pilot.press("escape")
        await settle(pilot)
        assert not isinstance(app.screen, ExportPreviewScreen)
        assert exported_keys() == []
        assert any("export cancelled" in m for m in app.main.log_pane.visible_messages())

        # confirm: the export stage runs with progress and writes the objects
        await pilot.press("e")
        await settle(pilot)
        assert isinstance(app.screen, ExportPreviewScreen)
        await pilot.press("y")
        await settle(pilot)
        assert statuses(app)["export"] == "succeeded"
        assert [s.stage for s in app.main.controller.last_summary.stages] == ["export"]
        assert app.main.pipeline_rows()["export"][6].endswith("100%")
        assert exported_keys() == [f"{t}.csv" for t in TABLES]
        # the lake tree lists the new export prefix after the export
        names = [c.data.key for c in app.main.lake.root.children[0].children]
        assert "analytics_export/" in names


async def test_history_lists_runs_and_their_stages(env):
    env.put("orders.csv", "order_id,customer_id,order_date,product_id,unit_price,quantity,total_price\n"
                          "1,1,not-a-date,1,100,2,200\n")
    app = make_app(env)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("r")
        await settle(pilot)
        assert app.main.controller.last_summary.status == "failed"
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
        table = {row[0]: [str(getattr(c, "plain", c)) for c in row]
                 for row in (stages.get_row_at(i) for i in range(stages.row_count))}
        assert list(table) == ["prepare", "staging", "analytics", "export"]
        assert "succeeded" in table["prepare"][1] and table["prepare"][3].endswith("s") and table["prepare"][4] == "0"
        assert "failed" in table["staging"][1] and "orders.csv" in table["staging"][5]
        assert "skipped" in table["export"][1]
        errors = str(screen.query_one("#history-errors").render())
        assert "staging:" in errors and "not-a-date" in errors
        await pilot.press("escape")
        assert not isinstance(app.screen, HistoryScreen)
