"""Browsing both trees and previewing an object and a table, against the real services."""

from __future__ import annotations

from tui.screens.cell import CellScreen
from tui_helpers import SIZE, data_of, make_app, settle


async def test_browse_lake_and_warehouse_and_preview(env):
    app = make_app(env)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        lake = app.main.panes.lake
        bucket = lake.root.children[0]
        assert data_of(bucket).bucket == env.bucket and bucket.is_expanded
        names = [str(str(child.label)) for child in bucket.children]
        assert any(name.startswith("orders_data/") for name in names), names
        # expand the prefix: one level listed lazily, objects with size and last-modified
        prefix = next(c for c in bucket.children if data_of(c).kind == "prefix")
        assert not data_of(prefix).loaded
        prefix.expand()
        await settle(pilot)
        objects = {data_of(c).key: c for c in prefix.children}
        assert set(objects) == {
            "orders_data/orders.csv",
            "orders_data/reviews.csv",
            "orders_data/shipment_deliveries.csv",
        }
        orders = objects["orders_data/orders.csv"]
        assert "152 B" in str(orders.label) and data_of(orders).last_modified is not None
        # Enter on an object previews its first rows
        lake.focus()
        lake.move_cursor(orders)
        await pilot.press("enter")
        await settle(pilot)
        assert app.main.panes.bottom.current == "data-preview"
        preview = app.main.panes.data_preview
        assert [c.name for c in preview.grid.columns][:3] == ["order_id", "customer_id", "order_date"]
        assert (preview.grid.row(0) or ())[:3] == ("1", "1", "2022-01-03") and preview.grid.total_rows == 3
        assert "rows 1–3 of 3" in str(preview.caption.render())
        # a cell opens in full
        preview.grid.focus()
        preview.grid.move_cursor(1, 2)
        await pilot.press("v")
        await pilot.pause()
        assert isinstance(app.screen, CellScreen) and app.screen.text == "2022-05-02"
        await pilot.press("escape")

        # warehouse: dimension schema with tables and row counts; staging not created yet
        rows = app.main.panes.warehouse.table_rows()
        assert rows[f"{env.dims_schema}.dim_dates"] == 1461
        assert rows[f"{env.dims_schema}.dim_customers"] == 25
        schemas = [data_of(c).schema for c in app.main.panes.warehouse.root.children]
        assert schemas == [f"{env.user_id}_staging", f"{env.user_id}_analytics", env.dims_schema]
        # Enter on a table: first rows with "showing N of M"
        warehouse = app.main.panes.warehouse
        node = next(t for s in warehouse.root.children for t in s.children if data_of(t).table == "dim_customers")
        warehouse.focus()
        warehouse.move_cursor(node)
        await pilot.press("enter")
        await settle(pilot)
        assert "rows 1–25 of 25" in str(preview.caption.render())
        assert preview.grid.row(0) == (1, "customer 1", 100001)
