"""The full text of one long preview cell."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static


class CellScreen(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape,enter,v,q", "dismiss", "Close")]

    def __init__(self, column: str, text: str) -> None:
        super().__init__()
        self.column, self.text = column, text

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="cell-box", classes="dialog"):
            yield Static(Text(f"{self.column}  ({len(self.text):,} characters)   Esc to close"), classes="dialog-title")
            yield Static(Text(self.text), id="cell-text")
