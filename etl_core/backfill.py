"""Backfill: one run per ingestion date of a range, ascending, in one process, then one export.

The services are opened once and the run lock is held for every date; each date's run loads that
date's own files (`stages.staging.inputs`) and is recorded with its date and its backfill, so that
`--resume` continues an interrupted backfill. The export runs once at the end (the whole tables).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from typing import Any, Literal

import psycopg2

from etl_core import history, history_days
from etl_core.config import Config
from etl_core.errors import EXIT_CONFIG, D2BError, ServiceUnavailable
from etl_core.events import CancelToken, DayProgress, EventSink, RunSummary, discard
from etl_core.history_days import DayRuns
from etl_core.kinds import Reprocess, StageName
from etl_core.pipeline import DatedRun, preflight, run_lock, run_locked
from etl_core.services import Services
from etl_core.stages.prepare import ensure_schemas
from etl_core.stages.staging.inputs import (
    DATE_PLACEHOLDER,
    DayInputs,
    InputsMode,
    bucket_versioning,
    inputs_mode,
    locate_day,
)
from etl_core.warehouse import transaction

DAY_STAGES: tuple[StageName, ...] = ("prepare", "staging", "analytics")
EXPORT_STAGES: tuple[StageName, ...] = ("export",)
ALREADY_DONE = (
    "not left to run by the backfill being resumed"  # a resumed backfill's dates that succeeded before it stopped
)
MAX_DAYS = 3660  # ten years: a typo in a year must not plan a century
MAX_LOOKUP_DAYS = 62  # the Days view looks up the inputs of at most two months of dates at a time
Decision = Literal["run", "skip"]
DayOutcomeStatus = Literal["succeeded", "failed", "cancelled", "skipped", "not run"]


class BackfillRefused(D2BError):
    """The backfill cannot choose each date's inputs (or its range is wrong): nothing was run (exit 2)."""

    exit_code = EXIT_CONFIG


@dataclass(frozen=True)
class DayPlan:
    """One date of the range: what it would load (or why it cannot), and whether the backfill runs it."""

    day: date
    inputs: DayInputs
    history: DayRuns
    decision: Decision
    reason: str  # why it runs or is skipped, for people

    @property
    def missing_inputs(self) -> bool:
        return self.inputs.missing is not None


@dataclass(frozen=True)
class BackfillPlan:
    first: date
    last: date
    reprocess: Reprocess
    mode: InputsMode
    days: tuple[DayPlan, ...]
    backfill_id: int | None = None  # set when resuming an interrupted backfill

    @property
    def to_run(self) -> list[DayPlan]:
        return [day for day in self.days if day.decision == "run"]

    @property
    def skipped_for_inputs(self) -> list[DayPlan]:
        return [day for day in self.days if day.missing_inputs and day.history.wanted(self.reprocess)]


@dataclass(frozen=True)
class DayOutcome:
    day: date
    status: DayOutcomeStatus
    reason: str = ""
    summary: RunSummary | None = None


@dataclass
class BackfillOutcome:
    plan: BackfillPlan
    days: list[DayOutcome] = field(default_factory=list)
    export: RunSummary | None = None
    backfill_id: int | None = None

    @property
    def status(self) -> str:
        """succeeded (every wanted date ran and the export too), cancelled, or failed."""
        if any(day.status == "cancelled" for day in self.days) or (
            self.export is not None and self.export.status == "cancelled"
        ):
            return "cancelled"
        bad = [day for day in self.days if day.status in ("failed", "skipped", "not run")]
        if bad or (self.export is not None and self.export.status != "succeeded"):
            return "failed"
        return "succeeded"


def date_range(first: date, last: date) -> list[date]:
    if last < first:
        raise BackfillRefused(f"the range {first} .. {last} is empty: FROM must be on or before TO")
    if (last - first).days >= MAX_DAYS:
        raise BackfillRefused(f"the range {first} .. {last} has more than {MAX_DAYS} dates; split it")
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def config_for_day(config: Config, day: date) -> Config:
    """The config of one date's run: its ingestion date; its as_of_date too with `as_of_date = "ingestion_date"`."""
    pipeline = config.pipeline
    as_of = day if pipeline.as_of_follows_ingestion else pipeline.as_of_date
    return replace(config, pipeline=replace(pipeline, ingestion_date=day, as_of_date=as_of))


def choose_mode(services: Services) -> InputsMode:
    """How each date's inputs are found; BackfillRefused with the reason when they cannot be."""
    config = services.config
    bucket, prefix = config.source.bucket, config.source.prefix
    versioning = "" if DATE_PLACEHOLDER in prefix else bucket_versioning(services.s3(), bucket)
    mode = inputs_mode(prefix, versioning)
    if mode is None:
        raise BackfillRefused(
            f"a past date cannot be run from its own files: [source] prefix {prefix!r} has no {{date}} folder and "
            f"s3://{bucket} is not versioned, so only today's files exist; put {{date}} in the prefix "
            '(e.g. "orders_data/dt={date}/") or enable versioning on the bucket; nothing was run'
        )
    if mode == "versioned" and config.warehouse.server_side:
        raise BackfillRefused(
            'transfer = "aws_s3" cannot read a given version of an object (aws_s3.table_import_from_s3 reads '
            "the newest one), so a versioned bucket cannot be backfilled with it; put {date} in the prefix, or "
            'use transfer = "client"; nothing was run'
        )
    return mode


def look_up_inputs(
    services: Services, days: Sequence[date], stop: Callable[[], bool] = lambda: False
) -> Iterator[DayInputs]:
    """Each date's inputs as S3 holds them now (at most MAX_LOOKUP_DAYS dates; `stop` ends it early).

    BackfillRefused (before any date) when a past date's inputs cannot be told apart from today's."""
    mode = choose_mode(services)
    config, client = services.config, services.s3()
    for day in days[:MAX_LOOKUP_DAYS]:
        if stop():
            return
        yield locate_day(client, config.source.bucket, config.source.prefix, day, mode, services.s3_label)


def plan_backfill(
    services: Services,
    first: date,
    last: date,
    reprocess: Reprocess,
    *,
    only: Sequence[date] | None = None,
    backfill_id: int | None = None,
    cancel: CancelToken | None = None,
    unchosen: str = ALREADY_DONE,
) -> BackfillPlan:
    """Every date of [first, last] with its inputs, its history and the decision; changes nothing.

    With `only`, the dates outside it are skipped with the reason `unchosen`: already done by the backfill
    being resumed, or (the console's Days view) not among the dates the operator chose."""
    days = date_range(first, last)
    mode = choose_mode(services)
    config, client = services.config, services.s3()
    with services.transaction("backfill plan", cancel) as cur:
        known = history_days.runs_by_date(cur, config, first, last)
    planned = []
    for day in days:
        if cancel is not None:
            cancel.raise_if_cancelled()
        inputs = locate_day(client, config.source.bucket, config.source.prefix, day, mode, services.s3_label)
        runs = known[day]
        decision: Decision
        if only is not None and day not in only:
            decision, reason = "skip", unchosen
        elif not runs.wanted(reprocess):
            decision, reason = "skip", _why_not_wanted(runs, reprocess)
        elif inputs.missing is not None:
            decision, reason = "skip", f"missing inputs: {inputs.missing}"
        else:
            decision, reason = "run", _why_wanted(runs, reprocess)
        planned.append(DayPlan(day, inputs, runs, decision, reason))
    return BackfillPlan(first, last, reprocess, mode, tuple(planned), backfill_id)


def _why_not_wanted(runs: DayRuns, reprocess: Reprocess) -> str:
    success = runs.last_success
    if reprocess == "failed" and not runs.runs:
        return "never run (--reprocess failed reruns failed dates only)"
    if success is not None and runs.status == "succeeded":
        return f"succeeded in run #{success.run_id}"
    return f"succeeded in run #{success.run_id} (newest run: {runs.status})" if success else "not wanted"


def _why_wanted(runs: DayRuns, reprocess: Reprocess) -> str:
    if not runs.runs:
        return "never run"
    newest = runs.runs[0]
    return f"newest run #{newest.run_id} {newest.status}" + (" (--reprocess all)" if reprocess == "all" else "")


def run_backfill(
    services: Services,
    plan: BackfillPlan,
    sink: EventSink = discard,
    cancel: CancelToken | None = None,
    on_day: Callable[[DayOutcome], None] = lambda _day: None,
    confirm_export: Callable[[Config], bool] | None = None,
) -> BackfillOutcome:
    """Run every planned date in order under one run lock, then the export once; never raises for a date's failure.

    Each date's state goes to `sink` as a DayProgress (queued, running, then how it ended) beside its run's own
    events; `confirm_export` (the console's export preview) is asked before the export, as in `run_pipeline`, with
    the config of the export's run (its ingestion date: the checks of the preview are that date's)."""
    config = services.config
    cancel = cancel or CancelToken()
    outcome = BackfillOutcome(plan)

    def ended(done: DayOutcome) -> None:
        outcome.days.append(done)
        if done.status != "not run":  # the caller hears of the dates left behind from the outcome
            on_day(done)
        sink(DayProgress(done.day, done.status, done.summary.run_id if done.summary else None, done.reason))

    for day in plan.days:
        if day.decision == "skip" and day.missing_inputs and day.history.wanted(plan.reprocess):
            ended(DayOutcome(day.day, "skipped", day.reason))
    if not plan.to_run and plan.backfill_id is None:
        return outcome  # nothing to do: no run, no export, nothing recorded
    for day in plan.to_run:
        sink(DayProgress(day.day, "queued"))
    preflight(services, (*DAY_STAGES, *EXPORT_STAGES), cancel)
    with run_lock(services) as lock_conn:
        try:
            outcome.backfill_id = _open_backfill(lock_conn, config, plan)
            last_good = max((day.day for day in plan.days if day.reason == ALREADY_DONE), default=None)
            for day in plan.to_run:
                if cancel.cancelled:
                    break
                sink(DayProgress(day.day, "running"))
                dated = DatedRun(config_for_day(config, day.day), day.inputs, outcome.backfill_id)
                summary = run_locked(services, lock_conn, DAY_STAGES, sink, cancel, None, dated)
                status: DayOutcomeStatus = summary.status  # type: ignore[assignment]
                failed = summary.failed_stage
                ended(DayOutcome(day.day, status, (failed.error or "") if failed else "", summary))
                if summary.status == "succeeded":
                    last_good = day.day
                if summary.status == "cancelled":
                    break
            ran = {done.day for done in outcome.days if done.summary is not None}
            for day in plan.to_run:
                if day.day not in ran:
                    ended(DayOutcome(day.day, "not run", "the backfill was interrupted before this date"))
            outcome.days.sort(key=lambda d: d.day)
            if last_good is not None and not cancel.cancelled:
                dated = DatedRun(config_for_day(config, last_good), None, outcome.backfill_id)
                export_config = dated.config
                confirm = None if confirm_export is None else lambda: confirm_export(export_config)
                outcome.export = run_locked(services, lock_conn, EXPORT_STAGES, sink, cancel, confirm, dated)
            with transaction(lock_conn) as cur:
                history_days.finish_backfill(cur, config, outcome.backfill_id, outcome.status)
        except (psycopg2.OperationalError, psycopg2.InterfaceError) as exc:  # the run lock's session is gone
            raise ServiceUnavailable(lost_warehouse(outcome, exc)) from exc
    return outcome


def lost_warehouse(outcome: BackfillOutcome, exc: Exception) -> str:
    """The backfill's warehouse session (it holds the run lock) ended mid-way: what was done, what to do."""
    done = [day for day in outcome.days if day.summary is not None]
    detail = (str(exc).strip().splitlines() or [exc.__class__.__name__])[0]
    return (
        f"the warehouse connection of the backfill {outcome.plan.first} .. {outcome.plan.last} was lost ({detail})"
        f" after {len(done)} date(s) ran, recorded as they ended"
        + ("; nothing was exported" if outcome.export is None else "")
        + "; once the warehouse is back, run the backfill again (d2b-console --resume, or r in the Days view with "
        "reprocess missing: the dates that succeeded are not rerun)"
    )


def _open_backfill(lock_conn: Any, config: Config, plan: BackfillPlan) -> int:
    with transaction(lock_conn) as cur:
        ensure_schemas(cur, [config.staging_schema, config.analytics_schema])
        history.ensure_history_tables(cur, config)
        history.mark_abandoned(cur, config)
        history_days.mark_abandoned_backfills(cur, config)
        if plan.backfill_id is not None:
            history_days.reopen_backfill(cur, config, plan.backfill_id)
            return plan.backfill_id
        dates = [day.day for day in plan.to_run]
        return history_days.start_backfill(cur, config, plan.first, plan.last, plan.reprocess, dates)


def backfill_to_resume(
    services: Services, log: Callable[[str], None] = lambda _m: None
) -> tuple[history_days.BackfillRecord, list[date]] | None:
    """The interrupted backfill that `--resume` continues, with the dates it has left; None when there is none.

    Takes the run lock, so that a killed backfill (still 'running') is marked abandoned first."""
    config = services.config
    with run_lock(services) as lock_conn, transaction(lock_conn) as cur:
        if not history.history_exists(cur, config):
            return None
        for run in history.mark_abandoned(cur, config):
            log(f"run #{run} had stopped without finishing: marked abandoned")
        history_days.mark_abandoned_backfills(cur, config)
        backfill = history_days.interrupted_backfill(cur, config)
        if backfill is None:
            return None
        done = history_days.done_in_backfill(cur, config, backfill.backfill_id)
    return backfill, [day for day in backfill.dates if day not in done]
