"""The log: live lines coloured by level, wrapped to the pane (again on every resize), made for reading.

It follows the end until the operator scrolls up; then new lines are held (the subtitle counts
them) until `End` or scrolling back to the bottom. Lines are filtered by stage and level, a run
starts with a separator, and a search highlights its matches (`n` / `N` move between them).
The widget keeps the last MAX_KEPT lines for re-filtering and shows at most MAX_LINES; the full
log of each run is on disk. Every text is shown literally (rich Text, never markup).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, ClassVar

from rich.console import Console
from rich.style import Style
from rich.text import Text
from textual.binding import Binding, BindingType
from textual.geometry import Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.selection import Selection
from textual.strip import Strip

from etl_core.events import LogLine
from etl_core.kinds import STAGE_NAMES as STAGES
from tui.status_style import LEVEL_STYLES, MESSAGE_STYLES, WARN

if TYPE_CHECKING:
    from etl_core.kinds import LogLevel, StageName
    from tui.clock import Clock

MAX_LINES = 2000
MAX_KEPT = 20000
LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
LEVEL_CYCLE = ("INFO", "WARNING", "ERROR", "DEBUG")
STAGE_CYCLE = (None, "run") + STAGES  # None: every stage
MATCH_STYLE = Style(bgcolor=WARN, color="black")
CURRENT_MATCH_STYLE = Style(bgcolor="dark_orange", color="black", bold=True)


@dataclass(frozen=True)
class RunSeparator:
    """The rule drawn where a run starts (it passes every filter)."""

    run_id: int
    stages: tuple[StageName, ...]
    at: datetime
    level: LogLevel = "INFO"
    stage: StageName | None = None

    @property
    def message(self) -> str:
        return f"run #{self.run_id}: {', '.join(self.stages)}"


Entry = LogLine | RunSeparator


class LogView(ScrollView, can_focus=True):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("end", "follow", "Follow", show=False),
        Binding("n", "next_match", "Next match", show=False),
        Binding("N", "previous_match", "Previous match", show=False),
    ]

    class StateChanged(Message):
        """Following, held lines or the search moved on: the pane updates its subtitle."""

    def __init__(self, clock: Clock, **kwargs) -> None:
        super().__init__(**kwargs)
        self.clock = clock
        self.kept: deque[Entry] = deque(maxlen=MAX_KEPT)
        self.shown: list[Entry] = []
        self.stage_filter: str | None = None
        self.min_level = "INFO"
        self.log_file: str | None = None
        self.following = True
        self.held = 0  # lines that arrived while the operator was reading further up
        self.search_text = ""
        self.matches: list[int] = []  # indices in `shown`
        self._match_set: set[int] = set()
        self.match_index = -1
        self._rows: list[Text] = []  # `shown`, wrapped to `_width`
        self._starts: list[int] = []  # the first row of each shown entry
        self._width = 0
        self._internal_scroll = False

    # filters -------------------------------------------------------------------------------
    def matches_filters(self, entry: Entry) -> bool:
        if isinstance(entry, RunSeparator):
            return True
        if LEVELS.index(entry.level if entry.level in LEVELS else "INFO") < LEVELS.index(self.min_level):
            return False
        return self.stage_filter is None or (entry.stage or "run") == self.stage_filter

    def set_filters(self, *, stage: str | None = None, level: str | None = None, all_stages: bool = False) -> None:
        if all_stages:
            self.stage_filter = None
        elif stage is not None:
            self.stage_filter = stage
        if level is not None:
            self.min_level = level
        self._reshow()

    def cycle_stage(self) -> None:
        index = STAGE_CYCLE.index(self.stage_filter) if self.stage_filter in STAGE_CYCLE else 0
        following = STAGE_CYCLE[(index + 1) % len(STAGE_CYCLE)]
        self.set_filters(stage=following, all_stages=following is None)

    def cycle_level(self) -> None:
        index = LEVEL_CYCLE.index(self.min_level)
        self.set_filters(level=LEVEL_CYCLE[(index + 1) % len(LEVEL_CYCLE)])

    def visible_messages(self) -> list[str]:
        """Messages that pass the filters (tests)."""
        return [entry.message for entry in self.kept if isinstance(entry, LogLine) and self.matches_filters(entry)]

    # lines ---------------------------------------------------------------------------------
    def add(self, entries: list[Entry]) -> None:
        self.kept.extend(entries)
        shown = [entry for entry in entries if self.matches_filters(entry)]
        if not shown:
            return
        first = len(self.shown)
        self.shown.extend(shown)
        # Trim in steps, not on every line; while the operator reads further up, only at twice the bound.
        if len(self.shown) > (MAX_LINES + MAX_LINES // 10 if self.following else 2 * MAX_LINES):
            self._reshow()
            return
        if self.search_text:
            self._find()
        for offset, entry in enumerate(shown):
            self._append_rows(first + offset, entry)
        if not self.following:
            self.held += len(shown)
            self.post_message(self.StateChanged())
        self._resize_virtual()

    def _reshow(self) -> None:
        """Filter `kept` again and wrap everything (filters changed, or too many lines): back to the end."""
        self.shown = [entry for entry in self.kept if self.matches_filters(entry)][-MAX_LINES:]
        self._find()
        self.following = True
        self._rewrap()
        self.follow()

    def _rewrap(self) -> None:
        self._rows, self._starts = [], []
        for index, entry in enumerate(self.shown):
            self._append_rows(index, entry)
        self._resize_virtual()

    def _append_rows(self, index: int, entry: Entry) -> None:
        self._starts.append(len(self._rows))
        if self._width <= 0:
            return
        text = self._format(entry, index)
        self._rows.extend(text.wrap(self._console, self._width, overflow="fold") or [Text("")])

    @property
    def _console(self) -> Console:
        return self.app.console

    def _format(self, entry: Entry, index: int) -> Text:
        if isinstance(entry, RunSeparator):
            label = f" run #{entry.run_id} · {', '.join(entry.stages)} · {self.clock.time(entry.at)} "
            rule = "─" * max(0, self._width - len(label) - 2)
            return Text.assemble(
                ("──", "cyan"), (label, "bold cyan"), (rule, "cyan"), no_wrap=True, overflow="ellipsis"
            )
        text = Text.assemble(
            (self.clock.time(entry.at) + " ", "dim"),
            (f"{entry.level:<7} ", LEVEL_STYLES.get(entry.level, "")),
            (f"[{entry.stage or 'run'}] ", "cyan"),
            (self.clock.scrub(entry.message), MESSAGE_STYLES.get(entry.level, "")),
        )
        if self.search_text and index in self._match_set:
            text.highlight_words(
                [self.search_text],
                CURRENT_MATCH_STYLE if self._is_current(index) else MATCH_STYLE,
                case_sensitive=False,
            )
        return text

    def _resize_virtual(self) -> None:
        self.virtual_size = Size(self._width, len(self._rows))
        if self.following:
            self.scroll_end(animate=False, immediate=False, x_axis=False)
        self.refresh()

    def on_resize(self) -> None:
        width = self.scrollable_content_region.width
        if width != self._width and width > 0:
            self._width = width
            self._rewrap()

    # following -----------------------------------------------------------------------------
    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        if self._internal_scroll:
            return
        at_end = round(new_value) >= self.max_scroll_y
        if at_end != self.following:
            self.following = at_end
            if at_end:
                self.held = 0
            self.post_message(self.StateChanged())

    def follow(self) -> None:
        self.following, self.held = True, 0
        self.scroll_end(animate=False, immediate=False, x_axis=False)
        self.post_message(self.StateChanged())

    def action_follow(self) -> None:
        self.follow()

    # search --------------------------------------------------------------------------------
    def _is_current(self, index: int) -> bool:
        return 0 <= self.match_index < len(self.matches) and self.matches[self.match_index] == index

    def _find(self) -> None:
        needle = self.search_text.lower()
        self.matches = [
            i
            for i, entry in enumerate(self.shown)
            if needle and isinstance(entry, LogLine) and needle in entry.message.lower()
        ]
        self._match_set = set(self.matches)
        self.match_index = min(self.match_index, len(self.matches) - 1)

    def search(self, query: str) -> int:
        """Highlight `query` (case-insensitive) and jump to its last match; returns the number of matches."""
        self.search_text = query.strip()
        self.match_index = -1
        self.following = False  # reading: the view goes to the match, not to the end
        self._find()
        if self.matches:
            self.match_index = len(self.matches) - 1
        self._rewrap()
        self._show_match()
        return len(self.matches)

    def action_next_match(self) -> None:
        self._move_match(1)

    def action_previous_match(self) -> None:
        self._move_match(-1)

    def _move_match(self, step: int) -> None:
        if not self.matches:
            said = f"no match for {self.search_text!r}" if self.search_text else "no search: press / to search the log"
            self.notify(said, markup=False)
            return
        self.match_index = (self.match_index + step) % len(self.matches)
        self.following = False
        self._rewrap()
        self._show_match()

    def _show_match(self) -> None:
        if 0 <= self.match_index < len(self.matches):
            row = self._starts[self.matches[self.match_index]]
            self.following = False
            self._internal_scroll = True
            try:
                self.scroll_to(
                    y=max(0, row - self.scrollable_content_region.height // 2), animate=False, immediate=True
                )
            finally:
                self._internal_scroll = False
        self.post_message(self.StateChanged())

    @property
    def search_state(self) -> str:
        if not self.search_text:
            return ""
        if not self.matches:
            return f"no match for {self.search_text!r}"
        return f"{self.match_index + 1}/{len(self.matches)} for {self.search_text!r} · n/N"

    # rendering -----------------------------------------------------------------------------
    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        index = scroll_y + y
        width = self.scrollable_content_region.width
        rich_style = self.rich_style
        if index >= len(self._rows):
            return Strip.blank(width, rich_style)
        text = self._rows[index]
        selection = self.text_selection
        if selection is not None and (span := selection.get_span(index)) is not None:
            start, end = span
            text = text.copy()
            text.stylize(
                self.screen.get_component_rich_style("screen--selection"), start, len(text) if end == -1 else end
            )
        strip = Strip(text.render(self._console), text.cell_len)
        return (
            strip.crop_extend(scroll_x, scroll_x + width, rich_style)
            .apply_style(rich_style)
            .apply_offsets(scroll_x, index)
        )

    def get_selection(self, selection: Selection) -> tuple[str, str] | None:
        return selection.extract("\n".join(row.plain for row in self._rows)), "\n"

    def selection_updated(self, selection: Selection | None) -> None:
        self.refresh()
