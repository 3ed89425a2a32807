"""The event sink of a run: turns core events (from the worker thread) into app messages.

Progress bursts are merged (only the latest per stage is posted, one message in flight);
log lines are batched (posted every LOG_INTERVAL_S or LOG_BATCH lines, and before any
other event so the order on screen matches the order of events).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from textual.message import Message

from etl_core.events import Event, LogLine, StageProgress
from tui.messages import LogBatch, PipelineEvent, ProgressMerged

LOG_INTERVAL_S = 0.1
LOG_BATCH = 500


class EventBridge:
    def __init__(self, post: Callable[[Message], object]):
        self._post = post
        self._lock = threading.Lock()
        self._lines: list[LogLine] = []
        self._last_log_post = 0.0
        self._progress: dict[str, StageProgress] = {}

    def __call__(self, event: Event) -> None:
        if isinstance(event, LogLine):
            with self._lock:
                self._lines.append(event)
                due = len(self._lines) >= LOG_BATCH or time.monotonic() - self._last_log_post >= LOG_INTERVAL_S
            if due:
                self.flush_logs()
        elif isinstance(event, StageProgress):
            with self._lock:
                first = not self._progress
                self._progress[event.stage] = event
            if first:
                self._post(ProgressMerged(self.take_progress))
        else:
            self.flush_logs()
            self._post(PipelineEvent(event))

    def take_progress(self) -> list[StageProgress]:
        with self._lock:
            progress, self._progress = list(self._progress.values()), {}
        return progress

    def flush_logs(self) -> None:
        with self._lock:
            lines, self._lines = self._lines, []
            self._last_log_post = time.monotonic()
        if lines:
            self._post(LogBatch(lines))
