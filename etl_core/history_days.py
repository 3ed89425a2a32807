"""The run history per ingestion date: each run's source objects (provenance), each date's runs, backfills.

Tables (sql/ddl/history.sql): `console_run_inputs` (one row per source object a run loaded),
`console_backfills` (one row per backfill, with the dates it planned), and `console_runs.backfill_id`.
`runs_by_date` is the query other features build on (freshness, the Days view, trends).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, Literal

from psycopg2 import sql

from etl_core.config import Config
from etl_core.history import RunRecord, history_table
from etl_core.kinds import Reprocess, RunStatus
from etl_core.warehouse import table_exists

if TYPE_CHECKING:
    from etl_core.stages.staging.inputs import SourceInput

DayStatus = RunStatus | Literal["missing"]  # "missing": no run computed the date
COMPUTING_STAGE = "analytics"  # a run computes its date when it ran this stage (an export alone does not)
_RUN_COLUMNS = "run_id, started_at, finished_at, status, stages, ingestion_date, host, pid, error"


@dataclass(frozen=True)
class InputRecord:
    """A source object a run loaded (see `SourceInput`), with the records loaded from it."""

    run_id: int
    table: str
    key: str
    version_id: str | None
    etag: str
    size: int
    last_modified: datetime
    rows: int | None

    def same_object(self, other: InputRecord | SourceInput) -> bool:
        """The same bytes: the same key and version, or (unversioned) the same ETag."""
        if self.key != other.key:
            return False
        if self.version_id and other.version_id:
            return self.version_id == other.version_id
        return self.etag == other.etag

    def as_json(self) -> dict[str, Any]:
        found = {name: value for name, value in asdict(self).items() if name != "run_id"}
        return found | {"last_modified": self.last_modified.isoformat()}


@dataclass(frozen=True)
class DayRuns:
    """The runs that computed one ingestion date, newest first."""

    day: date
    runs: tuple[RunRecord, ...]

    @property
    def status(self) -> DayStatus:
        """The newest run's status; "missing" when no run computed the date."""
        return self.runs[0].status if self.runs else "missing"

    @property
    def last_success(self) -> RunRecord | None:
        return next((run for run in self.runs if run.status == "succeeded"), None)

    def wanted(self, reprocess: Reprocess) -> bool:
        """Whether a backfill reprocessing `reprocess` runs this date."""
        if reprocess == "all":
            return True
        if reprocess == "failed":
            return bool(self.runs) and self.status != "succeeded"
        return self.last_success is None


@dataclass(frozen=True)
class BackfillRecord:
    backfill_id: int
    status: str
    first: date
    last: date
    reprocess: Reprocess
    dates: tuple[date, ...]
    started_at: datetime


# --- per date --------------------------------------------------------------------------------


def runs_by_date(cur: Any, config: Config, first: date | None = None, last: date | None = None) -> dict[date, DayRuns]:
    """Every ingestion date of [first, last] (inclusive; open ends: every recorded date) with the runs that
    computed it, newest first; a date of the range without any run has an empty `runs` ("missing")."""
    runs: dict[date, list[RunRecord]] = {}
    if table_exists(cur, config.staging_schema, "console_runs"):
        cur.execute(
            sql.SQL(
                f"SELECT {_RUN_COLUMNS} FROM {{}} WHERE %s = ANY(string_to_array(stages, ',')) "
                "AND (%s::date IS NULL OR ingestion_date >= %s) AND (%s::date IS NULL OR ingestion_date <= %s) "
                "ORDER BY ingestion_date, run_id DESC"
            ).format(history_table(config, "console_runs")),
            (COMPUTING_STAGE, first, first, last, last),
        )
        for row in cur.fetchall():
            record = RunRecord(*row)
            runs.setdefault(record.ingestion_date, []).append(record)
    days = set(runs)
    if first is not None and last is not None:
        days |= {date.fromordinal(n) for n in range(first.toordinal(), last.toordinal() + 1)}
    return {day: DayRuns(day, tuple(runs.get(day, ()))) for day in sorted(days)}


# --- provenance ------------------------------------------------------------------------------


def record_inputs(cur: Any, config: Config, run_id: int, inputs: Iterable[SourceInput]) -> None:
    """The source objects a run is about to load (their record counts come with `record_input_rows`)."""
    cur.execute(
        sql.SQL("DELETE FROM {} WHERE run_id = %s").format(history_table(config, "console_run_inputs")), (run_id,)
    )
    for found in inputs:
        cur.execute(
            sql.SQL(
                "INSERT INTO {} (run_id, table_name, key, version_id, etag, size, last_modified) "
                "VALUES (%s, %s, %s, %s, %s, %s, %s)"
            ).format(history_table(config, "console_run_inputs")),
            (run_id, found.table, found.key, found.version_id, found.etag, found.size, found.last_modified),
        )


def record_input_rows(cur: Any, config: Config, run_id: int, rows: dict[str, int]) -> None:
    for table, count in rows.items():
        cur.execute(
            sql.SQL("UPDATE {} SET rows = %s WHERE run_id = %s AND table_name = %s").format(
                history_table(config, "console_run_inputs")
            ),
            (count, run_id, table),
        )


def inputs_of(cur: Any, config: Config, run_ids: Sequence[int]) -> dict[int, list[InputRecord]]:
    """Each run's source objects, in file order (orders, reviews, shipment_deliveries)."""
    found: dict[int, list[InputRecord]] = {}
    if not run_ids or not table_exists(cur, config.staging_schema, "console_run_inputs"):
        return found
    cur.execute(
        sql.SQL(
            "SELECT run_id, table_name, key, version_id, etag, size, last_modified, rows FROM {} "
            "WHERE run_id = ANY(%s) ORDER BY run_id, array_position("
            "ARRAY['orders', 'reviews', 'shipment_deliveries'], table_name), table_name"
        ).format(history_table(config, "console_run_inputs")),
        (list(run_ids),),
    )
    for row in cur.fetchall():
        found.setdefault(row[0], []).append(InputRecord(*row))
    return found


def previous_success(cur: Any, config: Config, day: date) -> tuple[RunRecord, list[InputRecord]] | None:
    """The newest successful run of an ingestion date before `day` that recorded its inputs, with them."""
    if not table_exists(cur, config.staging_schema, "console_run_inputs"):
        return None
    cur.execute(
        sql.SQL(
            f"SELECT {_RUN_COLUMNS} FROM {{}} r WHERE status = 'succeeded' AND ingestion_date < %s "
            "AND EXISTS (SELECT 1 FROM {} i WHERE i.run_id = r.run_id) "
            "ORDER BY ingestion_date DESC, run_id DESC LIMIT 1"
        ).format(history_table(config, "console_runs"), history_table(config, "console_run_inputs")),
        (day,),
    )
    row = cur.fetchone()
    if row is None:
        return None
    run = RunRecord(*row)
    return run, inputs_of(cur, config, [run.run_id]).get(run.run_id, [])


# --- backfills -------------------------------------------------------------------------------


def start_backfill(
    cur: Any, config: Config, first: date, last: date, reprocess: Reprocess, dates: Sequence[date]
) -> int:
    cur.execute(
        sql.SQL(
            "INSERT INTO {} (first_date, last_date, reprocess, dates) VALUES (%s, %s, %s, %s::date[]) "
            "RETURNING backfill_id"
        ).format(history_table(config, "console_backfills")),
        (first, last, reprocess, list(dates)),
    )
    return int(cur.fetchone()[0])


def link_run(cur: Any, config: Config, run_id: int, backfill_id: int) -> None:
    cur.execute(
        sql.SQL("UPDATE {} SET backfill_id = %s WHERE run_id = %s").format(history_table(config, "console_runs")),
        (backfill_id, run_id),
    )


def finish_backfill(cur: Any, config: Config, backfill_id: int, status: str) -> None:
    cur.execute(
        sql.SQL(
            "UPDATE {} SET status = %s, finished_at = now() WHERE backfill_id = %s AND status IN ('running', %s)"
        ).format(history_table(config, "console_backfills")),
        (status, backfill_id, status),
    )


def reopen_backfill(cur: Any, config: Config, backfill_id: int) -> None:
    """A resumed backfill runs again."""
    cur.execute(
        sql.SQL("UPDATE {} SET status = 'running', finished_at = NULL WHERE backfill_id = %s").format(
            history_table(config, "console_backfills")
        ),
        (backfill_id,),
    )


def mark_abandoned_backfills(cur: Any, config: Config) -> list[int]:
    """Backfills still 'running' belong to a dead process (the caller holds the run lock)."""
    if not table_exists(cur, config.staging_schema, "console_backfills"):
        return []
    cur.execute(
        sql.SQL(
            "UPDATE {} SET status = 'abandoned', finished_at = now() WHERE status = 'running' RETURNING backfill_id"
        ).format(history_table(config, "console_backfills"))
    )
    return [row[0] for row in cur.fetchall()]


def interrupted_backfill(cur: Any, config: Config) -> BackfillRecord | None:
    """The newest backfill, when it was interrupted (cancelled, abandoned) and no run started after its last one."""
    if not table_exists(cur, config.staging_schema, "console_backfills"):
        return None
    cur.execute(
        sql.SQL(
            "SELECT backfill_id, status, first_date, last_date, reprocess, dates, started_at FROM {} "
            "ORDER BY backfill_id DESC LIMIT 1"
        ).format(history_table(config, "console_backfills"))
    )
    row = cur.fetchone()
    if row is None or row[1] not in ("cancelled", "abandoned"):
        return None
    backfill = BackfillRecord(row[0], row[1], row[2], row[3], row[4], tuple(row[5]), row[6])
    cur.execute(
        sql.SQL(
            "SELECT 1 FROM {} WHERE run_id > coalesce((SELECT max(run_id) FROM {} WHERE backfill_id = %s), 0) "
            "AND backfill_id IS DISTINCT FROM %s LIMIT 1"
        ).format(history_table(config, "console_runs"), history_table(config, "console_runs")),
        (backfill.backfill_id, backfill.backfill_id),
    )
    return None if cur.fetchone() else backfill


def done_in_backfill(cur: Any, config: Config, backfill_id: int) -> set[date]:
    """The dates a backfill's own runs computed successfully."""
    cur.execute(
        sql.SQL(
            "SELECT DISTINCT ingestion_date FROM {} WHERE backfill_id = %s AND status = 'succeeded' "
            "AND %s = ANY(string_to_array(stages, ','))"
        ).format(history_table(config, "console_runs")),
        (backfill_id, COMPUTING_STAGE),
    )
    return {row[0] for row in cur.fetchall()}
