"""A column's profile, VisiData-style: rows, nulls, distinct, min, max and the ten most frequent values.

The viewer pushes the screen at once ("computing …") and posts `ProfileReady` to it from its
worker; Esc closes it and cancels a profile still running.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

from rich.table import Table
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from etl_core.inspect.profile import ColumnProfile
from tui.format import cell_text
from tui.messages import ProfileReady
from tui.status_style import RED
from tui.widgets.inspect.results_grid import plain
from tui.workers import describe


def profile_table(profile: ColumnProfile) -> Table:
    """The numbers, then the top values with their counts and share; every value literal."""
    summary = Table(box=None, show_header=False, pad_edge=False)
    summary.add_column(style="bold")
    summary.add_column()
    share = f" ({profile.null_share:.1%})" if profile.rows else ""
    for label, value in (
        ("type", profile.type_name),
        ("rows", f"{profile.rows:,}"),
        ("nulls", f"{profile.nulls:,}{share}"),
        ("distinct", f"{profile.distinct:,}"),
        ("min", _value(profile.min_value)),
        ("max", _value(profile.max_value)),
    ):
        summary.add_row(label, Text(value))
    if profile.as_text:
        summary.add_row("", Text("compared as text (the type has no order or no equality)", style="dim"))
    top = Table(box=None, header_style="bold", pad_edge=False, title_justify="left")
    top.add_column("value", overflow="ellipsis", max_width=50)
    top.add_column("count", justify="right")
    top.add_column("share", justify="right")
    top.add_column("", no_wrap=True)
    for frequent in profile.top:
        bar = "█" * max(1, round(frequent.share * 20)) if frequent.count else ""
        top.add_row(
            Text(_value(frequent.value), style="italic dim" if frequent.value is None else ""),
            f"{frequent.count:,}",
            f"{frequent.share:.1%}",
            Text(bar, style="cyan"),
        )
    outer = Table.grid(padding=(1, 0))
    outer.add_row(summary)
    outer.add_row(Text(f"the {len(profile.top)} most frequent values", style="bold underline"))
    outer.add_row(top)
    return outer


def _value(value: object) -> str:
    return "NULL" if value is None else plain(cell_text(value))


class ProfileScreen(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape,q,F", "close", "Close")]

    def __init__(self, title: str, job: Callable[[], ColumnProfile], cancel: Callable[[], None]) -> None:
        super().__init__()
        self.title_text = title
        self.profile: ColumnProfile | None = None
        self.error = ""
        self.running = True
        self._job = job
        self.cancel = cancel  # stops the profile's statement

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="profile-box", classes="dialog"):
            yield Static(Text(f"Profile · {self.title_text}   (Esc to close)"), classes="dialog-title")
            yield Static(Text("computing … (Esc cancels)", style="italic dim"), id="profile-scope")
            yield Static("", id="profile-body")

    def on_mount(self) -> None:
        self._compute()

    @work(thread=True, exit_on_error=False, name="profile", group="results-profile")
    def _compute(self) -> None:
        try:
            profile = self._job()
        except Exception as exc:  # noqa: BLE001 - shown in the profile screen
            self.post_message(ProfileReady(None, describe(exc)))
            return
        self.post_message(ProfileReady(profile))

    def on_profile_ready(self, message: ProfileReady) -> None:
        self.running = False
        scope, body = self.query_one("#profile-scope", Static), self.query_one("#profile-body", Static)
        if message.profile is None:
            self.error = message.error
            scope.update(Text(f"cannot profile: {message.error}", style=RED))
            return
        profile = self.profile = message.profile
        scope.update(Text.assemble(("over ", "dim"), (profile.scope, "bold"), (f"   ({profile.method})", "dim")))
        body.update(profile_table(profile))

    def action_close(self) -> None:
        if self.running:
            self.cancel()  # the worker's statement ends; its message then finds the screen gone
        self.dismiss(None)
