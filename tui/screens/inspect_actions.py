"""The main screen's part of data inspection: previews through the results viewer, the `:` SQL pane, names.

The main screen holds one `MainInspection` and hands it these actions, as it hands the layout,
the runs, the export gate and the log to their parts. A warehouse table previews as a core table
view (primary-key order, paged, sorted and filtered on the server); an S3 object as its typed
sample. An object that is not plain CSV text (binary, compressed, rows of the wrong width) falls
back to the plain preview pane, which names it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tui.widgets.browse.lake_tree import LakeItem
from tui.widgets.browse.warehouse_tree import WarehouseItem

if TYPE_CHECKING:
    from tui.inspect.workbench import Workbench
    from tui.screens.main import MainScreen
    from tui.widgets.inspect.results_viewer import ResultsViewer


def quoted(name: str) -> str:
    """A name as SQL needs it: plain when it is a lowercase identifier, else in double quotes."""
    plain = name.isidentifier() and name == name.lower() and name.isascii()
    return name if plain else '"' + name.replace('"', '""') + '"'


class MainInspection:
    """Inspection's actions and handlers on the main screen (registry scope "main")."""

    def __init__(self, screen: MainScreen) -> None:
        self.screen = screen

    def _workbench(self, needed: str) -> Workbench | None:
        """The workbench, if `needed` ("s3" or "warehouse") is reachable; else the operator is told why."""
        app = self.screen.host
        if app.need_services(needed) is None:
            return None
        return app.workbench

    def node_selected(self, item: object) -> None:
        """Enter on a tree node: an S3 object or a warehouse table previews (other nodes only expand)."""
        if isinstance(item, LakeItem) and item.kind == "object":
            self.inspect_object(item.bucket, item.key)
        elif isinstance(item, WarehouseItem) and item.kind == "table":
            self.inspect_table(item.schema, item.table)

    def inspect_table(self, schema: str, table: str) -> None:
        if (workbench := self._workbench("warehouse")) is not None:
            from etl_core.inspect.table_view import TableView  # all imported by the services' worker, once connected
            from tui.inspect.sources import TableSource

            self.screen.panes.show_preview(data=True)
            self.screen.panes.data_preview.load(TableSource(workbench, TableView(schema, table)))

    def inspect_object(self, bucket: str, key: str) -> None:
        if (workbench := self._workbench("s3")) is not None:
            from tui.inspect.sources import SampleSource

            self.screen.panes.show_preview(data=True)
            self.screen.panes.data_preview.load(SampleSource(workbench, bucket, key))

    def viewer_done(self, message: ResultsViewer.Done) -> None:
        from tui.inspect.sources import NotTabular, SampleSource  # loaded already: the viewer had a source

        source = message.viewer.source
        if isinstance(message.exc, NotTabular) and isinstance(source, SampleSource):
            from etl_core import browse  # loaded with the services, after the first frame

            services, bucket, key = source.workbench.services, source.bucket, source.key
            self.screen.panes.show_preview(data=False)
            self.screen.panes.preview_pane.load(source.title, lambda: browse.preview_object(services, bucket, key))

    def _query_workbench(self) -> Workbench | None:
        """The workbench once connected, even with the warehouse down: the SQL pane itself says it is unreachable."""
        app = self.screen.host
        if app.workbench is None:
            app.need_services()  # says "still connecting" or why the services could not start
        return app.workbench

    def open_query(self, insert: str | None = None) -> None:
        """The SQL pane, with `insert` (a query) put in at its cursor."""
        if (workbench := self._query_workbench()) is not None:
            from tui.screens.query import open_query_screen  # imported by the services' worker, once connected

            open_query_screen(self.screen.app, workbench, insert=insert)

    def insert_name(self) -> None:
        """The warehouse tree's table (schema.table) or column name, into the SQL pane at its cursor."""
        tree = self.screen.panes.warehouse
        node = tree.cursor_node if tree.has_focus else None
        item = node.data if node is not None else None
        if item is None or item.kind not in ("table", "column"):
            self.screen.notify("select a table or a column in the warehouse tree (2), then press i")
            return
        name = quoted(item.column) if item.kind == "column" else f"{quoted(item.schema)}.{quoted(item.table)}"
        if (workbench := self._query_workbench()) is not None:
            from tui.screens.query import open_query_screen

            open_query_screen(self.screen.app, workbench, insert=name)
