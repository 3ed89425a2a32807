"""While the console quits: what it is stopping, so the screen never sits blank."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static


class QuittingScreen(ModalScreen[None]):
    def __init__(self, reason: str, stopping: list[str]) -> None:
        super().__init__()
        self.reason = reason
        self.stopping = stopping

    def compose(self) -> ComposeResult:
        title = f"Quitting ({self.reason})" if self.reason else "Quitting"
        with Vertical(id="quitting-box", classes="dialog"):
            yield Static(Text(title), classes="dialog-title")
            yield Static(Text("\n".join(f"… {what}" for what in self.stopping)), id="quitting-body")
