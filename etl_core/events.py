"""Plain events the core emits while it works, the sink they go to, and the cancel token."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, Protocol

from etl_core.errors import Cancelled
from etl_core.kinds import DayRunStatus, LogLevel, RunStatus, Severity, StageName, StageStatus


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class RunStarted:
    run_id: int
    stages: tuple[StageName, ...]
    at: datetime = field(default_factory=utc_now)


@dataclass(frozen=True)
class StageStarted:
    run_id: int
    stage: StageName
    at: datetime = field(default_factory=utc_now)


@dataclass(frozen=True)
class StageProgress:
    """`done` of `total` `unit`s (total None when unknown); emitters throttle these."""

    run_id: int
    stage: StageName
    done: int
    total: int | None
    unit: str
    message: str = ""


@dataclass(frozen=True)
class LogLine:
    run_id: int
    stage: StageName | None
    level: LogLevel
    message: str
    at: datetime = field(default_factory=utc_now)


@dataclass(frozen=True)
class CheckOutcome:
    name: str
    severity: Severity
    passed: bool
    detail: str
    sample_keys: tuple[str, ...] = ()  # keys of up to 50 offending rows (order_id, ...), kept with the run
    sample_query: str | None = None  # a SELECT of those rows, ready for the SQL pane

    @property
    def blocking(self) -> bool:
        return self.severity == "ERROR" and not self.passed


@dataclass(frozen=True)
class StageResult:
    stage: StageName
    status: StageStatus
    started_at: datetime | None
    duration_s: float
    rows: int
    error: str | None = None
    checks: tuple[CheckOutcome, ...] = ()
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class StageFinished:
    run_id: int
    result: StageResult


@dataclass(frozen=True)
class RunSummary:
    run_id: int
    status: RunStatus  # succeeded, failed or cancelled
    started_at: datetime
    duration_s: float
    user_id: str
    ingestion_date: str
    stages: tuple[StageResult, ...]
    log_file: str | None = None
    stale: dict[StageName, str] = field(default_factory=dict)  # stage -> why its newest output is stale

    @property
    def failed_stage(self) -> StageResult | None:
        return next((s for s in self.stages if s.status in ("failed", "cancelled")), None)


@dataclass(frozen=True)
class RunFinished:
    run_id: int
    summary: RunSummary


@dataclass(frozen=True)
class DayProgress:
    """A backfill's date changed state (queued, running, then how it ended); `run_id` once its run exists."""

    day: date
    status: DayRunStatus
    run_id: int | None = None
    reason: str = ""  # why it was skipped or did not succeed
    at: datetime = field(default_factory=utc_now)


Event = RunStarted | StageStarted | StageProgress | LogLine | StageFinished | RunFinished | DayProgress


class EventSink(Protocol):
    def __call__(self, event: Event, /) -> None: ...


def discard(_event: Event) -> None:
    """A sink that drops everything (for callers that only want the summary)."""


class CancelToken:
    """Set by the operator; checked by stages between chunks. Callbacks cancel running SQL."""

    def __init__(self) -> None:
        self._event = threading.Event()
        self._callbacks: list[Callable[[], None]] = []
        self._lock = threading.Lock()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def cancel(self) -> None:
        self._event.set()
        with self._lock:
            callbacks = list(self._callbacks)
        for callback in callbacks:
            with contextlib.suppress(Exception):  # a failed cancel of a query must not break the cancel itself
                callback()

    def wait(self, seconds: float) -> bool:
        """Sleep up to `seconds`, waking at once on a cancel; True when cancelled."""
        return self._event.wait(seconds)

    def raise_if_cancelled(self) -> None:
        if self._event.is_set():
            raise Cancelled("cancelled by the operator")

    def on_cancel(self, callback: Callable[[], None]) -> Callable[[], None]:
        """Register a callback (e.g. connection.cancel); returns a function that unregisters it."""
        with self._lock:
            self._callbacks.append(callback)

        def remove() -> None:
            with self._lock:
                if callback in self._callbacks:
                    self._callbacks.remove(callback)

        return remove
