"""Every action and its key, generated from the action registry."""

from __future__ import annotations

from typing import ClassVar

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from tui.actions import ACTIONS


def help_table() -> Table:
    table = Table(box=None, show_header=True, header_style="bold", pad_edge=False, expand=True)
    table.add_column("Key", style="bold cyan", no_wrap=True)
    table.add_column("Action", style="bold", no_wrap=True)
    table.add_column("What it does")
    group = None
    for spec in ACTIONS:
        if spec.group != group:
            group = spec.group
            table.add_row(Text(group, style="bold underline"), "", "")
        table.add_row(spec.display_key, spec.label, spec.description)
    return table


class HelpScreen(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape,q,question_mark,f1", "dismiss", "Close")]

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-box", classes="dialog"):
            yield Static("d2b-console keys   (Esc to close; Ctrl+P searches them)", classes="dialog-title")
            yield Static(help_table(), id="help-table")
