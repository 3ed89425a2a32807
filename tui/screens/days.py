"""The Days view (`d`): one row per ingestion date of the last 30 up to the configured one.

Each date's status (its newest run's: succeeded, failed, cancelled, abandoned, or missing when no
run computed it; "stale" when it loaded the same objects as the newest earlier date), its rows and its
inputs. The screen loads them itself, in a thread worker (DaysLoaded comes back to it). Running a
date or a range is `d2b-console --backfill FROM TO` (README, Every day).
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import ModalScreen
from textual.widgets import DataTable, Footer, Static

from etl_core import browse
from etl_core.history_days import DayRuns, InputRecord
from etl_core.services import Services
from tui.format import count
from tui.messages import DaysLoaded
from tui.stage_view import status_cell
from tui.status_style import NOTE, STALE_STYLE
from tui.widgets.chrome.title_bar import TitleBar


def same_objects(inputs: list[InputRecord], before: list[InputRecord]) -> bool:
    """The date loaded exactly the objects the date before it loaded (no new files came)."""
    earlier = {found.table: found for found in before}
    return (
        bool(inputs)
        and len(inputs) == len(earlier)
        and all(found.table in earlier and earlier[found.table].same_object(found) for found in inputs)
    )


def inputs_text(inputs: list[InputRecord]) -> Text:
    names = [found.key + (f" @{found.version_id[:8]}" if found.version_id else "") for found in inputs]
    return Text(", ".join(names) if names else "")


class DaysScreen(ModalScreen[None]):
    """Modal: Esc or d goes back."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape,d", "close", "Back", show=True)]

    def __init__(self, services: Services) -> None:
        super().__init__()
        self.services = services
        self.days: list[tuple[DayRuns, list[InputRecord]]] = []

    def compose(self) -> ComposeResult:
        yield TitleBar(["Days"], id="title")
        yield DataTable(cursor_type="row", id="days-table")
        yield Static(
            Text("Run a date or a range: d2b-console --backfill FROM TO (--dry-run shows the plan)", style="dim"),
            id="days-hint",
        )
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one("#days-table", DataTable)
        table.border_title = Text("Ingestion dates (loading …)")
        for key, label in (
            ("date", "Date"),
            ("status", "Status"),
            ("run", "Run"),
            ("rows", "Rows"),
            ("inputs", "Inputs"),
        ):
            table.add_column(label, key=key)
        table.focus()
        self._load(self.services)

    @work(thread=True, exit_on_error=False, name="days", group="days")
    def _load(self, services: Services) -> None:
        self.post_message(DaysLoaded(browse.recent_days(services)))

    def on_days_loaded(self, message: DaysLoaded) -> None:
        self.days = message.days
        table = self.query_one("#days-table", DataTable)
        table.border_title = Text(f"Ingestion dates ({len(self.days)})")
        for index, (day, inputs) in enumerate(self.days):
            before = next((earlier for _day, earlier in self.days[index + 1 :] if earlier), [])
            newest = day.runs[0] if day.runs else None
            stale = day.status == "succeeded" and same_objects(inputs, before)
            status = Text("missing", style=NOTE) if day.status == "missing" else status_cell(day.status)
            rows = sum(found.rows or 0 for found in inputs) if inputs else None
            table.add_row(
                Text(day.day.isoformat()),
                status if not stale else Text("stale (same files as an earlier date)", style=STALE_STYLE),
                Text(f"#{newest.run_id}" if newest else ""),
                Text(count(rows), justify="right"),
                inputs_text(inputs),
                key=day.day.isoformat(),
            )

    def action_close(self) -> None:
        self.dismiss(None)
