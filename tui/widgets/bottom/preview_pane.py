"""The preview pane: the first rows of an S3 object or a warehouse table, long cells on demand.

The pane loads what it shows in a thread worker (`load`); only the newest request is shown. Every
header, cell and title is rich Text: data is shown literally, never as markup. Rows whose field
count differs from the header's are padded and flagged in a leading column; a compressed or
binary object is named ("gzip-compressed object, 1.2 MB") instead of shown as rows.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import DataTable, Static

from tui.format import cell_text, count, human_size, short
from tui.messages import BackgroundError, PreviewFailed, PreviewReady
from tui.status_style import RED, WARN
from tui.workers import in_thread

if TYPE_CHECKING:
    from etl_core.browse import Preview

FLAG_COLUMN = "fields"


class PreviewTable(DataTable[object]):
    pass


def caption(preview: Preview) -> Text:
    """What the pane says above the rows."""
    if preview.kind is not None:
        return Text.assemble(
            (f"{preview.kind} object, {human_size(preview.size)}", "bold"),
            ("   not shown as rows: the console previews CSV text", "dim"),
        )
    text = Text.assemble((preview.caption, "bold"))
    if preview.ragged:
        rows = f"{count(len(preview.ragged))} {'row does' if len(preview.ragged) == 1 else 'rows do'}"
        text.append(
            f"   {rows} not have the header's {count(preview.header_fields, 'fields')}: padded, flagged ⚠",
            style=WARN,
        )
    text.append("   Enter or v on a cell: full text", style="dim")
    return text


class PreviewPane(Vertical):
    """Shows a core `Preview`; Enter (or v) on a cell shows that cell in full."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.preview: Preview | None = None
        self._request = 0
        self.columns: list[str] = []
        self.rows: list[list[str]] = []

    def compose(self) -> ComposeResult:
        yield Static(
            Text("Select an S3 object or a warehouse table and press Enter to preview it.", style="dim"),
            id="preview-caption",
        )
        yield PreviewTable(cursor_type="cell", zebra_stripes=True, id="preview-table")

    def on_mount(self) -> None:
        self.border_title = "Preview (p)"

    @property
    def table(self) -> PreviewTable:
        return self.query_one(PreviewTable)

    def load(self, title: str, job: Callable[[], Preview]) -> None:
        self._request += 1
        request = self._request
        self.show_loading(title)
        in_thread(
            self,
            f"preview {title}",
            job,
            lambda preview: PreviewReady(request, preview),
            group="preview",
            failed=lambda error: PreviewFailed(request, title, error),
        )

    def on_preview_ready(self, message: PreviewReady) -> None:
        if message.request == self._request:
            self.show(message.preview)

    def on_preview_failed(self, message: PreviewFailed) -> None:
        if message.request == self._request:
            self.show_error(message.title, message.error)
        self.post_message(BackgroundError(f"preview of {message.title} failed", message.error))

    def _title(self, title: str) -> None:
        self.border_title = Text.assemble("Preview (p) · ", title)

    def show_loading(self, title: str) -> None:
        self._title(title)
        self.query_one("#preview-caption", Static).update(Text(f"loading {title} …", style="italic dim"))
        self.preview, self.columns, self.rows = None, [], []
        self.table.clear(columns=True)

    def show_error(self, title: str, error: str) -> None:
        self._title(title)
        self.query_one("#preview-caption", Static).update(Text(f"cannot preview {title}: {error}", style=RED))
        self.table.clear(columns=True)

    def show(self, preview: Preview) -> None:
        self.preview = preview
        self.columns = list(preview.columns)
        self.rows = [[cell_text(v) for v in row] for row in preview.rows]
        self._title(preview.title)
        self.query_one("#preview-caption", Static).update(caption(preview))
        table = self.table
        table.clear(columns=True)
        flagged = bool(preview.ragged)
        if flagged:
            table.add_column(Text(FLAG_COLUMN, style=WARN), key=FLAG_COLUMN)
        for index, name in enumerate(self.columns):
            table.add_column(Text(name), key=f"c{index}")
        for index, row in enumerate(self.rows):
            cells = [Text(short(value)) for value in row]
            if flagged:
                fields = preview.ragged.get(index)
                flag = Text(f"⚠ {count(fields, 'fields')}", style=WARN) if fields is not None else Text("")
                cells.insert(0, flag)
            table.add_row(*cells)

    def cell_at_cursor(self) -> tuple[str, str] | None:
        """(column, full text) of the cell under the cursor."""
        if not self.rows:
            return None
        row, column = self.table.cursor_coordinate
        if self.preview is not None and self.preview.ragged:
            column -= 1  # the flag column
        if 0 <= row < len(self.rows) and 0 <= column < len(self.columns):
            return self.columns[column], self.rows[row][column]
        return None
