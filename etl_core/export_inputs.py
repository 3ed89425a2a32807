"""Where the rows an export writes came from: per ingestion date, the run that computed them and its inputs.

An analytics table holds one row per ingestion date, written by the newest run whose analytics stage
succeeded for that date. That stage read the staging tables as the newest successful staging up to
that run had left them, so the date's inputs are the source objects that staging run recorded
(`console_run_inputs`): key, version id, ETag, size and records. The export preview names them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from psycopg2 import sql

from etl_core.config import Config
from etl_core.history import history_table
from etl_core.history_days import InputRecord, inputs_of
from etl_core.sql_files import safe_identifier
from etl_core.warehouse import table_exists

MAX_DATES = 400  # the newest dates named; an export of more says how many it left out


@dataclass(frozen=True)
class RowSource:
    """The exported rows of one ingestion date: the run whose analytics wrote them, and the objects they came from."""

    day: date
    run_id: int | None  # None: no recorded run computed this date (rows from before the history)
    staging_run_id: int | None  # the run whose staging those analytics read
    inputs: tuple[InputRecord, ...]


@dataclass(frozen=True)
class ExportInputs:
    sources: tuple[RowSource, ...]  # newest date first
    dates: int  # every ingestion date the exported tables hold (sources may name fewer: MAX_DATES)

    @property
    def objects(self) -> int:
        return sum(len(source.inputs) for source in self.sources)


def exported_dates(cur: Any, config: Config, tables: Sequence[str]) -> list[date]:
    """The ingestion dates the analytics tables hold, newest first."""
    selects = [
        sql.SQL("SELECT ingestion_date FROM {}.{}").format(
            safe_identifier(config.analytics_schema), safe_identifier(table)
        )
        for table in tables
        if table_exists(cur, config.analytics_schema, table)
    ]
    if not selects:
        return []
    cur.execute(
        sql.SQL("SELECT DISTINCT ingestion_date FROM ({}) d ORDER BY 1 DESC").format(sql.SQL(" UNION ").join(selects))
    )
    return [row[0] for row in cur.fetchall() if row[0] is not None]


def export_inputs(cur: Any, config: Config, tables: Sequence[str]) -> ExportInputs:
    """The provenance of the rows the export of `tables` writes (see the module's docstring)."""
    days = exported_dates(cur, config, tables)
    named = days[:MAX_DATES]
    runs: dict[date, tuple[int, int | None]] = {}
    if named and table_exists(cur, config.staging_schema, "console_stage_runs"):
        cur.execute(
            sql.SQL(
                "WITH computed AS (SELECT r.ingestion_date AS day, max(s.run_id) AS run_id FROM {stages} s "
                "JOIN {runs} r ON r.run_id = s.run_id WHERE s.stage = 'analytics' AND s.status = 'succeeded' "
                "AND r.ingestion_date = ANY(%s) GROUP BY r.ingestion_date) "
                "SELECT day, run_id, (SELECT max(s.run_id) FROM {stages} s WHERE s.stage = 'staging' "
                "AND s.status = 'succeeded' AND s.run_id <= computed.run_id) FROM computed"
            ).format(stages=history_table(config, "console_stage_runs"), runs=history_table(config, "console_runs")),
            (named,),
        )
        runs = {day: (run_id, staging) for day, run_id, staging in cur.fetchall()}
    inputs = inputs_of(cur, config, sorted({staging for _run, staging in runs.values() if staging is not None}))
    sources = []
    for day in named:
        run_id, staging = runs.get(day, (None, None))
        sources.append(RowSource(day, run_id, staging, tuple(inputs.get(staging, ())) if staging else ()))
    return ExportInputs(tuple(sources), len(days))
