"""The results grid: any number of rows on screen through the Line API, drawn from the pages it was given.

Only the visible lines are drawn, so a million-row result scrolls as fast as a hundred-row one.
Rows come in pages (`add_page`) from the viewer that owns the grid; a visible row whose page is
missing is drawn as "…" and asked for with `PagesWanted`. At most `keep_pages` pages stay in the
grid (the least recently drawn go). Every value is drawn as plain text: no markup, and control
characters are shown as their Unicode pictures, so data can neither style nor move the screen.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding, BindingType
from textual.geometry import Region, Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from tui.format import CELL_WIDTH, cell_text

if TYPE_CHECKING:
    from tui.inspect.sources import ColumnHead

HEADER_LINES = 2  # the column names, then their types
KEEP_PAGES = 12
KEPT_LINES = 400  # drawn rows kept (a few screens)
PADDING = 1  # blank cells either side of a value
_CONTROL = {code: chr(0x2400 + code) for code in range(32)} | {0x7F: "\u2421"}


def plain(text: str) -> str:
    """Text safe to draw as it is: line breaks as ⏎, other control characters as their Unicode pictures."""
    return text.replace("\r\n", "⏎").replace("\n", "⏎").translate(_CONTROL)


def fit(text: str, width: int) -> str:
    """`text` in exactly `width` cells: padded, or cut with an ellipsis."""
    if text.isascii():  # one cell a character: the common case, and ten times cheaper
        return text.ljust(width) if len(text) <= width else text[: width - 1] + "…"
    if cell_len(text) <= width:
        return set_cell_size(text, width)
    return set_cell_size(text, width - 1) + "…"


class ResultsGrid(ScrollView, can_focus=True):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up", "move(-1, 0)", "Up", show=False),
        Binding("down", "move(1, 0)", "Down", show=False),
        Binding("left", "move(0, -1)", "Left", show=False),
        Binding("right", "move(0, 1)", "Right", show=False),
        Binding("pageup", "page(-1)", "Page up", show=False),
        Binding("pagedown", "page(1)", "Page down", show=False),
        Binding("home,ctrl+home", "edge(-1)", "First row", show=False),
        Binding("end,ctrl+end", "edge(1)", "Last row", show=False),
    ]
    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "results-grid--header",
        "results-grid--type",
        "results-grid--key",
        "results-grid--odd",
        "results-grid--cursor",
        "results-grid--cursor-row",
        "results-grid--missing",
        "results-grid--null",
        "results-grid--bad",
    }
    DEFAULT_CSS = """
    ResultsGrid { background: $surface; }
    ResultsGrid > .results-grid--header { text-style: bold; color: $text; background: $panel; }
    ResultsGrid > .results-grid--type { color: $text-muted; background: $panel; }
    ResultsGrid > .results-grid--key { text-style: bold underline; color: $accent; background: $panel; }
    ResultsGrid > .results-grid--odd { background: $surface-lighten-1; }
    ResultsGrid > .results-grid--cursor-row { background: $boost; }
    ResultsGrid > .results-grid--cursor { background: $accent 40%; }
    ResultsGrid:focus > .results-grid--cursor { background: $accent; color: $text; }
    ResultsGrid > .results-grid--missing { color: $text-disabled; }
    ResultsGrid > .results-grid--null { color: $text-muted; text-style: italic; }
    ResultsGrid > .results-grid--bad { color: $error; text-style: bold; }
    """

    @dataclass
    class PagesWanted(Message):
        """Visible rows whose pages the grid does not hold."""

        grid: ResultsGrid
        pages: tuple[int, ...]

    @dataclass
    class CursorMoved(Message):
        grid: ResultsGrid
        row: int
        column: int

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.columns: tuple[ColumnHead, ...] = ()
        self.total_rows = 0
        self.page_size = 200
        self.keep_pages = KEEP_PAGES
        self.bad_cells: dict[tuple[int, int], str] = {}
        self.cursor_row = 0
        self.cursor_column = 0
        self._pages: OrderedDict[int, Sequence[tuple[Any, ...]]] = OrderedDict()
        self._asked: set[int] = set()
        self._widths: list[int] = []
        self._offsets: list[int] = []  # x of each column's first cell
        self._styles: dict[str, Style] = {}
        self._base = Style()
        self._lines: dict[int, Strip] = {}  # drawn rows, cleared when the rows, pages or styles change

    # --- content -----------------------------------------------------------------------------

    def show(
        self,
        columns: tuple[ColumnHead, ...],
        total_rows: int,
        page_size: int,
        first_page: Sequence[tuple[Any, ...]],
        bad_cells: dict[tuple[int, int], str] | None = None,
    ) -> None:
        """A new result: its columns, row count and first page; the cursor goes to the top left."""
        self.columns, self.total_rows, self.page_size = columns, total_rows, page_size
        self.bad_cells = bad_cells or {}
        self._pages.clear()
        self._asked.clear()
        self._lines.clear()
        self._pages[0] = first_page
        self._widths = [self._width(i, first_page) for i in range(len(columns))]
        self._offsets = []
        x = 0
        for width in self._widths:
            self._offsets.append(x)
            x += width + 2 * PADDING + 1
        self.cursor_row = self.cursor_column = 0
        self.virtual_size = Size(x, total_rows + HEADER_LINES)
        self.scroll_to(0, 0, animate=False, immediate=True)
        self.refresh()
        self.post_message(self.CursorMoved(self, 0, 0))

    def set_total(self, total_rows: int) -> None:
        """The count arrived after the first page."""
        self.total_rows = total_rows
        self.virtual_size = Size(self.virtual_size.width, total_rows + HEADER_LINES)
        self.refresh()

    def add_page(self, number: int, rows: Sequence[tuple[Any, ...]]) -> None:
        self._asked.discard(number)
        self._pages[number] = rows
        self._pages.move_to_end(number)
        self._lines.clear()  # rows drawn as "…" are in this page
        while len(self._pages) > self.keep_pages:
            self._pages.popitem(last=False)
        self.refresh()

    def page_failed(self, number: int) -> None:
        self._asked.discard(number)

    @property
    def held_pages(self) -> list[int]:
        return list(self._pages)

    def row(self, index: int) -> tuple[Any, ...] | None:
        """Row `index` if its page is held (else None: not loaded)."""
        rows = self._pages.get(index // self.page_size)
        if rows is None:
            return None
        offset = index % self.page_size
        return rows[offset] if offset < len(rows) else None

    @property
    def visible_rows(self) -> tuple[int, int]:
        """First and last (excluded) row index on screen."""
        first = int(self.scroll_offset.y)
        return first, min(self.total_rows, first + max(0, self.size.height - HEADER_LINES))

    def _width(self, index: int, rows: Sequence[tuple[Any, ...]]) -> int:
        head = self.columns[index]
        widest = max(
            [
                cell_len(head.name),
                cell_len(self._type_label(head)),
                *(cell_len(plain(cell_text(row[index]))) for row in rows if index < len(row)),
            ]
        )
        return max(3, min(CELL_WIDTH, widest))

    @staticmethod
    def _type_label(head: ColumnHead) -> str:
        label = head.type_name + (" PK" if head.key else "") + (" null" if head.nullable else "")
        return label + (f" ⚠{head.bad_values}" if head.bad_values else "")

    # --- drawing -----------------------------------------------------------------------------

    def render_lines(self, crop: Region) -> list[Strip]:
        styles = {
            name: self.get_component_rich_style(f"results-grid--{name}")
            for name in ("header", "type", "key", "odd", "cursor", "cursor-row", "missing", "null", "bad")
        }
        base = self.rich_style  # computed once a frame: the property walks the styles each time
        if styles != self._styles or base != self._base:  # focus, theme: every row is drawn again
            self._lines.clear()
        self._styles, self._base = styles, base
        return super().render_lines(crop)

    def render_line(self, y: int) -> Strip:
        if not self.columns:
            return Strip.blank(self.size.width, self._base)
        scroll_x, width = int(self.scroll_offset.x), self.size.width
        if y < HEADER_LINES:
            strip = self._header_line(y)
        else:
            index = int(self.scroll_offset.y) + y - HEADER_LINES
            if index >= self.total_rows:
                return Strip.blank(width, self._base)
            strip = self._row_line(index)
        return strip.crop_extend(scroll_x, scroll_x + width, self._base)

    def _header_line(self, y: int) -> Strip:
        segments = []
        for index, head in enumerate(self.columns):
            if y == 0:
                style = self._styles["key"] if head.key else self._styles["header"]
                text = head.name
            else:
                style = self._styles["bad"] + self._styles["type"] if head.bad_values else self._styles["type"]
                text = self._type_label(head)
            segments.append(Segment(" " * PADDING + fit(plain(text), self._widths[index]) + " " * PADDING, style))
            segments.append(Segment("│", self._styles["type"]))
        return Strip(segments)

    def _row_line(self, index: int) -> Strip:
        """The whole width of row `index`; kept for the rows off the cursor, so scrolling draws only new rows."""
        cursor = index == self.cursor_row
        if not cursor and (kept := self._lines.get(index)) is not None:
            return kept
        row = self.row(index)
        if row is None:
            self._want(index // self.page_size)
        base = self._base + self._styles["odd"] if index % 2 else self._base
        if index == self.cursor_row:
            base += self._styles["cursor-row"]
        segments = []
        for column, width in enumerate(self._widths):
            style = base
            if row is None:
                text, style = "…", base + self._styles["missing"]
            else:
                value = row[column] if column < len(row) else None
                text = plain(cell_text(value))
                if value is None:
                    style = base + self._styles["null"]
                if (index, column) in self.bad_cells:
                    style = style + self._styles["bad"]
            if index == self.cursor_row and column == self.cursor_column:
                style = style + self._styles["cursor"]
            segments.append(Segment(" " * PADDING + fit(text, width) + " " * PADDING, style))
            segments.append(Segment("│", base + self._styles["missing"]))
        strip = Strip(segments)
        if not cursor and row is not None:
            if len(self._lines) >= KEPT_LINES:
                self._lines.clear()
            self._lines[index] = strip
        return strip

    def _want(self, page: int) -> None:
        if page not in self._asked:
            self._asked.add(page)
            self.post_message(self.PagesWanted(self, (page,)))

    # --- the cursor --------------------------------------------------------------------------

    def move_cursor(self, row: int, column: int) -> None:
        if not self.columns or not self.total_rows:
            return
        row = max(0, min(self.total_rows - 1, row))
        column = max(0, min(len(self.columns) - 1, column))
        changed = (row, column) != (self.cursor_row, self.cursor_column)
        self._lines.pop(self.cursor_row, None)  # drawn as the cursor row: drawn again without it
        self.cursor_row, self.cursor_column = row, column
        self._scroll_to_cursor()
        self.refresh()
        if changed:
            self.post_message(self.CursorMoved(self, row, column))

    def _scroll_to_cursor(self) -> None:
        rows_on_screen = max(1, self.size.height - HEADER_LINES)
        y = self.scroll_offset.y
        if self.cursor_row < y:
            y = self.cursor_row
        elif self.cursor_row >= y + rows_on_screen:
            y = self.cursor_row - rows_on_screen + 1
        x = self.scroll_offset.x
        left = self._offsets[self.cursor_column]
        right = left + self._widths[self.cursor_column] + 2 * PADDING + 1
        if left < x:
            x = left
        elif right > x + self.size.width:
            x = max(left if right - left > self.size.width else right - self.size.width, 0)
        self.scroll_to(x, y, animate=False, immediate=True)

    def action_move(self, rows: int, columns: int) -> None:
        self.move_cursor(self.cursor_row + rows, self.cursor_column + columns)

    def action_page(self, direction: int) -> None:
        self.move_cursor(self.cursor_row + direction * max(1, self.size.height - HEADER_LINES - 1), self.cursor_column)

    def action_edge(self, direction: int) -> None:
        self.move_cursor(0 if direction < 0 else self.total_rows - 1, self.cursor_column)

    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is None or offset.y < HEADER_LINES or not self._offsets:
            return
        x = int(self.scroll_offset.x) + offset.x
        column = max(i for i, start in enumerate(self._offsets) if start <= x) if x >= 0 else 0
        self.move_cursor(int(self.scroll_offset.y) + offset.y - HEADER_LINES, column)
