"""Messages the thread workers post to the app. Workers never touch widgets; handlers own every change."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from textual.message import Message

from etl_core.events import Event, LogLine, RunSummary, StageProgress


class ServicesReady(Message):
    def __init__(self, services: Any) -> None:
        super().__init__()
        self.services = services


class ServicesFailed(Message):
    def __init__(self, error: str) -> None:
        super().__init__()
        self.error = error


class LakeListed(Message):
    """One level of a bucket, for the tree node `node_id`."""

    def __init__(self, node_id: int, entries: list) -> None:
        super().__init__()
        self.node_id = node_id
        self.entries = entries


class LakeListFailed(Message):
    def __init__(self, node_id: int, error: str) -> None:
        super().__init__()
        self.node_id = node_id
        self.error = error


class WarehouseListed(Message):
    def __init__(self, schemas: list) -> None:
        super().__init__()
        self.schemas = schemas


class PreviewReady(Message):
    def __init__(self, request: int, preview: Any) -> None:
        super().__init__()
        self.request = request
        self.preview = preview


class PreviewFailed(Message):
    def __init__(self, request: int, title: str, error: str) -> None:
        super().__init__()
        self.request = request
        self.title = title
        self.error = error


class ExportPreviewReady(Message):
    def __init__(self, previews: list) -> None:
        super().__init__()
        self.previews = previews


class HistoryReady(Message):
    def __init__(self, runs: list) -> None:
        super().__init__()
        self.runs = runs


class RunStagesReady(Message):
    def __init__(self, run_id: int, stages: list) -> None:
        super().__init__()
        self.run_id = run_id
        self.stages = stages


class ResumePointReady(Message):
    """Where the newest run stopped ((run_id, stage) or None), for a retry or a resume."""

    def __init__(self, point: tuple[int, str] | None, mode: str) -> None:
        super().__init__()
        self.point = point
        self.mode = mode  # "retry" or "resume"


class PipelineEvent(Message):
    """A core event other than progress and log lines (run/stage started/finished)."""

    def __init__(self, event: Event) -> None:
        super().__init__()
        self.event = event


class ProgressMerged(Message):
    """Progress arrived: `take()` returns the latest progress of each stage since the last take (bursts merged)."""

    def __init__(self, take: Callable[[], list[StageProgress]]) -> None:
        super().__init__()
        self.take = take


class LogBatch(Message):
    def __init__(self, lines: list[LogLine]) -> None:
        super().__init__()
        self.lines = lines


class RunEnded(Message):
    """The run worker is done: with the summary, or with the error that stopped it from running."""

    def __init__(self, summary: RunSummary | None, error: str | None = None) -> None:
        super().__init__()
        self.summary = summary
        self.error = error


class BackgroundError(Message):
    """A worker failed (an unreachable service, an unexpected exception): notify and log, keep going."""

    def __init__(self, context: str, error: str) -> None:
        super().__init__()
        self.context = context
        self.error = error
