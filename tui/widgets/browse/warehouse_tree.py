"""The warehouse pane: the operator's schemas and the dimension schema, with tables and row counts.

The tree lists itself in a thread worker (WarehouseListed comes back to it) on `refresh_listing`.
Expanding a table lists its columns with type, nullability and primary key (SQLAlchemy's
Inspector, through the core's Catalog, in a worker; ColumnsListed comes back).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from rich.text import Text
from textual import work
from textual.widgets import Tree
from textual.widgets.tree import NodeID, TreeNode, UnknownNodeID

from tui.format import count
from tui.messages import ColumnsListed, ColumnsListFailed, WarehouseListed
from tui.status_style import RED, YELLOW
from tui.widgets.browse.fitted_tree import FittedTree
from tui.workers import in_thread, post_unless_cancelled

if TYPE_CHECKING:
    from etl_core.browse import SchemaInfo
    from etl_core.inspect.catalog import Catalog, TableDescription
    from etl_core.services import Services


@dataclass
class WarehouseItem:
    kind: str  # schema, table, column, note
    schema: str = ""
    table: str = ""
    rows: int = 0
    column: str = ""
    loaded: bool = False  # a table whose columns are listed


class WarehouseTree(FittedTree[WarehouseItem]):
    def __init__(self, **kwargs) -> None:
        super().__init__("Warehouse", **kwargs)
        self.show_root = False
        self.guide_depth = 3
        self._collapsed: set[str] = set()
        self.services: Services | None = None
        self.catalog: Catalog | None = None
        self.auto_expand = False  # Enter previews a table; space (or a click on the arrow) lists its columns

    def connect(self, services: Services, catalog: Catalog) -> None:
        """List the warehouse; `catalog` (the inspection workbench's) lists a table's columns."""
        self.services = services
        self.catalog = catalog
        self.refresh_listing()

    def refresh_listing(self) -> None:
        services = self.services
        if services is not None:
            self._list_warehouse(services)

    @work(thread=True, exit_on_error=False, name="warehouse listing", group="warehouse", exclusive=True)
    def _list_warehouse(self, services: Services) -> None:
        from etl_core import browse  # the core's heavy modules load after the first frame

        post_unless_cancelled(self, WarehouseListed(browse.list_warehouse(services)))  # a newer listing wins

    def on_warehouse_listed(self, message: WarehouseListed) -> None:
        config = self.services.config if self.services else None
        roles = (
            {
                config.staging_schema: "staging",
                config.analytics_schema: "analytics",
                config.warehouse.dims_schema: "dimensions",
            }
            if config
            else {}
        )
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
            node = self.root.add(label, WarehouseItem("schema", schema.name), expand=schema.name not in self._collapsed)
            for table in schema.tables:
                node.add(
                    Text.assemble(table.name, ("  " + count(table.rows, "rows"), "cyan")),
                    WarehouseItem("table", schema.name, table.name, table.rows),
                    allow_expand=True,
                )
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

    # columns ------------------------------------------------------------------------------------
    def on_tree_node_expanded(self, event: Tree.NodeExpanded[WarehouseItem]) -> None:
        item, catalog = event.node.data, self.catalog
        if item is None or item.kind != "table" or item.loaded or catalog is None:
            return
        item.loaded = True
        node_id, schema, table = event.node.id, item.schema, item.table
        event.node.add_leaf(Text("listing columns …", style="italic dim"), WarehouseItem("note"))
        in_thread(
            self,
            f"columns of {schema}.{table}",
            lambda: catalog.describe(schema, table),
            lambda described: ColumnsListed(node_id, described),
            group="warehouse-columns",
            failed=lambda error: ColumnsListFailed(node_id, error),
        )

    def _node(self, node_id: int) -> TreeNode[WarehouseItem] | None:
        try:
            return self.get_node_by_id(NodeID(node_id))
        except UnknownNodeID:  # the tree was rebuilt meanwhile
            return None

    def on_columns_listed(self, message: ColumnsListed) -> None:
        node = self._node(message.node_id)
        if node is None:
            return
        node.remove_children()
        for label, item in column_leaves(message.table):
            node.add_leaf(label, item)

    def on_columns_list_failed(self, message: ColumnsListFailed) -> None:
        node = self._node(message.node_id)
        if node is None:
            return
        node.remove_children()
        node.add_leaf(Text(f"cannot list the columns: {message.error}", style=RED), WarehouseItem("note"))
        if node.data is not None:
            node.data.loaded = False  # collapsing and expanding again retries


def column_leaves(table: TableDescription) -> list[tuple[Text, WarehouseItem]]:
    """ "order_id  integer  PK", "order_date  date  null": one leaf per column, in table order."""
    leaves = []
    for column in table.columns:
        label = Text.assemble(column.name, ("  " + column.type_name, "cyan"))
        if column.primary_key:
            label.append("  PK", style=f"bold {YELLOW}")
        label.append("  null" if column.nullable else "  not null", style="dim")
        leaves.append((label, WarehouseItem("column", table.schema, table.table, column=column.name)))
    return leaves
