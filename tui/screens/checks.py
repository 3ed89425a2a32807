"""Each check's outcome over the last 30 runs, as a grid; a check that did not pass shows its offending rows.

The screen loads the grid itself (ChecksLoaded). Enter on a cell that did not pass hands its stored
query (a SELECT of up to 50 offending rows) to `open_sql`, which opens it in the SQL pane.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Footer, Static

from etl_core import browse
from etl_core.services import Services
from etl_core.trends import CheckGrid
from tui.messages import ChecksLoaded
from tui.status_style import check_mark
from tui.widgets.chrome.title_bar import TitleBar


class ChecksScreen(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,C", "close", "Back", show=True),
        Binding("enter", "open_rows", "Rows in SQL pane", show=True),
    ]

    def __init__(self, services: Services, open_sql: Callable[[str], None]) -> None:
        super().__init__()
        self.services = services
        self.open_sql = open_sql
        self.grid = CheckGrid(())
        self.checks: list[str] = []

    def compose(self) -> ComposeResult:
        yield TitleBar(["Checks over the last runs"], id="title")
        with Vertical(id="checks-body"):
            yield DataTable(cursor_type="cell", id="checks-grid")
            yield Static("", id="checks-sample")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#checks-grid", DataTable).border_title = "Checks (loading …)"
        self._load(self.services)

    @work(thread=True, exit_on_error=False, name="checks grid", group="checks")
    def _load(self, services: Services) -> None:
        self.post_message(ChecksLoaded(browse.recent_checks(services)))

    def on_checks_loaded(self, message: ChecksLoaded) -> None:
        self.grid = message.grid
        table = self.query_one("#checks-grid", DataTable)
        table.clear(columns=True)
        table.border_title = f"Checks over the last {len(self.grid.runs)} run(s): newest first"
        table.add_column("Check", key="check")
        for run in self.grid.runs:
            table.add_column(f"#{run}", key=str(run))
        self.checks = sorted(self.grid.outcomes)
        for name in self.checks:
            marks = [Text(*check_mark(o), justify="center") for o in self.grid.outcomes[name]]
            table.add_row(Text(name), *marks, key=name)
        if not self.checks:
            self.query_one("#checks-sample", Static).update(
                Text("No checks graded yet: run the pipeline.", style="dim")
            )
        table.focus()

    def _selected(self) -> tuple[str, int, dict[str, Any] | None] | None:
        table = self.query_one("#checks-grid", DataTable)
        row, column = table.cursor_coordinate
        if not self.checks or column == 0 or row >= len(self.checks):
            return None
        name, run = self.checks[row], self.grid.runs[column - 1]
        return name, run, self.grid.samples.get((name, run))

    @on(DataTable.CellHighlighted, "#checks-grid")
    def _cell_highlighted(self, _event: DataTable.CellHighlighted) -> None:
        shown = Text()
        if (selected := self._selected()) is not None:
            name, run, stored = selected
            if stored is None:
                shown.append(f"{name} in run #{run}: passed or not run", style="dim")
            else:
                shown.append(f"{name} in run #{run}: ", style="bold")
                shown.append(str(stored.get("detail", "")) + "\n")
                keys = stored.get("sample_keys") or []
                if keys:
                    shown.append(f"offending rows ({len(keys)} kept): {', '.join(map(str, keys))}\n")
                if stored.get("sample_query"):
                    shown.append("Enter: open them in the SQL pane", style="italic")
        self.query_one("#checks-sample", Static).update(shown)

    @on(DataTable.CellSelected, "#checks-grid")
    def _cell_selected(self, _event: DataTable.CellSelected) -> None:
        self.action_open_rows()  # Enter on the grid: the table takes the key before the screen's binding

    def action_open_rows(self) -> None:
        selected = self._selected()
        query = selected[2].get("sample_query") if selected and selected[2] else None
        if not query:
            self.notify("select a ✘ cell of a check that keeps its rows (a WARN check of staging)")
            return
        self.dismiss(None)
        self.open_sql(str(query))

    def action_close(self) -> None:
        self.dismiss(None)
