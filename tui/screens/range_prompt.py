"""The Days view's from–to prompt (`g`): two ISO dates; the view then shows and marks that range."""

from __future__ import annotations

import re
from datetime import date
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from etl_core.backfill import MAX_DAYS
from tui.status_style import BAD

DateRange = tuple[date, date]


def parse_range(text: str) -> DateRange | str:
    """(FROM, TO) from "FROM TO" or "FROM .. TO" (one date: that date alone); or why not, for people."""
    parts = [part for part in re.split(r"\s*\.\.\s*|\s+", text.strip()) if part]
    if len(parts) == 1:
        parts = parts * 2  # one date: that date alone
    if len(parts) != 2:
        return "type two dates: FROM TO (YYYY-MM-DD YYYY-MM-DD)"
    try:
        if any(len(part) != 10 for part in parts):
            raise ValueError
        first, last = (date.fromisoformat(part) for part in parts)
    except ValueError:
        return f"not ISO dates (YYYY-MM-DD): {text.strip()!r}"
    if last < first:
        return f"FROM must be on or before TO: {first} .. {last}"
    if (last - first).days >= MAX_DAYS:
        return f"more than {MAX_DAYS} dates: split the range"
    return first, last


class RangePrompt(ModalScreen[DateRange | None]):
    """Dismissed with (FROM, TO), or None (Esc)."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "dismiss(None)", "Cancel")]

    def compose(self) -> ComposeResult:
        with Vertical(id="range-box", classes="dialog"):
            yield Static(Text("Dates to run, from – to"), classes="dialog-title")
            yield Static(Text("Two ISO dates, inclusive (one date: that date alone); Enter marks them. Esc cancels."))
            yield Input(placeholder="e.g. 2022-09-01 2022-09-07", id="range-input")
            yield Static("", id="range-error")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        parsed = parse_range(event.value)
        if isinstance(parsed, str):
            self.query_one("#range-error", Static).update(Text(parsed, style=BAD))
            return
        self.dismiss(parsed)
