"""Messages the thread workers post. Workers never touch widgets; the handlers own every change.

Each message is a dataclass with real types. Widget-local ones (a tree's listing, a preview's
rows) are posted to the widget that asked and do not bubble; the rest go to the main screen.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from textual.message import Message

if TYPE_CHECKING:
    from etl_core.backfill import BackfillOutcome, BackfillPlan
    from etl_core.browse import ExportPreview, Preview, SchemaInfo
    from etl_core.events import Event, LogLine, RunSummary, StageProgress
    from etl_core.history import RunRecord, StageRecord
    from etl_core.history_days import DayRuns, InputRecord
    from etl_core.inspect.catalog import TableDescription
    from etl_core.inspect.profile import ColumnProfile
    from etl_core.kinds import StageName
    from etl_core.lineage import StaleStage
    from etl_core.s3 import S3Entry
    from etl_core.services import Services
    from etl_core.trends import CheckGrid, Series


@dataclass
class ServicesReady(Message):
    services: Services


@dataclass
class ServicesFailed(Message):
    error: str


@dataclass
class LakeListed(Message, bubble=False):
    """One level of a bucket, for the tree node `node_id`."""

    node_id: int
    entries: list[S3Entry]


@dataclass
class LakeListFailed(Message, bubble=False):
    node_id: int
    error: str


@dataclass
class WarehouseListed(Message, bubble=False):
    schemas: list[SchemaInfo]


@dataclass
class ColumnsListed(Message, bubble=False):
    """A table's columns (types, nullability, primary key), for the warehouse tree node `node_id`."""

    node_id: int
    table: TableDescription


@dataclass
class ColumnsListFailed(Message, bubble=False):
    node_id: int
    error: str


@dataclass
class ProfileReady(Message, bubble=False):
    """A column's profile (or why there is none), for the profile dialog's own worker."""

    profile: ColumnProfile | None
    error: str = ""


@dataclass
class PreviewReady(Message, bubble=False):
    request: int
    preview: Preview


@dataclass
class PreviewFailed(Message, bubble=False):
    request: int
    title: str
    error: str


@dataclass
class ExportConfirmationWanted(Message):
    """The run reached the export: show these previews; the answer goes back through the run's gate."""

    previews: list[ExportPreview]
    destination: str


@dataclass
class ExportCheckDone(Message):
    """`e` asked whether there is anything to export: the missing analytics tables (empty: ready)."""

    missing: list[str]


@dataclass
class HistoryLoaded(Message, bubble=False):
    runs: list[RunRecord]
    stale: dict[StageName, StaleStage] = field(default_factory=dict)  # stage -> its stale output (etl_core.lineage)


@dataclass
class DaysLoaded(Message, bubble=False):
    """The Days view's dates, newest first: each date's runs and its newest run's source objects."""

    days: list[tuple[DayRuns, list[InputRecord]]]


@dataclass
class BackfillPlanned(Message, bubble=False):
    """The dates the Days view would run, with their inputs and the decision (the dry run); `run`: then run it."""

    plan: BackfillPlan
    run: bool


@dataclass
class BackfillEnded(Message, bubble=False):
    """The Days view's backfill is done: its outcome, or the error that stopped it from running."""

    outcome: BackfillOutcome | None
    error: str | None = None


@dataclass
class RunStagesLoaded(Message, bubble=False):
    run_id: int
    stages: list[StageRecord]
    inputs: list[InputRecord] = field(default_factory=list)  # the source objects the run loaded (provenance)


@dataclass
class LastRunLoaded(Message):
    """The newest run in the history (None: no runs yet) and its stages, shown in the pipeline at start."""

    run: RunRecord | None
    stages: list[StageRecord]
    stale: dict[StageName, str] = field(default_factory=dict)  # stage -> why its newest output is stale


@dataclass
class ResumePointReady(Message):
    """Where the newest run stopped ((run_id, stage) or None), for a retry or a resume."""

    point: tuple[int, StageName] | None
    mode: str  # "retry" or "resume"
    has_runs: bool


@dataclass
class PipelineEvent(Message):
    """A core event other than progress and log lines (run/stage started/finished)."""

    event: Event


@dataclass
class ProgressMerged(Message):
    """Progress arrived: `take()` returns the latest progress of each stage since the last take (bursts merged)."""

    take: Callable[[], list[StageProgress]]


@dataclass
class LogBatch(Message):
    lines: list[LogLine]


@dataclass
class RunEnded(Message):
    """The run worker is done: with the summary, or with the error that stopped it from running."""

    summary: RunSummary | None
    error: str | None = None
    dimensions: str | None = None  # the title's words on the dimensions, read again after the run (None: unknown)


@dataclass
class BackgroundError(Message):
    """A worker failed (an unreachable service, an unexpected exception): notify and log, keep going."""

    context: str
    error: str


@dataclass
class ShutDownDone(Message):
    """The run has stopped and the services are closed: exit with `code`."""

    code: int


@dataclass
class TrendsLoaded(Message):
    """The history's series, one point per ingestion date, for the history screen."""

    series: list[Series]


@dataclass
class ChecksLoaded(Message):
    """Each check's outcome over the last runs, for the checks screen."""

    grid: CheckGrid
