"""Stale results in the console: after staging reran alone with new files, analytics and export say
"stale" in the pipeline and the history, and the export preview asks twice before exporting them."""

from __future__ import annotations

from textual.widgets import DataTable

from helpers import assert_succeeded, run
from support import ORDERS_HEADER
from tui.screens.export_preview import ExportPreviewScreen
from tui.screens.history import HistoryScreen
from tui_helpers import SIZE, make_app, settle, wait_until

NEW_ORDERS = ORDERS_HEADER + (
    "1,1,2022-01-03,1,100,2,200\n2,2,2022-05-02,2,50,1,50\n3,3,2022-06-01,1,10,3,30\n4,4,2022-05-02,2,50,2,100\n"
)


def status_cells(app) -> dict[str, str]:
    return {stage: row[1] for stage, row in app.main.panes.pipeline_rows().items()}


async def test_staging_alone_with_new_files_leaves_analytics_and_export_stale_everywhere(env, exported_keys):
    assert_succeeded(run(env))
    exported_before = exported_keys()
    env.put("orders.csv", NEW_ORDERS)
    assert_succeeded(run(env, ["staging"]))
    app = make_app(env)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await wait_until(pilot, lambda: "stale" in status_cells(app)["analytics"], what="analytics shown stale")
        cells = status_cells(app)
        assert "stale" in cells["export"] and "stale" not in cells["staging"], cells
        assert "older staging" in app.main.controller.views["analytics"].stale

        await pilot.press("h")
        await settle(pilot)
        history = app.screen
        assert isinstance(history, HistoryScreen)
        runs = history.query_one("#history-runs", DataTable)
        runs.move_cursor(row=1)  # the run whose analytics and export are the newest
        await settle(pilot)
        stages = history.query_one("#history-stages", DataTable)
        shown = {str(stages.get_row_at(i)[0]): str(stages.get_row_at(i)[1]) for i in range(stages.row_count)}
        assert "stale" in shown["analytics"] and "stale" in shown["export"] and "stale" not in shown["staging"]
        assert "analytics: stale: " in str(history.query_one("#history-errors").render())
        await pilot.press("escape")
        await settle(pilot)

        await pilot.press("e")
        await settle(pilot)
        preview = app.screen
        assert isinstance(preview, ExportPreviewScreen)
        summary = str(preview.query_one("#export-summary").render())
        assert "STALE: the analytics were computed from older staging" in summary
        await pilot.press("y")  # the first y only asks again
        await settle(pilot)
        assert app.screen is preview and exported_keys() == exported_before
        assert any("press y again" in n.message for n in app._notifications)
        await pilot.press("y")
        await settle(pilot)
        last = app.main.controller.last_summary
        assert last is not None and last.stages[-1].status == "succeeded"
        # analytics are still stale (older staging); the export is of those analytics, so stale too
        assert "stale" in status_cells(app)["analytics"]

        app.main.panes.pipeline.select_stage("analytics")
        await pilot.press("s")
        await settle(pilot)
        assert "stale" not in status_cells(app)["analytics"]
        assert "stale" in status_cells(app)["export"]  # exported before analytics changed
