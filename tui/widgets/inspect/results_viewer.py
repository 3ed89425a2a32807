"""The results viewer: a caption and the grid over one `DataSource`, paged, sorted, filtered, profiled, copied, saved.

The viewer opens its source and fetches pages in thread workers that only post messages (one
fetch at a time: a held cursor answers one statement at a time, and rows scrolled past meanwhile
are not fetched). Each `load` starts a new generation; messages from an older one are dropped and
its result is closed. Sorting and filtering make a new source (server-side for tables and
query results) and load it.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.message import Message
from textual.timer import Timer
from textual.widgets import Static

from etl_core.inspect.paging import Page, rows_caption
from tui.actions import bindings
from tui.format import cell_text
from tui.status_style import BAD, RED, WARN
from tui.widgets.inspect.results_grid import ResultsGrid
from tui.workers import describe

if TYPE_CHECKING:
    from etl_core.inspect.profile import ColumnProfile
    from tui.inspect.sources import ColumnHead, DataSource, FirstPage, Opened

CAPTION_DELAY_S = 0.05


@dataclass
class FirstPageShown(Message, bubble=False):
    generation: int
    columns: tuple[ColumnHead, ...]
    page: Page


@dataclass
class SourceOpened(Message, bubble=False):
    generation: int
    opened: Opened


@dataclass
class SourceFailed(Message, bubble=False):
    generation: int
    error: str
    exc: BaseException | None = None


@dataclass
class PageLoaded(Message, bubble=False):
    generation: int
    number: int
    rows: list[tuple[Any, ...]] | None
    error: str = ""


def row_csv(values: tuple[Any, ...]) -> str:
    """One row as a CSV line (NULL as an empty field, as COPY writes it), without the line break."""
    out = io.StringIO()
    csv.writer(out, lineterminator="").writerow(["" if v is None else cell_text(v) for v in values])
    return out.getvalue()


# The terminal never says whether it took an OSC 52 write (tmux needs `set -g set-clipboard on`,
# some terminals refuse it): say what was done, not that it worked.
SENT_TO_CLIPBOARD = "sent to the terminal's clipboard (OSC 52); if nothing pastes, see docs/TUI.md"


class ResultsViewer(Vertical):
    @dataclass
    class Done(Message):
        """A load ended: opened (`error` empty), or failed with `exc` (a QueryError carries its position)."""

        viewer: ResultsViewer
        opened: Opened | None
        error: str = ""
        exc: BaseException | None = None

    class DialogWanted(Message):
        """The viewer wants a dialog; the screen that holds the viewer opens it (a widget never opens a screen)."""

    @dataclass
    class FilterWanted(DialogWanted):
        """Ask for a filter on `column`; `answered` gets the typed condition (empty: equal to the value) or None."""

        column: str
        value_text: str
        is_null: bool
        answered: Callable[[str | None], None]

    @dataclass
    class ProfileWanted(DialogWanted):
        """Show the profile `job` computes (in the dialog's worker); `cancel` stops its statement."""

        title: str
        job: Callable[[], ColumnProfile]
        cancel: Callable[[], None]

    @dataclass
    class SaveWanted(DialogWanted):
        source: DataSource
        opened: Opened

    @dataclass
    class CellWanted(DialogWanted):
        column: str
        text: str

    BINDINGS: ClassVar[list[BindingType]] = [
        *bindings("results"),
        Binding("v,enter", "show_cell", "View cell", show=False),
    ]

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.source: DataSource | None = None
        self.opened: Opened | None = None
        self.generation = 0
        self.error = ""
        self._first: Page | None = None
        self._wanted: list[int] = []
        self._fetching: int | None = None
        self._keep_column = 0
        self._caption_timer: Timer | None = None

    def compose(self) -> ComposeResult:
        yield Static(Text("no result yet", style="dim"), classes="results-caption")
        yield ResultsGrid(classes="results-grid")

    @property
    def grid(self) -> ResultsGrid:
        return self.query_one(ResultsGrid)

    @property
    def caption(self) -> Static:
        return self.query_one(".results-caption", Static)

    # --- loading -----------------------------------------------------------------------------

    def load(
        self, source: DataSource, keep_column: int = 0, opener: Callable[[FirstPage], Opened] | None = None
    ) -> None:
        """Open `source` (or run `opener`) in a worker; the first page shows as soon as it is fetched."""
        generation = self._begin(source)
        self._keep_column = keep_column
        self._say(Text(f"loading {source.title} …", style="italic dim"))
        open_it = opener or source.open

        def first(columns: tuple[ColumnHead, ...], page: Page) -> None:
            self.post_message(FirstPageShown(generation, columns, page))

        def work() -> None:
            try:
                opened = open_it(first)
            except Exception as exc:  # noqa: BLE001 - shown in the viewer; the console keeps working
                self.post_message(SourceFailed(generation, describe(exc), exc))
                return
            self.post_message(SourceOpened(generation, opened))

        self.run_worker(work, name=f"open {source.title}", group="results-open", thread=True, exit_on_error=False)

    def failed_elsewhere(self, where: str) -> None:
        """The failure of the last load is said by the owner (`where`): the caption only points there."""
        self.error = ""
        self._say(Text(f"no result: the error is {where}", style="dim"))

    def show_error(self, title: str, error: str) -> None:
        self._begin(None)
        self.grid.show((), 0, 1, [])
        self._say(Text.assemble((f"{title}: ", BAD), (error, RED)))

    def _begin(self, source: DataSource | None) -> int:
        self.generation += 1
        if self._caption_timer is not None:
            self._caption_timer.stop()
            self._caption_timer = None
        self._close_opened()
        self.source, self.error, self._first = source, "", None
        self._wanted, self._fetching = [], None
        return self.generation

    def _close_opened(self) -> None:
        opened, self.opened = self.opened, None
        if opened is not None:  # closing a held cursor waits for its session: not on the UI thread
            self.run_worker(
                opened.close, name="close a result", group="results-close", thread=True, exit_on_error=False
            )

    def on_first_page_shown(self, message: FirstPageShown) -> None:
        if message.generation != self.generation:
            return
        self._first = message.page
        total = message.page.total_rows if message.page.total_rows is not None else len(message.page.rows)
        self.grid.show(message.columns, total, max(1, len(message.page.rows)), message.page.rows)
        self.grid.move_cursor(0, self._keep_column)
        self.refresh_caption()

    def on_source_opened(self, message: SourceOpened) -> None:
        opened = message.opened
        if message.generation != self.generation:
            self.run_worker(
                opened.close, name="close a stale result", group="results-close", thread=True, exit_on_error=False
            )
            return
        self.opened = opened
        rows = opened.rows
        if self._first is not None and self._first.total_rows is None:
            self.grid.set_total(rows.total_rows)  # the first page is on screen: only the count was missing
        else:
            first_rows = rows.page(0).rows if 0 in rows.cached_pages else []  # the held first page, in memory
            self.grid.show(opened.columns, rows.total_rows, rows.page_size, first_rows, opened.bad_cells)
            self.grid.move_cursor(0, self._keep_column)
        self.refresh_caption()
        self.post_message(self.Done(self, opened))

    def on_source_failed(self, message: SourceFailed) -> None:
        if message.generation == self.generation:
            self.error = message.error
            title = self.source.title if self.source else "result"
            self.grid.show((), 0, 1, [])
            self._say(Text.assemble((f"cannot show {title}: ", BAD), (message.error, RED)))
            self.post_message(self.Done(self, None, message.error, message.exc))

    # --- pages -------------------------------------------------------------------------------

    def on_results_grid_pages_wanted(self, message: ResultsGrid.PagesWanted) -> None:
        message.stop()
        for page in message.pages:
            if page not in self._wanted and page != self._fetching:
                self._wanted.append(page)
        self._fetch_next()

    def _fetch_next(self) -> None:
        opened = self.opened
        if self._fetching is not None or opened is None:
            return
        first, last = self.grid.visible_rows
        size = opened.rows.page_size
        visible = set(range(first // size, max(first, last - 1) // size + 1))
        self._wanted = [p for p in self._wanted if p in visible]
        if not self._wanted:
            return
        number = self._fetching = self._wanted.pop()
        generation = self.generation

        def work() -> None:
            try:
                rows = opened.rows.page(number).rows
            except Exception as exc:  # noqa: BLE001 - a lost connection, a closed result: said in the caption
                self.post_message(PageLoaded(generation, number, None, describe(exc)))
                return
            self.post_message(PageLoaded(generation, number, rows))

        self.run_worker(work, name=f"page {number + 1}", group="results-page", thread=True, exit_on_error=False)

    def on_page_loaded(self, message: PageLoaded) -> None:
        if message.generation != self.generation:
            return
        self._fetching = None
        if message.rows is None:
            self.grid.page_failed(message.number)
            self.error = message.error
            self._update_caption()
            return
        self.grid.add_page(message.number, message.rows)
        self._fetch_next()

    # --- the caption -------------------------------------------------------------------------

    def on_results_grid_cursor_moved(self, message: ResultsGrid.CursorMoved) -> None:
        message.stop()
        self._update_caption()

    def _say(self, text: Text) -> None:
        self.caption.update(text, layout=False)  # the caption's height is fixed: no layout a keystroke

    def _update_caption(self) -> None:
        """Soon, once for a burst of moves: a caption update lays the viewer out again (a key repeat is 30 a second)."""
        if self._caption_timer is None:
            self._caption_timer = self.set_timer(CAPTION_DELAY_S, self._show_caption)

    def _show_caption(self) -> None:
        self._caption_timer = None
        grid = self.grid
        if self.source is None:
            return
        first, last = grid.visible_rows
        counting = self.opened is None and self._first is not None and self._first.total_rows is None
        where = rows_caption(first, max(last, first + min(1, grid.total_rows)), None if counting else grid.total_rows)
        text = Text.assemble((self.source.title, "bold"), "  ", (where, "bold cyan"))
        if grid.columns:
            text.append(f"  · row {grid.cursor_row + 1:,}, {grid.columns[grid.cursor_column].name}", style="dim")
        notes = self.opened.notes if self.opened else ""
        if notes:
            text.append(f"\n{notes}", style="dim")
        if self.opened is not None and self.opened.warning:
            text.append(f"\n⚠ {self.opened.warning}", style=WARN)
        if self.error:
            text.append(f"\n{self.error}", style=RED)
        self._say(text)

    def refresh_caption(self) -> None:
        """Now, and no update pending."""
        if self._caption_timer is not None:
            self._caption_timer.stop()
        self._show_caption()

    # --- what is selected --------------------------------------------------------------------

    def selected(self) -> tuple[ColumnHead, Any, tuple[Any, ...]] | None:
        """The column, value and row under the cursor (None when nothing is loaded there)."""
        grid = self.grid
        if not grid.columns or not grid.total_rows:
            return None
        row = grid.row(grid.cursor_row)
        if row is None:
            return None
        column = grid.cursor_column
        return grid.columns[column], row[column] if column < len(row) else None, row

    def _need_selection(self) -> tuple[ColumnHead, Any, tuple[Any, ...]] | None:
        found = self.selected()
        if found is None or self.source is None:
            self.notify("no row is selected here (it may still be loading)", severity="warning")
            return None
        return found

    # --- actions (keys from the registry, scope "results") -------------------------------------

    def action_sort_ascending(self) -> None:
        self._sort(False)

    def action_sort_descending(self) -> None:
        self._sort(True)

    def _sort(self, descending: bool) -> None:
        if self.source is None or not self.grid.columns or self.opened is None:
            self.notify("nothing to sort yet", severity="warning")
            return
        index = self.grid.cursor_column
        column = self.grid.columns[index].name
        self._reload(lambda source: source.sorted_by(index, column, descending), keep_column=index)

    def action_filter(self) -> None:
        found = self._need_selection()
        if found is None:
            return
        head, value, _row = found

        def answered(typed: str | None) -> None:
            if typed is None:
                return
            from etl_core.inspect.table_view import Condition, Equals  # SQLAlchemy: loaded after the first frame

            condition = Equals(head.name, value) if not typed.strip() else Condition(typed.strip())
            self._reload(lambda source: source.where(condition), keep_column=self.grid.cursor_column)

        self.post_message(self.FilterWanted(head.name, cell_text(value), value is None, answered))

    def action_clear_filters(self) -> None:
        if self.source is None or not self.source.filters:
            self.notify("no filter to clear")
            return
        self._reload(lambda source: source.unfiltered(), keep_column=self.grid.cursor_column)

    def _reload(self, change: Any, keep_column: int) -> None:
        assert self.source is not None  # checked by the actions
        try:
            source = change(self.source)
        except Exception as exc:  # noqa: BLE001 - e.g. a typed condition on an S3 sample: said, nothing changes
            self.notify(describe(exc), severity="warning", timeout=6, markup=False)
            return
        self.load(source, keep_column)

    def action_profile(self) -> None:
        source, opened = self.source, self.opened
        if source is None or opened is None or not self.grid.columns:
            self.notify("nothing to profile yet", severity="warning")
            return
        index = self.grid.cursor_column
        title = f"{source.title} · {opened.columns[index].name}"
        self.post_message(self.ProfileWanted(title, lambda: source.profile(opened, index), source.cancel))

    def action_copy_cell(self) -> None:
        found = self._need_selection()
        if found is not None:
            head, value, _row = found
            text = "" if value is None else cell_text(value)
            self.app.copy_to_clipboard(text)
            shown = f"{text[:60]}{'…' if len(text) > 60 else ''}"
            self.notify(f"{head.name}: {shown}\n{SENT_TO_CLIPBOARD}", title="cell sent to the clipboard", markup=False)

    def action_copy_row(self) -> None:
        found = self._need_selection()
        if found is not None:
            line = row_csv(found[2])
            self.app.copy_to_clipboard(line)
            self.notify(
                f"row {self.grid.cursor_row + 1:,} as CSV ({len(found[2])} fields)\n{SENT_TO_CLIPBOARD}",
                title="row sent to the clipboard",
                markup=False,
            )

    def action_save_csv(self) -> None:
        if self.source is None or self.opened is None:
            self.notify("nothing to save yet", severity="warning")
            return
        if self.source.kind == "sample":
            self.notify("an S3 object is a file already: only tables and query results are saved", severity="warning")
            return
        self.post_message(self.SaveWanted(self.source, self.opened))

    def action_show_cell(self) -> None:
        found = self._need_selection()
        if found is not None:
            head, value, _row = found
            self.post_message(self.CellWanted(head.name, cell_text(value)))
