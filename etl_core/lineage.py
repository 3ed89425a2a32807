"""What each stage's output was made from, so that a result computed from older inputs is called stale.

Every stage that succeeds records a fingerprint of what it published, and the fingerprint of the
newest output of the stage it reads (`READS`), in `{staging}.console_stage_outputs`:

- staging: per file, the object's key, its ETag (read before the load) and size, and the rows
  published; the same objects loaded again give the same fingerprint, a changed object another;
- analytics: the rows it wrote for the run's ingestion date, with that date;
- export: the keys, rows and bytes written.

A stage is stale when the newest output of the stage it reads is not the one it read (staging
reran alone with new files), or when that stage is stale itself (the export of analytics that
were computed from older staging). It stays stale until it runs again. A stage with no recorded
output (runs from before this record existed) is never called stale: nothing is known of it.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from psycopg2 import sql

from etl_core.config import Config
from etl_core.events import StageResult
from etl_core.kinds import StageName
from etl_core.sql_files import render_sql, safe_identifier
from etl_core.warehouse import table_exists

TABLE = "console_stage_outputs"
READS: dict[StageName, StageName] = {"analytics": "staging", "export": "analytics"}  # stage -> what it reads
RECORDED: tuple[StageName, ...] = ("staging", "analytics", "export")


@dataclass(frozen=True)
class StaleStage:
    stage: StageName
    run_id: int  # the run whose output of `stage` is stale
    reads: StageName  # the stage it reads
    reason: str  # a sentence for the operator


@dataclass(frozen=True)
class _Output:
    run_id: int
    fingerprint: str
    inputs: dict[str, str]


def _table(config: Config) -> sql.Composed:
    return sql.SQL("{}.{}").format(safe_identifier(config.staging_schema), sql.Identifier(TABLE))


def ensure_table(cur: Any, config: Config) -> None:
    cur.execute(render_sql("ddl/lineage.sql", staging=config.staging_schema))


def fingerprint(config: Config, result: StageResult) -> str:
    """A short digest of what `result`'s stage published (see the module's docstring)."""
    made: Any = result.details
    if result.stage == "staging":
        made = {
            table: [info.get("key"), info.get("etag"), info.get("bytes"), info.get("rows")]
            for table, info in result.details.items()
            if isinstance(info, dict)
        }
    elif result.stage == "analytics":
        made = {"ingestion_date": config.pipeline.ingestion_date.isoformat(), "rows": result.details}
    text = json.dumps(made, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def record_output(cur: Any, config: Config, run_id: int, result: StageResult) -> None:
    """Record what a succeeded stage published and what it read (under the run lock)."""
    if result.stage not in RECORDED or result.status != "succeeded":
        return
    newest = _newest_outputs(cur, config)
    reads = READS.get(result.stage)
    inputs = {reads: newest[reads].fingerprint} if reads in newest else {}
    cur.execute(
        sql.SQL(
            "INSERT INTO {} (run_id, stage, fingerprint, inputs) VALUES (%s, %s, %s, %s) "
            "ON CONFLICT (run_id, stage) DO UPDATE SET fingerprint = EXCLUDED.fingerprint, inputs = EXCLUDED.inputs"
        ).format(_table(config)),
        (run_id, result.stage, fingerprint(config, result), json.dumps(inputs)),
    )


def stale_stages(cur: Any, config: Config) -> dict[StageName, StaleStage]:
    """The stages whose newest output was computed from an older input, by stage name."""
    newest = _newest_outputs(cur, config)
    stale: dict[StageName, StaleStage] = {}
    for stage, reads in READS.items():  # in pipeline order: a stale input makes its reader stale
        mine, theirs = newest.get(stage), newest.get(reads)
        if mine is None or theirs is None:
            continue
        if reads in stale:
            stale[stage] = StaleStage(
                stage,
                mine.run_id,
                reads,
                f"{stage} of run #{mine.run_id} used {reads} that is stale itself ({stale[reads].reason}); "
                f"run {reads} and {stage} again",
            )
        elif mine.inputs.get(reads) != theirs.fingerprint:
            stale[stage] = StaleStage(
                stage,
                mine.run_id,
                reads,
                f"{stage} of run #{mine.run_id} was computed from older {reads}: {reads} changed in run "
                f"#{theirs.run_id}; run {stage} again",
            )
    return stale


def _newest_outputs(cur: Any, config: Config) -> dict[str, _Output]:
    if not table_exists(cur, config.staging_schema, TABLE):
        return {}
    cur.execute(
        sql.SQL(
            "SELECT DISTINCT ON (stage) stage, run_id, fingerprint, inputs FROM {} ORDER BY stage, run_id DESC"
        ).format(_table(config))
    )
    return {stage: _Output(run_id, fp, dict(inputs or {})) for stage, run_id, fp, inputs in cur.fetchall()}
