"""The log pane: live lines coloured by level, filtered by stage and level, bounded on screen.

Lines arrive in batches (LogBatch); the pane keeps the last MAX_KEPT lines for re-filtering
and shows at most MAX_LINES (RichLog max_lines). The full log of each run is on disk.
"""

from __future__ import annotations

from collections import deque

from rich.text import Text
from textual.widgets import RichLog

from etl_core.events import LogLine
from etl_core.pipeline import STAGES
from tui.clock import Clock

MAX_LINES = 2000
MAX_KEPT = 20000
LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
LEVEL_STYLES = {"DEBUG": "dim", "INFO": "", "WARNING": "yellow", "ERROR": "bold red"}
LEVEL_CYCLE = ("INFO", "WARNING", "ERROR", "DEBUG")
STAGE_CYCLE = (None, "run") + STAGES  # None: every stage


class KeepFilter:
    """Marks "leave the stage filter as it is" (None already means every stage)."""


KEEP = KeepFilter()


class LogPane(RichLog):
    def __init__(self, clock: Clock, **kwargs) -> None:
        super().__init__(max_lines=MAX_LINES, wrap=True, min_width=20, highlight=False, markup=False, **kwargs)
        self.clock = clock
        self.kept: deque[LogLine] = deque(maxlen=MAX_KEPT)
        self.stage_filter: str | None = None
        self.min_level = "INFO"
        self.log_file: str | None = None

    def on_mount(self) -> None:
        self._update_title()

    # filters -------------------------------------------------------------------------------
    def matches(self, line: LogLine) -> bool:
        if LEVELS.index(line.level if line.level in LEVELS else "INFO") < LEVELS.index(self.min_level):
            return False
        if self.stage_filter is None:
            return True
        return (line.stage or "run") == self.stage_filter

    def set_filters(self, stage: str | None | KeepFilter = KEEP, level: str | None = None) -> None:
        if not isinstance(stage, KeepFilter):
            self.stage_filter = stage
        if level is not None:
            self.min_level = level
        self._rerender()

    def cycle_stage(self) -> None:
        index = STAGE_CYCLE.index(self.stage_filter) if self.stage_filter in STAGE_CYCLE else 0
        self.set_filters(stage=STAGE_CYCLE[(index + 1) % len(STAGE_CYCLE)])

    def cycle_level(self) -> None:
        index = LEVEL_CYCLE.index(self.min_level)
        self.set_filters(level=LEVEL_CYCLE[(index + 1) % len(LEVEL_CYCLE)])

    # lines ---------------------------------------------------------------------------------
    def add_lines(self, lines: list[LogLine]) -> None:
        self.kept.extend(lines)
        shown = [self._format(line) for line in lines if self.matches(line)]
        for text in shown[-MAX_LINES:]:
            self.write(text, scroll_end=True)
        self._update_title()

    def _format(self, line: LogLine) -> Text:
        style = LEVEL_STYLES.get(line.level, "")
        return Text.assemble(
            (self.clock.time(line.at) + " ", "dim"),
            (f"{line.level:<7} ", style or "green"),
            (f"[{line.stage or 'run'}] ", "cyan"),
            (self.clock.scrub(line.message), style),
        )

    def _rerender(self) -> None:
        self.clear()
        shown = [line for line in self.kept if self.matches(line)][-MAX_LINES:]
        for line in shown:
            self.write(self._format(line), scroll_end=False)
        self.call_after_refresh(self.scroll_end, animate=False)
        self._update_title()

    def visible_messages(self) -> list[str]:
        """Messages that pass the filters (tests)."""
        return [line.message for line in self.kept if self.matches(line)]

    def _update_title(self) -> None:
        stage = self.stage_filter or "all"
        self.border_title = "Log"
        self.border_subtitle = f"stage: {stage} (f) · level ≥ {self.min_level} (l)"
