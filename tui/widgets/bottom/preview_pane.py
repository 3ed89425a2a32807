"""The preview pane: the first rows of an S3 object or a warehouse table, long cells on demand.

The pane loads what it shows in a thread worker (`load`); only the newest request is shown.
"""

from __future__ import annotations

from collections.abc import Callable

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import DataTable, Static

from etl_core.browse import Preview
from tui.format import cell_text, short
from tui.messages import BackgroundError, PreviewFailed, PreviewReady
from tui.workers import in_thread


class PreviewTable(DataTable):
    pass


class PreviewPane(Vertical):
    """Shows a core `Preview`; Enter (or v) on a cell shows that cell in full."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.preview: Preview | None = None
        self._request = 0
        self.columns: list[str] = []
        self.rows: list[list[str]] = []

    def compose(self) -> ComposeResult:
        yield Static("Select an S3 object or a warehouse table and press Enter to preview it.", id="preview-caption")
        yield PreviewTable(cursor_type="cell", zebra_stripes=True, id="preview-table")

    def on_mount(self) -> None:
        self.border_title = "Preview"

    @property
    def table(self) -> PreviewTable:
        return self.query_one(PreviewTable)

    def load(self, title: str, job: Callable[[], Preview]) -> None:
        self._request += 1
        request = self._request
        self.show_loading(title)
        in_thread(self, f"preview {title}", job, lambda preview: PreviewReady(request, preview), group="preview",
                  failed=lambda error: PreviewFailed(request, title, error))

    def on_preview_ready(self, message: PreviewReady) -> None:
        if message.request == self._request:
            self.show(message.preview)

    def on_preview_failed(self, message: PreviewFailed) -> None:
        if message.request == self._request:
            self.show_error(message.title, message.error)
        self.post_message(BackgroundError(f"preview of {message.title} failed", message.error))

    def show_loading(self, title: str) -> None:
        self.border_title = f"Preview · {title}"
        self.query_one("#preview-caption", Static).update(Text(f"loading {title} …", style="italic dim"))
        self.table.clear(columns=True)

    def show_error(self, title: str, error: str) -> None:
        self.border_title = f"Preview · {title}"
        self.query_one("#preview-caption", Static).update(Text(f"cannot preview {title}: {error}", style="red"))
        self.table.clear(columns=True)

    def show(self, preview: Preview) -> None:
        self.preview = preview
        self.columns = list(preview.columns)
        self.rows = [[cell_text(v) for v in row] for row in preview.rows]
        self.border_title = f"Preview · {preview.title}"
        self.query_one("#preview-caption", Static).update(
            Text.assemble((preview.caption, "bold"), ("   Enter or v on a cell: full text", "dim")))
        table = self.table
        table.clear(columns=True)
        for name in self.columns:
            table.add_column(name, key=name)
        for row in self.rows:
            table.add_row(*[short(v) for v in row])

    def cell_at_cursor(self) -> tuple[str, str] | None:
        """(column, full text) of the cell under the cursor."""
        if not self.rows:
            return None
        row, column = self.table.cursor_coordinate
        if 0 <= row < len(self.rows) and 0 <= column < len(self.columns):
            return self.columns[column], self.rows[row][column]
        return None
