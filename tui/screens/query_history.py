"""Recall a query from the history (newest first): Enter puts it in the editor, Esc leaves the editor as it was."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from etl_core.inspect.query_history import HistoryEntry
from tui.status_style import RED
from tui.widgets.inspect.results_grid import fit, plain


def entry_label(entry: HistoryEntry, width: int = 70) -> Text:
    outcome = (
        Text(f"error: {plain(entry.error)[:40]}", style=RED)
        if entry.error
        else Text(f"{entry.rows:,} rows" if entry.rows is not None else "", style="cyan")
    )
    when = entry.at.astimezone().strftime("%Y-%m-%d %H:%M")
    return Text.assemble((when, "dim"), "  ", fit(plain(" ".join(entry.text.split())), width), "  ", outcome)


class QueryHistoryScreen(ModalScreen[str | None]):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "dismiss(None)", "Cancel")]

    def __init__(self, entries: list[HistoryEntry]) -> None:
        super().__init__()
        self.entries = list(reversed(entries))  # newest first

    def compose(self) -> ComposeResult:
        with Vertical(id="query-history-box", classes="dialog"):
            yield Static(
                Text(f"Query history ({len(self.entries):,})   Enter recalls, Esc cancels"), classes="dialog-title"
            )
            if not self.entries:
                yield Static(Text("no query has run yet", style="dim"))
            yield OptionList(
                *(Option(entry_label(e), id=str(i)) for i, e in enumerate(self.entries)), id="query-history-list"
            )

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.dismiss(self.entries[int(event.option.id or 0)].text)
