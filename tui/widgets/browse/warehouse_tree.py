"""The warehouse pane: the operator's schemas and the dimension schema, with tables and row counts.

The tree lists itself in a thread worker (WarehouseListed comes back to it) on `refresh_listing`.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text

from etl_core import browse
from etl_core.browse import SchemaInfo
from etl_core.services import Services
from tui.format import count
from tui.messages import WarehouseListed
from tui.widgets.browse.fitted_tree import FittedTree
from tui.workers import in_thread


@dataclass
class WarehouseItem:
    kind: str  # schema, table, note
    schema: str = ""
    table: str = ""
    rows: int = 0


class WarehouseTree(FittedTree[WarehouseItem]):
    def __init__(self, **kwargs) -> None:
        super().__init__("Warehouse", **kwargs)
        self.show_root = False
        self.guide_depth = 3
        self._collapsed: set[str] = set()
        self.services: Services | None = None

    def connect(self, services: Services) -> None:
        self.services = services
        self.refresh_listing()

    def refresh_listing(self) -> None:
        services = self.services
        if services is not None:
            in_thread(self, "warehouse listing", lambda: browse.list_warehouse(services), WarehouseListed,
                      group="warehouse", exclusive=True)

    def on_warehouse_listed(self, message: WarehouseListed) -> None:
        config = self.services.config if self.services else None
        roles = {config.staging_schema: "staging", config.analytics_schema: "analytics",
                 config.warehouse.dims_schema: "dimensions"} if config else {}
        self.set_schemas(message.schemas, roles)

    def set_message(self, text: str, style: str = "dim") -> None:
        self.services = None
        self.clear()
        self.root.add_leaf(Text(text, style=style), WarehouseItem("note"))

    def set_schemas(self, schemas: list[SchemaInfo], roles: dict[str, str]) -> None:
        """Rebuild from browse.list_warehouse, keeping which schemas the operator collapsed and the cursor."""
        for node in self.root.children:
            if node.data is None or node.data.kind != "schema" or not node.allow_expand:
                continue
            if node.is_expanded:
                self._collapsed.discard(node.data.schema)
            else:
                self._collapsed.add(node.data.schema)
        cursor = self.cursor_line
        self.clear()
        for schema in schemas:
            role = roles.get(schema.name, "")
            if not schema.exists:
                label = Text.assemble((schema.name, "bold"), (f"  {role} · not created yet", "dim"))
                self.root.add_leaf(label, WarehouseItem("schema", schema.name))
                continue
            label = Text.assemble((schema.name, "bold"), (f"  {role} · {len(schema.tables)} tables", "dim"))
            node = self.root.add(label, WarehouseItem("schema", schema.name),
                                 expand=schema.name not in self._collapsed)
            for table in schema.tables:
                node.add_leaf(Text.assemble(table.name, ("  " + count(table.rows, "rows"), "cyan")),
                              WarehouseItem("table", schema.name, table.name, table.rows))
        if cursor >= 0:
            self.cursor_line = min(cursor, max(0, self.last_line))

    def table_rows(self) -> dict[str, int]:
        """{"schema.table": rows} as shown (used by tests and the status line)."""
        found = {}
        for schema in self.root.children:
            for table in schema.children:
                if table.data and table.data.kind == "table":
                    found[f"{table.data.schema}.{table.data.table}"] = table.data.rows
        return found
