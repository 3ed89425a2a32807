"""Run stages in order under a run lock, report events, record history, write the run's log file."""

from __future__ import annotations

import contextlib
import time
import traceback
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import psycopg2
import psycopg2.errors

from etl_core import history, history_days, kept_outcome, lineage
from etl_core.checks import blocking_failures
from etl_core.config import Config
from etl_core.dimension_provenance import describe_dimensions
from etl_core.dimensions import require_dimensions
from etl_core.disk_full import warehouse_disk_full
from etl_core.errors import Cancelled, D2BError, ExportDeclined, RunLocked, StageError
from etl_core.events import (
    CancelToken,
    Event,
    EventSink,
    LogLine,
    RunFinished,
    RunStarted,
    RunSummary,
    StageFinished,
    StageResult,
    StageStarted,
    discard,
    utc_now,
)
from etl_core.integrations import RunObservers
from etl_core.kinds import STAGE_NAMES, LogLevel, RunStatus, StageName, StageStatus, StoppedStatus
from etl_core.run_files import run_log_path
from etl_core.s3 import connection_problem
from etl_core.secrets import redact
from etl_core.services import Services
from etl_core.stages.analytics import run_analytics
from etl_core.stages.context import StageContext, StageOutput
from etl_core.stages.export import run_export
from etl_core.stages.prepare import ensure_schemas, run_prepare
from etl_core.stages.staging import run_staging
from etl_core.stages.staging.inputs import DayInputs
from etl_core.transfer_aws_s3 import require_ready
from etl_core.warehouse import fetch_value, transaction

STAGES = STAGE_NAMES
TRANSFER_STAGES = ("staging", "export")  # the stages that move data between S3 and the warehouse
DIMENSION_STAGES = ("staging", "analytics")  # the stages whose SQL reads the dimension tables
STAGE_FUNCTIONS: dict[StageName, Callable[[StageContext], StageOutput]] = {
    "prepare": run_prepare,
    "staging": run_staging,
    "analytics": run_analytics,
    "export": run_export,
}


def stages_from(stage: str) -> tuple[StageName, ...]:
    """The stage and every stage after it (what a resume runs)."""
    names: tuple[str, ...] = STAGES
    if stage not in names:
        raise ValueError(f"unknown stage {stage!r}; stages are {', '.join(STAGES)}")
    return STAGES[names.index(stage) :]


def resume_point(services: Services, log: Callable[[str], None] = lambda _m: None) -> tuple[int, StageName] | None:
    """(run_id, stage) to resume from: the newest run that did not succeed, from its first stage that did
    not; None when nothing is left to run.

    Takes the run lock (RunLocked while another run is in progress), so that runs left `running` by
    a killed process can be marked abandoned first, and resumed.
    """
    config = services.config
    with run_lock(services) as lock_conn, transaction(lock_conn) as cur:
        if not history.history_exists(cur, config):
            return None
        for run in history.mark_abandoned(cur, config):
            log(f"run #{run} had stopped without finishing: marked abandoned")
        return history.resume_point(cur, config, STAGES)


def run_lock_held(cur: psycopg2.extensions.cursor, config: Config) -> bool:
    """Whether a session holds the run lock of `config`'s user_id now (read from pg_locks: nothing is taken)."""
    cur.execute(
        "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted AND objsubid = 1 "
        "AND database = (SELECT oid FROM pg_database WHERE datname = current_database()) "
        "AND ((classid::bigint << 32) | objid::bigint) = hashtextextended(%s, 0))",
        (f"d2b-console:{config.pipeline.user_id}",),
    )
    return bool(fetch_value(cur))


# A process that just ended (a failed run, then --resume at once) leaves a backend that releases its lock a
# moment later, when the server sees the disconnect: that long, a held lock is not yet another process's.
RUN_LOCK_GRACE_S = 2.0


def _take_run_lock(cur: psycopg2.extensions.cursor, key: str) -> bool:
    """Take the run lock, trying again for RUN_LOCK_GRACE_S while it is held; False when it stays held."""
    deadline = time.monotonic() + RUN_LOCK_GRACE_S
    while True:
        cur.execute("SELECT pg_try_advisory_lock(hashtextextended(%s, 0))", (key,))
        if fetch_value(cur):
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.1)


@contextmanager
def run_lock(services: Services) -> Iterator[psycopg2.extensions.connection]:
    """A session advisory lock per warehouse and user_id; it dies with the connection (and the process)."""
    config = services.config
    conn = services.connect(autocommit=True, purpose="run lock")
    try:
        with conn.cursor() as cur:
            if not _take_run_lock(cur, f"d2b-console:{config.pipeline.user_id}"):
                holder = "another d2b-console process"
                try:
                    running = history.running_run(cur, config)
                    if running:
                        holder = (
                            f"run #{running.run_id} (pid {running.pid} on {running.host}, started "
                            f"{running.started_at:%Y-%m-%d %H:%M:%S %Z}, stages {running.stages})"
                        )
                except psycopg2.Error:
                    pass
                raise RunLocked(
                    f"{holder} is running for user_id {config.pipeline.user_id} on "
                    f"{services.warehouse_label}; wait for it to finish, then retry"
                )
        yield conn
    finally:
        conn.close()


class _RunLog:
    """Writes every event of one run to `<state>/logs/run-<id>.log` as it happens."""

    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._file = path.open("a", encoding="utf-8", buffering=1)

    def write(self, event: Event) -> None:
        stamp = utc_now().strftime("%Y-%m-%d %H:%M:%S")
        if isinstance(event, LogLine):
            self._file.write(f"{stamp} {event.level:<7} [{event.stage or 'run'}] {redact(event.message)}\n")
        elif isinstance(event, StageStarted):
            self._file.write(f"{stamp} INFO    [{event.stage}] stage started\n")
        elif isinstance(event, StageFinished):
            r = event.result
            level = {"failed": "ERROR", "cancelled": "WARNING"}.get(r.status, "INFO")
            line = f"{stamp} {level:<7} [{r.stage}] stage {r.status}"
            line += f" in {r.duration_s:.2f}s, {r.rows:,} rows"
            if r.error:
                line += f": {redact(r.error)}"
            self._file.write(line + "\n")
            for check in r.checks:
                self._file.write(
                    f"{stamp} {'INFO' if check.passed else check.severity:<7} [{r.stage}] "
                    f"check {check.name}: {redact(check.detail)}\n"
                )

    def close(self) -> None:
        self._file.close()


@dataclass(frozen=True)
class DatedRun:
    """One date of a backfill: the config of that date (its ingestion date), the inputs it must load, its backfill."""

    config: Config
    inputs: DayInputs | None = None
    backfill_id: int | None = None


def run_pipeline(
    services: Services,
    stages: Sequence[StageName] = STAGES,
    sink: EventSink = discard,
    cancel: CancelToken | None = None,
    confirm_export: Callable[[], bool] | None = None,
) -> RunSummary:
    """Run `stages` in order; a failed or cancelled stage skips the rest. Never raises for stage errors.

    `confirm_export` (the console's export preview) is asked, once the export stage has started, whether
    to write anything; False records the export as cancelled. Headless runs pass None: no question.
    """
    stages = tuple(stages)
    for stage in stages:
        stages_from(stage)  # validates the name
    preflight(services, stages, cancel)
    with run_lock(services) as lock_conn:
        return run_locked(services, lock_conn, stages, sink, cancel, confirm_export)


def preflight(services: Services, stages: Sequence[str], cancel: CancelToken | None = None) -> None:
    """What must hold before anything is recorded or changed (the aws_s3 extension, for its transfers)."""
    if services.config.warehouse.server_side and set(stages) & set(TRANSFER_STAGES):
        with services.transaction("preflight", cancel) as cur:
            require_ready(cur, services.warehouse_label)


def run_locked(
    services: Services,
    lock_conn: psycopg2.extensions.connection,
    stages: tuple[StageName, ...],
    sink: EventSink = discard,
    cancel: CancelToken | None = None,
    confirm_export: Callable[[], bool] | None = None,
    dated: DatedRun | None = None,
) -> RunSummary:
    """One run, its lock already held on `lock_conn` (a backfill holds it for all its dates)."""
    config = dated.config if dated is not None else services.config
    cancel = cancel or CancelToken()
    with transaction(lock_conn) as cur:
        try:
            ensure_schemas(cur, [config.staging_schema, config.analytics_schema])
            history.ensure_history_tables(cur, config)
            lineage.ensure_table(cur, config)
        except psycopg2.errors.InsufficientPrivilege as exc:
            raise _missing_rights(exc, services) from None
        if set(stages) & set(DIMENSION_STAGES):  # after the rights check, before anything is recorded
            require_dimensions(cur, config.warehouse.dims_schema, services.warehouse_label)
        abandoned = history.mark_abandoned(cur, config)
        if dated is None or dated.backfill_id is None:  # a backfill's own row is running, and alive
            history_days.mark_abandoned_backfills(cur, config)
        run_id, started_at = history.start_run(cur, config, stages)
        if dated is not None and dated.backfill_id is not None:
            history_days.link_run(cur, config, run_id, dated.backfill_id)
        observers = RunObservers(services, run_id, history.lineage_run_id(cur, config, run_id))
    # A cancel is how this run ends unless a stage says otherwise: kept at once, for a process stopped before
    # its history could be written (a frozen path: the 3 s after a signal run out).
    unlink = cancel.on_cancel(
        lambda: kept_outcome.keep(config, run_id, "cancelled", "interrupted by the operator", replace=False)
    )
    try:
        return _run(
            services, lock_conn, run_id, started_at, stages, abandoned, sink, cancel, confirm_export, observers, dated
        )
    except BaseException as exc:  # the run must not stay 'running' in the history, whatever stopped it
        status, error = _how_it_stopped(exc, services)
        recorded = {}
        for write, *args in ((history.finish_run, status, error), (history.close_running_stages, status)):
            with contextlib.suppress(Exception):  # best effort: what stopped the run is what is reported
                recorded[write] = _record(services, lock_conn, discard, run_id, write, config, run_id, *args)
        if recorded.get(history.finish_run):
            kept_outcome.discard(config, run_id)
        else:  # for the next run to record (a stage that ended the run may have kept its own words already)
            kept_outcome.keep(config, run_id, status, error, replace=False)
        observers.stopped(status, error)
        raise
    finally:
        unlink()


def _how_it_stopped(exc: BaseException, services: Services) -> tuple[StoppedStatus, str]:
    """(status, error) of a run an exception stopped."""
    if isinstance(exc, KeyboardInterrupt | Cancelled):
        return "cancelled", "interrupted by the operator"
    return "failed", str(exc) if isinstance(exc, D2BError) else _describe_unexpected(exc, services)


def _run(
    services: Services,
    lock_conn: psycopg2.extensions.connection,
    run_id: int,
    started_at: datetime,
    stages: tuple[StageName, ...],
    abandoned: list[int],
    sink: EventSink,
    cancel: CancelToken,
    confirm_export: Callable[[], bool] | None,
    observers: RunObservers,
    dated: DatedRun | None = None,
) -> RunSummary:
    config = dated.config if dated is not None else services.config
    run_log = _RunLog(run_log_path(config, run_id))

    def emit(event: Event) -> None:
        run_log.write(event)
        observers(event)
        sink(event)

    try:
        emit(RunStarted(run_id, stages))
        emit(
            LogLine(
                run_id,
                None,
                "INFO",
                f"run #{run_id}: stages {', '.join(stages)}; user_id "
                f"{config.pipeline.user_id}; ingestion_date {config.pipeline.ingestion_date}; "
                f"as_of_date {config.pipeline.as_of_date}; warehouse {services.warehouse_label}; "
                f"S3 {services.s3_label}; transfer {config.warehouse.transfer}",
            )
        )
        if dimensions := describe_dimensions(services):
            emit(LogLine(run_id, None, "INFO", f"dimensions: {dimensions['text']}"))
        for run in abandoned:
            emit(LogLine(run_id, None, "WARNING", f"run #{run} had stopped without finishing: marked abandoned"))
        results = _run_stages(services, lock_conn, run_id, stages, emit, cancel, confirm_export, dated)
        stale = _stale_after(lock_conn, emit, run_id, config)
        summary = RunSummary(
            run_id,
            _run_status(results),
            started_at,
            (utc_now() - started_at).total_seconds(),
            config.pipeline.user_id,
            config.pipeline.ingestion_date.isoformat(),
            tuple(results),
            str(run_log.path),
            stale,
        )
        failed = summary.failed_stage
        if _record(
            services,
            lock_conn,
            emit,
            run_id,
            history.finish_run,
            config,
            run_id,
            summary.status,
            failed.error if failed else None,
        ):
            kept_outcome.discard(config, run_id)
        observers.finish(summary, emit)
        emit(RunFinished(run_id, summary))
        return summary
    finally:
        run_log.close()


def _missing_rights(exc: psycopg2.Error, services: Services) -> StageError:
    config = services.config
    return StageError(
        f"the warehouse user may not create what a run needs on {services.warehouse_label} "
        f"({redact(exc.diag.message_primary or str(exc))}); ask a DBA to run the bootstrap grants "
        f"(sql/bootstrap/operator_grants.sql, see terraform/README.md), which create the schemas "
        f"{config.staging_schema} and {config.analytics_schema} for this user; nothing was run"
    )


def _run_status(results: list[StageResult]) -> RunStatus:
    if any(r.status == "cancelled" for r in results):
        return "cancelled"
    if any(r.status == "failed" for r in results):
        return "failed"
    return "succeeded"


def _stale_after(
    conn: psycopg2.extensions.connection, emit: EventSink, run_id: int, config: Config
) -> dict[StageName, str]:
    """The stages left stale once this run is done (each said in the log); best effort, like the history."""
    try:
        with transaction(conn) as cur:
            stale = lineage.stale_stages(cur, config)
    except psycopg2.Error as exc:
        emit(LogLine(run_id, None, "WARNING", f"could not tell which stages are stale: {redact(str(exc)).strip()}"))
        return {}
    for found in stale.values():
        emit(LogLine(run_id, found.stage, "WARNING", f"stale: {found.reason}"))
    return {name: found.reason for name, found in stale.items()}


def _record(
    services: Services,
    conn: psycopg2.extensions.connection,
    emit: EventSink,
    run_id: int,
    write: Callable[..., None],
    *args: object,
) -> bool:
    """Call `write(cur, *args)`. When the run lock's session is gone (ended on the server, a stall), the write
    goes through a fresh connection, so the run is recorded as it happens rather than left 'running'. A
    history that refuses the write, or cannot be reached at all, fails the run (history.recording_failed):
    nothing may report success that the history does not say. True once written, False when a cancel stopped it."""
    try:
        with transaction(conn) as cur:
            write(cur, *args)
        return True
    except (psycopg2.Error, D2BError) as exc:
        if isinstance(exc, Cancelled):
            emit(LogLine(run_id, None, "WARNING", f"could not record run history: {redact(str(exc)).strip()}"))
            return False
        if not conn.closed:
            raise history.recording_failed(exc, run_id, services.warehouse_label) from exc
    try:
        with services.transaction("history") as cur:
            write(cur, *args)
        return True
    except (psycopg2.Error, D2BError) as exc:
        if stopped := _embedded_postgres_stopped(services):
            raise history.HistoryLost(f"{stopped}; run #{run_id} stopped there") from exc
        raise history.recording_failed(exc, run_id, services.warehouse_label, lost=True) from exc


def _run_stages(
    services: Services,
    lock_conn,
    run_id: int,
    stages: tuple[StageName, ...],
    emit: EventSink,
    cancel: CancelToken,
    confirm_export: Callable[[], bool] | None = None,
    dated: DatedRun | None = None,
) -> list[StageResult]:
    config = dated.config if dated is not None else services.config
    results: list[StageResult] = []
    for stage in stages:
        if results and results[-1].status != "succeeded":
            result = StageResult(stage, "skipped", None, 0.0, 0, "an earlier stage did not succeed")
            emit(StageFinished(run_id, result))  # shown even when the history then refuses it
            _record(services, lock_conn, emit, run_id, history.record_stage, config, run_id, result)
            results.append(result)
            continue
        started_at, started = utc_now(), time.monotonic()
        emit(StageStarted(run_id, stage, started_at))
        running = StageResult(stage, "running", started_at, 0.0, 0)
        _record(services, lock_conn, emit, run_id, history.record_stage, config, run_id, running)
        ctx = StageContext(config, services, run_id, stage, emit, cancel, dated.inputs if dated else None)
        status: StageStatus = "succeeded"
        output, error = StageOutput(), None
        waited = 0.0  # at the export preview: the operator's time, not the stage's
        try:
            cancel.raise_if_cancelled()
            if stage == "export" and confirm_export is not None:
                asked = time.monotonic()
                confirmed = confirm_export()
                waited = time.monotonic() - asked
                ctx.log(f"export {'confirmed' if confirmed else 'declined'} at the export preview after {waited:.1f}s")
                if not confirmed:
                    raise ExportDeclined("the export was cancelled at the export preview; nothing was written")
            output = STAGE_FUNCTIONS[stage](ctx)
            if blocking := blocking_failures(output.checks):
                status, error = "failed", f"checks failed: {blocking}"
        except Exception as exc:  # noqa: BLE001 - every failure is reported, never a crash
            if isinstance(exc, ExportDeclined):
                status, error = "cancelled", str(exc)
            elif isinstance(exc, Cancelled) or cancel.cancelled:  # a cancel may surface as any error
                status, error = "cancelled", f"{stage} was cancelled by the operator; nothing half-done was kept"
            elif isinstance(exc, D2BError):
                status, error = "failed", _embedded_postgres_stopped(services) or str(exc)
                output.details = getattr(exc, "details", None) or output.details  # e.g. every bad record
            else:
                status, error = "failed", _describe_unexpected(exc, services)
                ctx.log(redact(traceback.format_exc()), "DEBUG")
        for check in output.checks:
            level: LogLevel = "INFO" if check.passed else ("ERROR" if check.severity == "ERROR" else "WARNING")
            ctx.log(f"check {check.name} [{check.severity}]: {check.detail}", level)
        if error:
            ctx.log(error, "ERROR" if status == "failed" else "WARNING")
        result = StageResult(
            stage,
            status,
            started_at,
            time.monotonic() - started - waited,
            output.rows,
            redact(error) if error else None,
            tuple(output.checks),
            output.details,
        )
        if status == "failed" or status == "cancelled":  # this ends the run: kept in case the history cannot take it
            kept_outcome.keep(config, run_id, status, result.error)
        try:
            _record(services, lock_conn, emit, run_id, history.record_stage, config, run_id, result)
            _record(services, lock_conn, emit, run_id, lineage.record_output, config, run_id, result)
        finally:  # after the records, so a view refreshed on it sees them; shown even when the history refuses them
            emit(StageFinished(run_id, result))
        results.append(result)
    return results


def _embedded_postgres_stopped(services: Services) -> str | None:
    """The sentence naming an embedded Postgres that died under the run (whatever error its sessions gave)."""
    return services.embedded.postgres_stopped() if services.embedded is not None else None


def _describe_unexpected(exc: BaseException, services: Services) -> str:
    if stopped := _embedded_postgres_stopped(services):
        return stopped
    if full := warehouse_disk_full(exc, services):
        return str(full)
    if problem := connection_problem(exc, services.s3_label):
        return problem
    if isinstance(exc, psycopg2.OperationalError):
        first_line = redact(str(exc)).strip().splitlines()[0] if str(exc).strip() else exc
        return (
            f"the warehouse connection failed: {first_line}; "
            "the stage's transaction was rolled back; resume from this stage when the warehouse is back"
        )
    if isinstance(exc, psycopg2.Error):
        return f"warehouse error: {redact((exc.diag.message_primary or str(exc)).strip())}"
    return f"unexpected error ({exc.__class__.__name__}: {redact(str(exc))})"
