"""The export preview at the smallest supported size (80×24) keeps the rows to export in view: long
checks and changes scroll in a capped region above them; at 120×40 nothing important is cut."""

from __future__ import annotations

import pytest
from textual.containers import VerticalScroll
from textual.widgets import DataTable

from etl_core.browse import ExportPreview, Preview
from etl_core.events import CheckOutcome
from etl_core.export_diff import RowChange, TableChanges
from tui.screens.export_preview import ExportPreviewScreen
from tui_helpers import make_app, screen_text, settle

DAYS = [f"2022-09-{d:02d}" for d in range(1, 13)]


def crowded_preview() -> ExportPreview:
    """Twelve dates with four checks and twelve changed rows: more than the screen has room for."""
    rows = Preview(
        title="agg_shipments",
        columns=["ingestion_date", "tt_late_shipments", "tt_undelivered_items"],
        rows=[[day, 100 + n, 200 + n] for n, day in enumerate(DAYS)],
        total_rows=len(DAYS),
    )
    checks = [
        CheckOutcome(f"agg_shipments_check_{n}", "ERROR", True, "agg_shipments has one row per ingestion date: ok")
        for n in range(4)
    ]
    changes = TableChanges(
        "agg_shipments",
        "out/agg_shipments.csv",
        existed=True,
        changed=tuple(RowChange(day, {"tt_late_shipments": ("1", "2")}) for day in DAYS),
    )
    return ExportPreview(
        "agg_shipments",
        "s3://lake/analytics_export/agg_shipments.csv",
        rows,
        checks,
        stale="staging ran again at 14:02",
        changes=changes,
        dimensions="the warehouse's own dimensions",
    )


@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=lambda s: f"{s[0]}x{s[1]}")
async def test_the_rows_to_export_stay_visible_above_long_checks_and_changes(env, size):
    app = make_app(env)
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        screen = ExportPreviewScreen([crowded_preview()], "s3://lake/analytics_export/")
        app.push_screen(screen)
        await pilot.pause()
        table = screen.query_one("#rows-agg_shipments", DataTable)
        assert table.region.height >= 4, f"{size}: the rows table has {table.region.height} lines"  # header + 3 rows
        shown = screen_text(app)
        for n, day in enumerate(DAYS[:3]):
            assert any(day in line and f"{100 + n}" in line and f"{200 + n}" in line for line in shown.splitlines()), (
                f"{size}: data row {day} not shown:\n{shown}"
            )
        # what stays on screen whatever the size: the verdict, the stale warning, the buttons, the keys
        for must in ("All checks passed", "STALE", "Export (y)", "Cancel (Esc)", "esc Cancel", "agg_shipments_check_0"):
            assert must in shown, f"{size}: {must!r} not shown:\n{shown}"
        # the checks and changes that do not fit scroll into view: the last changed row is reachable
        notes = screen.query_one(".export-notes", VerticalScroll)
        assert notes.region.height <= size[1] // 4
        assert notes.max_scroll_y > 0
        for _ in range(len(DAYS)):  # by keyboard: `]` pages the region from anywhere
            await pilot.press("]")
        await pilot.pause()
        assert notes.scroll_y == notes.max_scroll_y
        shown = screen_text(app)
        assert f"agg_shipments {DAYS[-1]}: tt_late_shipments 1 → 2" in shown, shown
        await pilot.press("[")
        await pilot.pause()
        assert notes.scroll_y < notes.max_scroll_y
