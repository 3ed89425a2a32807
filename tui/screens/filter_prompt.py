"""The `/` prompt of a results viewer: Enter keeps the rows equal to the selected value; typed text is a condition."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from tui.widgets.inspect.results_grid import plain


class FilterPrompt(ModalScreen[str | None]):
    """Dismissed with "" (equals the selected value), the typed condition, or None (Esc)."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "dismiss(None)", "Cancel")]

    def __init__(self, column: str, value: str, is_null: bool) -> None:
        super().__init__()
        self.column, self.value, self.is_null = column, value, is_null

    def compose(self) -> ComposeResult:
        equals = f"{self.column} IS NULL" if self.is_null else f"{self.column} = {plain(self.value)[:60]}"
        with Vertical(id="filter-box", classes="dialog"):
            yield Static(Text(f"Filter on {self.column}"), classes="dialog-title")
            yield Static(
                Text.assemble(
                    "Enter: the rows where ", (equals, "bold"), "\nor type a condition in SQL, then Enter. Esc cancels."
                )
            )
            yield Input(placeholder="e.g. quantity > 3 AND order_date >= '2022-01-01'", id="filter-input")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.dismiss(event.value)
