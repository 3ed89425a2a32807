"""The log pane: the log view and its search line; the border says what is filtered and followed."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.widgets import Input

from etl_core.events import LogLine
from etl_core.kinds import StageName
from tui.clock import Clock
from tui.widgets.bottom.log_view import LogView, RunSeparator


class LogPane(Vertical):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "close_search", "Close search", show=False)]

    def __init__(self, clock: Clock, **kwargs) -> None:
        super().__init__(**kwargs)
        self.clock = clock

    def compose(self) -> ComposeResult:
        yield LogView(self.clock, id="log-view")
        yield Input(
            placeholder="search the log: Enter finds (n / N: next / previous), Esc closes",
            id="log-search",
            classes="hidden",
        )

    @property
    def view(self) -> LogView:
        return self.query_one(LogView)

    def on_mount(self) -> None:
        self.border_title = "Log (4)"
        self._update_subtitle()

    def add_lines(self, lines: list[LogLine]) -> None:
        self.view.add(list(lines))

    def run_started(self, run_id: int, stages: tuple[StageName, ...], at: datetime) -> None:
        """A separator, and the stage filter a failure had set is lifted: the new run is shown whole."""
        view = self.view
        if view.stage_filter is not None:
            view.set_filters(all_stages=True)
        view.add([RunSeparator(run_id, stages, at)])
        view.follow()

    # search --------------------------------------------------------------------------------
    def open_search(self) -> None:
        search = self.query_one("#log-search", Input)
        search.remove_class("hidden")
        search.value = self.view.search_text
        search.focus()

    def action_close_search(self) -> None:
        search = self.query_one("#log-search", Input)
        if not search.has_class("hidden"):
            search.add_class("hidden")
            self.view.focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.view.search(event.value)
        self.action_close_search()

    # the border ----------------------------------------------------------------------------
    def on_log_view_state_changed(self, _message: LogView.StateChanged) -> None:
        self._update_subtitle()

    def _update_subtitle(self) -> None:
        view = self.view
        parts = [f"stage {view.stage_filter or 'all'} (f)", f"≥ {view.min_level} (l)"]
        if view.search_state:
            parts.append(view.search_state)
        if view.following:
            parts.append("following")
        else:
            held = f"{view.held:,} new below · " if view.held else ""
            parts.append(f"paused: {held}End follows")
        self.border_subtitle = Text(" · ".join(parts))
