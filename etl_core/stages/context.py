"""What a stage gets to do its work: config, services, and throttled reporting."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from etl_core.config import Config
from etl_core.events import CancelToken, CheckOutcome, EventSink, LogLine, StageProgress
from etl_core.kinds import LogLevel, StageName
from etl_core.secrets import redact
from etl_core.services import Services

if TYPE_CHECKING:
    from etl_core.stages.staging.inputs import DayInputs

PROGRESS_INTERVAL_S = 0.2  # merge progress bursts: at most five events a second per stage


@dataclass
class StageOutput:
    """What a stage returns: rows it produced, the checks it ran, and any details for the summary."""

    rows: int = 0
    checks: list[CheckOutcome] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)


@dataclass
class StageContext:
    config: Config
    services: Services
    run_id: int
    stage: StageName
    sink: EventSink
    cancel: CancelToken
    inputs: DayInputs | None = None  # a backfill's date: the objects (and versions) it must load
    versions: dict[str, str] = field(default_factory=dict)  # key -> the version staging reads (the one recorded)
    _last_progress: float = 0.0

    def log(self, message: str, level: LogLevel = "INFO") -> None:
        self.sink(LogLine(self.run_id, self.stage, level, redact(message)))

    def warn(self, message: str) -> None:
        self.log(message, "WARNING")

    def progress(self, done: int, total: int | None, unit: str, message: str = "", *, force: bool = False) -> None:
        now = time.monotonic()
        if force or now - self._last_progress >= PROGRESS_INTERVAL_S:
            self._last_progress = now
            self.sink(StageProgress(self.run_id, self.stage, done, total, unit, message))

    def for_threads(self) -> StageContext:
        """A copy whose events may be sent from several threads: one event at a time reaches the sink."""
        lock = threading.Lock()
        sink = self.sink

        def emit(event: Any) -> None:
            with lock:
                sink(event)

        return replace(self, sink=emit)
