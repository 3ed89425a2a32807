"""The console's run logic: what a key starts, what each core event changes. No Textual here.

The main screen asks the controller for a decision (start these stages, ask the history where
to resume, confirm a plan, or only tell the operator something), carries it out, and feeds the
core's events back; the controller keeps the stage views and says what changed.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from etl_core.events import (
    CancelToken,
    Event,
    EventSink,
    LogLine,
    RunFinished,
    RunStarted,
    RunSummary,
    StageFinished,
    StageProgress,
    StageStarted,
    utc_now,
)
from etl_core.kinds import STAGE_NAMES as STAGES
from tui.export_gate import ExportGate
from tui.format import count
from tui.stage_view import StageView

if TYPE_CHECKING:
    from etl_core.browse import ExportPreview
    from etl_core.history import RunRecord, StageRecord
    from etl_core.kinds import LogLevel, StageName
    from etl_core.services import Services
    from tui.clock import Clock

STOPPED = ("failed", "cancelled", "abandoned")


@dataclass(frozen=True)
class Notice:
    """Something to tell the operator (a notification)."""

    message: str
    severity: Literal["information", "warning", "error"] = "information"  # Textual's notification severities
    title: str = ""


@dataclass(frozen=True)
class StartRun:
    stages: tuple[StageName, ...]


@dataclass(frozen=True)
class AskResumePoint:
    """Nothing on screen says where the last run stopped: ask the history."""

    mode: str  # "retry" or "resume"


@dataclass(frozen=True)
class ConfirmResume:
    title: str
    body: str
    stages: tuple[StageName, ...]


Decision = Notice | StartRun | AskResumePoint | ConfirmResume


@dataclass
class StageChange:
    """What one event changed: the stage's view, a log line, and what the screen should do about it."""

    view: StageView
    log: LogLine | None = None
    stopped: bool = False  # failed or cancelled: select the stage and show its log
    notice: Notice | None = None
    refresh_warehouse: bool = False
    refresh_lake: bool = False


@dataclass
class RunOutcome:
    """The run worker ended: the views it left, the pipeline's status line, what to tell."""

    changed: list[StageView] = field(default_factory=list)
    log: str | None = None
    notice: Notice | None = None
    log_file: str | None = None


class RunController:
    """Stage views and the one run in progress; every decision a pipeline key needs."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.views: dict[StageName, StageView] = {stage: StageView(stage) for stage in STAGES}
        self.running = False
        self.run_id: int | None = None
        self.claimed: str | None = None  # what took the run slot from elsewhere ("the backfill A .. B"), named on quit
        self.last_summary: RunSummary | None = None
        self.last_failed: StageName | None = None
        self.token: CancelToken | None = None
        self.gate: ExportGate | None = None
        self.run_done = threading.Event()  # set while no run worker is running
        self.run_done.set()
        self.status_line = ""

    # decisions -----------------------------------------------------------------------------
    def run(self, stages: tuple[StageName, ...]) -> Decision:
        if self.running:
            return Notice("a run is already in progress (c cancels it)", "warning")
        return StartRun(stages)

    def retry(self) -> Decision:
        if self.running:
            return Notice("a run is in progress; retry when it ends", "warning")
        if self.last_failed:
            return StartRun((self.last_failed,))
        return AskResumePoint("retry")

    def resume(self) -> Decision:
        if self.running:
            return Notice("a run is in progress; resume when it ends", "warning")
        unfinished = next((s for s in STAGES if self.views[s].status in (*STOPPED, "skipped")), None)
        if unfinished is None:
            return AskResumePoint("resume")
        view = self.views[unfinished]
        return self._confirm_resume(view.run_id, unfinished, view.status)

    def resume_point_found(self, point: tuple[int, StageName] | None, mode: str, has_runs: bool) -> Decision:
        if not has_runs:
            return Notice(f"no runs yet: nothing to {mode} (r runs every stage)")
        if point is None:
            return Notice(f"the last run succeeded: nothing to {mode}")
        run_id, stage = point
        if mode == "retry":
            return self.run((stage,))
        return self._confirm_resume(run_id, stage, "did not finish")

    @staticmethod
    def _confirm_resume(run_id: int | None, stage: str, status: str) -> ConfirmResume:
        from etl_core.pipeline import stages_from  # loaded with the services, after the first frame

        stages = stages_from(stage)
        said = {"abandoned": "was interrupted", "skipped": "was skipped"}.get(status, status)
        body = f"In run #{run_id}, {stage} {said}.\nThis will run, in order:\n" + "\n".join(
            f"  {i}. {s}" for i, s in enumerate(stages, 1)
        )
        return ConfirmResume(f"Resume from {stage}?", body, stages)

    def cancel(self) -> tuple[Notice, CancelToken | None]:
        """What to say, and the token to cancel (in a thread: cancelling may wait on the warehouse)."""
        token = self.token
        if not self.running or token is None:
            return Notice("nothing is running"), None
        if token.cancelled:
            return Notice("already cancelling …"), None
        return Notice("cancelling the running stage …", "warning"), token

    # a run started elsewhere (the Days view's backfill) ------------------------------------
    def busy(self) -> Notice | None:
        """Why nothing else may run now, or None."""
        if not self.running:
            return None
        holder = f"run #{self.run_id}" if self.run_id else "a run"
        return Notice(f"{holder} is in progress: wait for it to end, or cancel it (c), then run again", "warning")

    def running_name(self) -> str:
        """What a cancel stops, for people: "the backfill A .. B (run #N)", "run #N" or "the run"."""
        run = f"run #{self.run_id}" if self.run_id else ""
        if self.claimed:
            return self.claimed + (f" ({run} now)" if run else "")
        return run or "the run"

    def claim(self, what: str, name: str | None = None) -> Notice | CancelToken:
        """Take the one run slot for `what`: its cancel token (quitting cancels it too), or why not."""
        if (busy := self.busy()) is not None:
            return busy
        self.running = True
        self.token = CancelToken()
        self.run_done = threading.Event()
        self.status_line = what
        self.claimed = name
        return self.token

    def release(self, done: str) -> None:
        """The claimed run ended (its worker has set `run_done`): the pipeline may show the history's newest run."""
        self.running = False
        self.run_id = None
        self.claimed = None
        self.last_failed = None
        self.token = None
        self.gate = None
        self.status_line = done

    # a run ---------------------------------------------------------------------------------
    def begin(self, stages: tuple[StageName, ...]) -> list[StageView]:
        """Mark the run as started (queued stages); returns the views that changed."""
        self.running = True
        self.last_failed = None
        self.token = CancelToken()
        self.run_done = threading.Event()
        for stage in stages:
            self.views[stage].queue()
        self.status_line = f"starting {', '.join(stages)} …"
        return [self.views[stage] for stage in stages]

    def job(
        self,
        services: Services,
        stages: tuple[StageName, ...],
        sink: EventSink,
        ask: Callable[[list[ExportPreview]], object],
    ) -> Callable[[], RunSummary]:
        """The blocking call the run worker makes; an export waits at the gate for `ask`'s answer."""
        from etl_core import browse  # loaded with the services, after the first frame
        from etl_core.pipeline import run_pipeline

        token = self.token or CancelToken()
        gate = ExportGate(token, lambda: browse.preview_export(services), ask) if "export" in stages else None
        self.gate = gate
        return lambda: run_pipeline(services, stages, sink, token, confirm_export=gate)

    def export_asked(self) -> StageView:
        """The run waits at the export preview."""
        view = self.views["export"]
        view.status = "confirming"
        return view

    def export_answered(self, yes: bool) -> StageChange:
        view = self.views["export"]
        if self.gate is not None:
            self.gate.answer(yes)
        if view.status == "confirming":
            view.status = "running"
        message = (
            "export confirmed at the preview" if yes else "export cancelled at the preview: nothing will be written"
        )
        return StageChange(view, LogLine(self.run_id or 0, "export", "INFO" if yes else "WARNING", message, utc_now()))

    def on_event(self, event: Event) -> StageChange | None:
        if isinstance(event, RunStarted):
            self.run_id = event.run_id
            self.status_line = f"run #{event.run_id} running: {', '.join(event.stages)} · c cancels"
        elif isinstance(event, StageStarted):
            view = self.views[event.stage]
            view.start(event.run_id, event.at, self.clock.monotonic())
            return StageChange(view, LogLine(event.run_id, event.stage, "INFO", "stage started", event.at))
        elif isinstance(event, StageFinished):
            return self._stage_finished(event)
        elif isinstance(event, RunFinished):
            self.last_summary = event.summary
        return None

    def _stage_finished(self, event: StageFinished) -> StageChange:
        result = event.result
        view = self.views[result.stage]
        view.finish(event.run_id, result)
        if result.status == "skipped":
            return StageChange(view)
        level: LogLevel = (
            "INFO" if result.status == "succeeded" else "WARNING" if result.status == "cancelled" else "ERROR"
        )
        change = StageChange(
            view,
            LogLine(
                event.run_id,
                result.stage,
                level,
                f"stage {result.status} in {result.duration_s:.2f}s, {count(result.rows, 'rows')}",
                utc_now(),
            ),
            refresh_warehouse=True,
            refresh_lake=result.stage == "export" and result.status == "succeeded",
        )
        if result.status in ("failed", "cancelled"):
            self.last_failed = result.stage
            change.stopped = True
            if result.stage == "export" and self.gate is not None and self.gate.declined:
                change.stopped, change.notice = False, None  # the operator's own no at the preview: nothing to show
                return change
            change.notice = Notice(
                result.error or result.status,
                "error" if result.status == "failed" else "warning",
                f"{result.stage} {result.status}",
            )
        return change

    def _mark_stale(self, stale: dict[StageName, str]) -> list[StageView]:
        """Set each stage's stale reason ("" for fresh); the views that changed."""
        changed = []
        for view in self.views.values():
            reason = stale.get(view.stage, "")
            if view.stale != reason:
                view.stale = reason
                changed.append(view)
        return changed

    def on_progress(self, progress: list[StageProgress]) -> list[StageView]:
        changed = []
        for item in progress:
            view = self.views.get(item.stage)
            if view is not None and view.status == "running":
                view.progress(item)
                changed.append(view)
        return changed

    def on_run_ended(self, summary: RunSummary | None, error: str | None) -> RunOutcome:
        self.running = False
        self.token = None
        self.gate = None
        outcome = RunOutcome()
        for view in self.views.values():
            if view.status in ("queued", "running", "confirming"):
                view.status = "pending" if view.status == "queued" else "abandoned"
                outcome.changed.append(view)
        if error or summary is None:
            self.status_line = "the run did not start"
            outcome.notice = Notice(error or "the run ended without a summary", "error", "run not started")
            return outcome
        self.last_summary = summary
        outcome.changed.extend(view for view in self._mark_stale(summary.stale) if view not in outcome.changed)
        outcome.log_file = summary.log_file
        if summary.log_file:
            outcome.log = f"run #{summary.run_id} {summary.status}; full log: {summary.log_file}"
        self.status_line = f"run #{summary.run_id} {summary.status} in {self.clock.duration(summary.duration_s)}"
        if summary.status == "succeeded":
            outcome.notice = Notice(
                f"run #{summary.run_id}: {', '.join(s.stage for s in summary.stages)} succeeded", title="run succeeded"
            )
        elif (
            (stopped := summary.failed_stage) is not None
            and stopped.stage == "export"
            and stopped.status == "cancelled"
        ):
            outcome.notice = Notice(
                stopped.error or "export cancelled", title=f"run #{summary.run_id}: export cancelled"
            )
        return outcome

    def restore(
        self, run: RunRecord | None, stages: list[StageRecord], stale: dict[StageName, str] | None = None
    ) -> list[StageView]:
        """Show the newest run of the history at start (unless a run began meanwhile), or after a run of the Days
        view: its stages as recorded, each other stage as its newest earlier record (given in `stages`), what no
        run recorded pending; and what is stale."""
        if run is None or self.running or self.run_id is not None:
            return []
        changed = self._mark_stale(stale or {})
        recorded = {record.stage for record in stages}
        for shown in list(self.views.values()):
            if shown.stage not in recorded and (shown.status, shown.run_id) != ("pending", None):
                self.views[shown.stage] = StageView(shown.stage, stale=shown.stale)
                changed.append(self.views[shown.stage])
        for record in stages:
            view = self.views.get(record.stage)
            if view is None:
                continue
            view.restore(record)
            if record.status in STOPPED and self.last_failed is None:
                self.last_failed = record.stage
            changed.append(view)
        status = "interrupted" if run.status in ("running", "abandoned") else run.status  # its process is gone
        self.status_line = f"last run #{run.run_id} {status}"
        return changed
