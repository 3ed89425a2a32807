"""Run history in the warehouse: every run and stage with status, start, duration, rows and error."""

from __future__ import annotations

import json
import os
import socket
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import psycopg2
from psycopg2 import sql

from etl_core import kept_outcome
from etl_core.config import Config
from etl_core.errors import D2BError, StageError
from etl_core.events import StageResult
from etl_core.kinds import RunStatus, StageName, StageStatus
from etl_core.secrets import redact
from etl_core.sql_files import render_sql, safe_identifier
from etl_core.warehouse import table_exists


class HistoryNotRecorded(Exception):
    """The history refused a write (a constraint, a permission): the run fails, with a crash report, since
    nothing may report success that the history does not say."""


class HistoryLost(StageError):
    """The connection that writes the history (and holds the run lock) is gone: the run stops."""


def recording_failed(exc: Exception, run_id: int, warehouse_label: str, *, lost: bool = False) -> Exception:
    """The error that fails run `run_id` when writing its history raised `exc`; `lost`: the run lock's
    connection is gone and a fresh one could not write either."""
    text = str(exc).strip()
    primary = exc.diag.message_primary if isinstance(exc, psycopg2.Error) else None
    reason = redact((primary or (text.splitlines()[0] if text else repr(exc))).strip())
    if lost or isinstance(exc, psycopg2.OperationalError | psycopg2.InterfaceError | D2BError):
        return HistoryLost(
            f"the connection to warehouse {warehouse_label} that records run #{run_id} and holds its run lock was "
            f"lost ({reason}): the run stopped there; resume it (--resume) when the warehouse is back"
        )
    return HistoryNotRecorded(f"run #{run_id} could not be recorded in the history on {warehouse_label}: {reason}")


@dataclass(frozen=True)
class RunRecord:
    run_id: int
    started_at: datetime
    finished_at: datetime | None
    status: RunStatus
    stages: str
    ingestion_date: date
    host: str
    pid: int
    error: str | None

    @property
    def duration_s(self) -> float | None:
        return (self.finished_at - self.started_at).total_seconds() if self.finished_at else None


@dataclass(frozen=True)
class StageRecord:
    run_id: int
    stage: StageName
    status: StageStatus
    started_at: datetime | None
    duration_s: float | None
    rows: int | None
    error: str | None
    checks: list[dict[str, Any]]
    details: dict[str, Any]


def history_table(config: Config, name: str) -> sql.Composed:
    """A table of the run history (console_runs, console_stage_runs, ...) in the operator's staging schema."""
    return sql.SQL("{}.{}").format(safe_identifier(config.staging_schema), safe_identifier(name))


def _runs(config: Config) -> sql.Composed:
    return history_table(config, "console_runs")


def _stage_runs(config: Config) -> sql.Composed:
    return history_table(config, "console_stage_runs")


def history_exists(cur: Any, config: Config) -> bool:
    return table_exists(cur, config.staging_schema, "console_runs") and table_exists(
        cur, config.staging_schema, "console_stage_runs"
    )


def ensure_history_tables(cur: Any, config: Config) -> None:
    cur.execute(render_sql("ddl/history.sql", staging=config.staging_schema))
    # Columns added after the tables first shipped; history tables made by older versions gain them here.
    _add_column(cur, config, "console_runs", "lineage_run_id", "uuid NOT NULL DEFAULT gen_random_uuid()")


def _add_column(cur: Any, config: Config, table: str, column: str, definition: str) -> None:
    """ALTER TABLE only when the column is missing: the lock it takes would wait behind any open reader."""
    cur.execute(
        "SELECT 1 FROM information_schema.columns WHERE table_schema = %s AND table_name = %s AND column_name = %s",
        (config.staging_schema, table, column),
    )
    if cur.fetchone() is None:
        cur.execute(
            sql.SQL("ALTER TABLE {}.{} ADD COLUMN {} " + definition).format(
                safe_identifier(config.staging_schema), safe_identifier(table), safe_identifier(column)
            )
        )


def lineage_run_id(cur: Any, config: Config, run_id: int) -> str:
    """The run's UUID, as OpenLineage events name it (made by the warehouse when the run starts)."""
    cur.execute(sql.SQL("SELECT lineage_run_id FROM {} WHERE run_id = %s").format(_runs(config)), (run_id,))
    return str(cur.fetchone()[0])


def mark_abandoned(cur: Any, config: Config) -> list[int]:
    """Runs still 'running' belong to a dead process (the caller holds the run lock): those whose outcome was
    kept on disk (kept_outcome: the history could not take it) are recorded as they ended; the others are
    marked abandoned."""
    _record_kept_outcomes(cur, config)
    cur.execute(
        sql.SQL(
            "UPDATE {} SET status = 'abandoned', finished_at = now(), "
            "error = coalesce(error, 'the process stopped before the run finished') "
            "WHERE status = 'running' RETURNING run_id"
        ).format(_runs(config))
    )
    abandoned = [row[0] for row in cur.fetchall()]
    if abandoned:
        cur.execute(
            sql.SQL("UPDATE {} SET status = 'abandoned' WHERE status = 'running' AND run_id = ANY(%s)").format(
                _stage_runs(config)
            ),
            (abandoned,),
        )
    return abandoned


def _record_kept_outcomes(cur: Any, config: Config) -> None:
    cur.execute(sql.SQL("SELECT run_id FROM {} WHERE status = 'running'").format(_runs(config)))
    for (run_id,) in cur.fetchall():
        if (kept := kept_outcome.read(config, run_id)) is None:
            continue
        cur.execute(
            sql.SQL(
                "UPDATE {} SET status = %s, finished_at = %s, error = %s "
                "WHERE run_id = %s AND status = 'running' AND started_at <= %s"  # not a reused run id's
            ).format(_runs(config)),
            (kept.status, kept.finished_at, redact(kept.error) if kept.error else None, run_id, kept.finished_at),
        )
        if cur.rowcount:  # the stage that was running ended the run: same status, same words
            cur.execute(
                sql.SQL(
                    "UPDATE {} SET status = %s, error = coalesce(error, %s) WHERE run_id = %s AND status = 'running'"
                ).format(_stage_runs(config)),
                (kept.status, redact(kept.error) if kept.error else None, run_id),
            )
        kept_outcome.discard(config, run_id)


def start_run(cur: Any, config: Config, stages: tuple[StageName, ...]) -> tuple[int, datetime]:
    cur.execute(
        sql.SQL(
            "INSERT INTO {} (stages, ingestion_date, host, pid) VALUES (%s, %s, %s, %s) RETURNING run_id, started_at"
        ).format(_runs(config)),
        (",".join(stages), config.pipeline.ingestion_date, socket.gethostname(), os.getpid()),
    )
    run_id, started = cur.fetchone()
    return run_id, started


def record_stage(cur: Any, config: Config, run_id: int, result: StageResult) -> None:
    cur.execute(
        sql.SQL(
            "INSERT INTO {} (run_id, stage, status, started_at, duration_s, rows, error, checks, details) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s) "
            "ON CONFLICT (run_id, stage) DO UPDATE SET status = EXCLUDED.status, started_at = EXCLUDED.started_at, "
            "duration_s = EXCLUDED.duration_s, rows = EXCLUDED.rows, error = EXCLUDED.error, "
            "checks = EXCLUDED.checks, details = EXCLUDED.details"
        ).format(_stage_runs(config)),
        (
            run_id,
            result.stage,
            result.status,
            result.started_at,
            result.duration_s,
            result.rows,
            redact(result.error) if result.error else None,
            json.dumps([c.__dict__ for c in result.checks]),
            redact(json.dumps(result.details, default=str)),
        ),
    )


def finish_run(cur: Any, config: Config, run_id: int, status: RunStatus, error: str | None) -> None:
    """Record how a run ended; only once: a run already finished keeps its outcome."""
    cur.execute(
        sql.SQL(
            "UPDATE {} SET status = %s, finished_at = now(), error = %s WHERE run_id = %s AND status = 'running'"
        ).format(_runs(config)),
        (status, redact(error) if error else None, run_id),
    )


def close_running_stages(cur: Any, config: Config, run_id: int, status: StageStatus) -> None:
    """A stage of a stopped run that is still recorded 'running' ended with the run: never 'running' forever."""
    cur.execute(
        sql.SQL("UPDATE {} SET status = %s WHERE run_id = %s AND status = 'running'").format(_stage_runs(config)),
        (status, run_id),
    )


def running_run(cur: Any, config: Config) -> RunRecord | None:
    """The newest run marked running (used to name the holder of the run lock)."""
    runs = list_runs(cur, config, limit=20)
    return next((r for r in runs if r.status == "running"), None)


def list_runs(cur: Any, config: Config, limit: int = 50) -> list[RunRecord]:
    if not table_exists(cur, config.staging_schema, "console_runs"):
        return []
    cur.execute(
        sql.SQL(
            "SELECT run_id, started_at, finished_at, status, stages, ingestion_date, host, pid, error "
            "FROM {} ORDER BY run_id DESC LIMIT %s"
        ).format(_runs(config)),
        (limit,),
    )
    return [RunRecord(*row) for row in cur.fetchall()]


_STAGE_COLUMNS = "run_id, stage, status, started_at, duration_s, rows, error, checks, details"  # StageRecord's


def _stage_records(cur: Any, config: Config, query: str, params: tuple[Any, ...]) -> list[StageRecord]:
    """The StageRecords `query` selects (`{columns}` and `{table}` filled in); none before the first run."""
    if not table_exists(cur, config.staging_schema, "console_stage_runs"):
        return []
    cur.execute(sql.SQL(query).format(columns=sql.SQL(_STAGE_COLUMNS), table=_stage_runs(config)), params)
    return [StageRecord(*row) for row in cur.fetchall()]


def list_stage_runs(cur: Any, config: Config, run_id: int) -> list[StageRecord]:
    return _stage_records(
        cur, config, "SELECT {columns} FROM {table} WHERE run_id = %s ORDER BY started_at NULLS LAST, stage", (run_id,)
    )


def newest_stage_runs(cur: Any, config: Config, run_id: int) -> list[StageRecord]:
    """The stages of run `run_id`, and for each stage it did not run, that stage's newest record of an earlier
    run (a backfill's last run exports only: the dates' own runs computed the rest)."""
    return _stage_records(
        cur,
        config,
        "SELECT * FROM (SELECT DISTINCT ON (stage) {columns} FROM {table} WHERE run_id <= %s "
        "ORDER BY stage, run_id DESC) AS newest ORDER BY run_id, started_at NULLS LAST, stage",
        (run_id,),
    )


def resume_point(cur: Any, config: Config, stages: tuple[StageName, ...]) -> tuple[int, StageName] | None:
    """Where to resume: (run_id, stage) of the newest run that did not succeed, from its first stage
    that did not succeed (killed mid-stage, or never recorded), moved past every later stage that
    has succeeded since (e.g. a retry of the failed stage alone); None when nothing is left to run.

    Runs still marked running must have been marked abandoned first (`mark_abandoned`).
    """
    if not table_exists(cur, config.staging_schema, "console_runs"):
        return None
    cur.execute(
        sql.SQL(
            "SELECT run_id, stages FROM {} WHERE status IN ('failed', 'cancelled', 'abandoned') "
            "ORDER BY run_id DESC LIMIT 1"
        ).format(_runs(config))
    )
    newest = cur.fetchone()
    if newest is None:
        return None
    run_id, asked = newest[0], newest[1].split(",")
    cur.execute(
        sql.SQL("SELECT stage FROM {} WHERE run_id = %s AND status = 'succeeded'").format(_stage_runs(config)),
        (run_id,),
    )
    succeeded = {stage for (stage,) in cur.fetchall()}
    first = next((stage for stage in stages if stage in asked and stage not in succeeded), None)
    if first is None:
        return None
    for stage in stages[stages.index(first) :]:
        cur.execute(
            sql.SQL("SELECT 1 FROM {} WHERE stage = %s AND status = 'succeeded' AND run_id > %s LIMIT 1").format(
                _stage_runs(config)
            ),
            (stage, run_id),
        )
        if cur.fetchone() is None:
            return run_id, stage
    return None


def staging_rows_by_date(cur: Any, config: Config, *, before: date, dates: int) -> dict[str, list[tuple[date, int]]]:
    """table -> (ingestion_date, rows) of the last successful run of each of up to `dates` dates before `before`."""
    cur.execute(
        sql.SQL(
            "SELECT DISTINCT ON (r.ingestion_date) r.ingestion_date, s.details FROM {} AS r JOIN {} AS s "
            "ON s.run_id = r.run_id WHERE s.stage = 'staging' AND s.status = 'succeeded' AND r.status = 'succeeded' "
            "AND r.ingestion_date < %s ORDER BY r.ingestion_date DESC, r.run_id DESC LIMIT %s"
        ).format(_runs(config), _stage_runs(config)),
        (before, dates),
    )
    found: dict[str, list[tuple[date, int]]] = {}
    for day, details in cur.fetchall():
        for table, loaded in (details or {}).items():
            if isinstance(loaded, dict) and isinstance(loaded.get("rows"), int):
                found.setdefault(table, []).append((day, loaded["rows"]))
    return found
