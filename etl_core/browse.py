"""Read-only views for the console: S3 listings, previews of objects and tables, history, export preview."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from typing import Any

from psycopg2 import sql

from etl_core import history, history_days, lineage, trends
from etl_core.analytics_tables import ANALYTICS_TABLES
from etl_core.checks import ANALYTICS_CHECKS, run_checks
from etl_core.config import Config
from etl_core.content_kind import sniff
from etl_core.dimension_provenance import dimensions_in_use
from etl_core.events import CancelToken, CheckOutcome
from etl_core.export_diff import TableChanges
from etl_core.export_inputs import ExportInputs, export_inputs
from etl_core.kinds import StageName
from etl_core.lineage import StaleStage
from etl_core.pipeline import run_lock_held
from etl_core.s3 import S3Entry, list_level, read_head
from etl_core.services import Services
from etl_core.stages.export import export_query, export_targets, table_changes
from etl_core.warehouse import column_names, row_count, table_exists

PREVIEW_BYTES = 256 * 1024  # ranged read: never the whole object
PREVIEW_ROWS = 200


@dataclass(frozen=True)
class Preview:
    """The first rows of an object or table; `total_rows` None when unknown (a partial object read).

    `kind` names an object that is not text ("gzip-compressed", ...: no rows then); `ragged` maps
    the index of each row whose field count differs from the header's (`header_fields`) to that
    count (such rows are padded with empty cells to the widest row, extra columns named "column N").
    """

    title: str
    columns: list[str]
    rows: list[list[Any]]
    total_rows: int | None = None
    note: str = ""
    kind: str | None = None
    size: int | None = None
    ragged: dict[int, int] = field(default_factory=dict)
    header_fields: int = 0

    @property
    def caption(self) -> str:
        if self.kind is not None:
            return f"{self.kind} object of {self.size or 0:,} bytes: not shown as rows"
        shown = len(self.rows)
        total = f"{self.total_rows:,}" if self.total_rows is not None else "?"
        return f"showing {shown:,} of {total} rows" + (f" ({self.note})" if self.note else "")


@dataclass(frozen=True)
class TableInfo:
    schema: str
    name: str
    rows: int


@dataclass(frozen=True)
class SchemaInfo:
    name: str
    tables: list[TableInfo] = field(default_factory=list)
    exists: bool = True


@dataclass(frozen=True)
class ExportPreview:
    table: str
    uri: str
    preview: Preview
    checks: list[CheckOutcome]
    stale: str = ""  # why the analytics were computed from older staging ("" when they are not)
    changes: TableChanges | None = None  # what exporting now changes at the destination key
    dimensions: str = ""  # which dimensions the analytics were computed on (dimension_provenance)
    inputs: ExportInputs | None = None  # where the exported rows came from (the same for every table)

    @property
    def blocked(self) -> bool:
        return any(c.blocking for c in self.checks)


def list_s3(services: Services, bucket: str, prefix: str = "") -> list[S3Entry]:
    """One level of a bucket (prefixes first, then objects with size and last-modified)."""
    return list_level(services.s3(), bucket, prefix)


def preview_object(
    services: Services, bucket: str, key: str, max_bytes: int = PREVIEW_BYTES, max_rows: int = PREVIEW_ROWS
) -> Preview:
    """Parse the first rows of a CSV object from a ranged read of its first bytes."""
    data, size = read_head(services.s3(), bucket, key, max_bytes)
    title = f"s3://{bucket}/{key}"
    if (kind := sniff(data)) is not None:
        return Preview(title, [], [], None, kind=kind, size=size)
    partial = len(data) < size
    if partial:
        data = data[: data.rfind(b"\n") + 1]  # drop the torn last line
    text = data.decode("utf-8", errors="replace").lstrip("\ufeff")
    reader = csv.reader(io.StringIO(text))
    header = next(reader, [])
    rows: list[list[Any]] = []
    for row in reader:
        if len(rows) >= max_rows:
            partial = True
            break
        rows.append(row)
    total = None if partial else len(rows)
    note = f"first {len(data) // 1024:,} KB of {size:,} bytes" if len(data) < size else f"{size:,} bytes"
    ragged = {i: len(row) for i, row in enumerate(rows) if len(row) != len(header)}
    width = max([len(header), *ragged.values()])
    columns = header + [f"column {n}" for n in range(len(header) + 1, width + 1)]
    padded: list[list[Any]] = [row + [""] * (width - len(row)) for row in rows]
    return Preview(title, columns, padded, total, note, size=size, ragged=ragged, header_fields=len(header))


def list_warehouse(services: Services) -> list[SchemaInfo]:
    """The operator's schemas and the dimension schema, with their tables and exact row counts."""
    config = services.config
    wanted = [config.staging_schema, config.analytics_schema, config.warehouse.dims_schema]
    with services.transaction("browse") as cur:
        cur.execute("SET LOCAL lock_timeout = '2s'")
        cur.execute(
            "SELECT n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = ANY(%s) AND c.relkind IN ('r', 'p', 'v') AND c.relname NOT LIKE '%%\\_\\_load' "
            "ORDER BY n.nspname, c.relname",
            (wanted,),
        )
        found: dict[str, list[str]] = {}
        for schema, table in cur.fetchall():
            found.setdefault(schema, []).append(table)
        cur.execute("SELECT nspname FROM pg_namespace WHERE nspname = ANY(%s)", (wanted,))
        existing = {row[0] for row in cur.fetchall()}
        result = []
        for schema in wanted:
            tables = []
            for table in found.get(schema, []):
                tables.append(TableInfo(schema, table, row_count(cur, schema, table)))
            result.append(SchemaInfo(schema, tables, schema in existing))
        return result


def preview_export(services: Services, limit: int = PREVIEW_ROWS, config: Config | None = None) -> list[ExportPreview]:
    """What the export stage would write: each table's rows as exported, its destination, the checks (of `config`'s
    ingestion date: a backfill's export is its last date's)."""
    config = config or services.config
    with services.transaction("browse") as cur:
        checks = run_checks(cur, config, ANALYTICS_CHECKS)
        stale = lineage.stale_stages(cur, config).get("analytics")
        dimensions = dimensions_in_use(cur, config).text()
        provenance = export_inputs(cur, config, [target.table for target in export_targets(config)])
        previews = []
        for target in export_targets(config):
            table_checks = [c for c in checks if c.name.startswith(target.table)]
            total = row_count(cur, config.analytics_schema, target.table)
            cur.execute(
                sql.SQL("{} LIMIT %s").format(export_query(cur, config.analytics_schema, target.table)), (limit,)
            )
            columns = column_names(cur)
            rows = [list(r) for r in cur.fetchall()]
            previews.append(
                ExportPreview(
                    target.table,
                    target.uri,
                    Preview(f"{config.analytics_schema}.{target.table}", columns, rows, total),
                    table_checks,
                    stale.reason if stale is not None else "",
                    table_changes(services, cur, target, CancelToken(), rows=total),
                    dimensions,
                    provenance,
                )
            )
        return previews


def missing_export_tables(services: Services) -> list[str]:
    """The analytics tables the export reads that do not exist yet ("schema.table"); empty: ready to preview."""
    config = services.config
    with services.transaction("browse") as cur:
        return [
            f"{config.analytics_schema}.{target.table}"
            for target in export_targets(config)
            if not table_exists(cur, config.analytics_schema, target.table)
        ]


def recent_runs(services: Services, limit: int = 50) -> list[history.RunRecord]:
    with services.transaction("history") as cur:
        return history.list_runs(cur, services.config, limit)


def stale_stages(services: Services) -> dict[StageName, StaleStage]:
    """The stages whose newest output was computed from an older input (etl_core.lineage)."""
    with services.transaction("history") as cur:
        return lineage.stale_stages(cur, services.config)


def history_trends(services: Services) -> list[trends.Series]:
    with services.transaction("history") as cur:
        return trends.trends(cur, services.config)


def recent_checks(services: Services) -> trends.CheckGrid:
    with services.transaction("history") as cur:
        return trends.check_grid(cur, services.config)


def run_stages(services: Services, run_id: int) -> list[history.StageRecord]:
    with services.transaction("history") as cur:
        return history.list_stage_runs(cur, services.config, run_id)


def newest_stages(services: Services, run_id: int) -> list[history.StageRecord]:
    """What the pipeline shows for run `run_id`: its stages, and the newest record of each stage it did not run."""
    with services.transaction("history") as cur:
        return history.newest_stage_runs(cur, services.config, run_id)


def recent_days(
    services: Services, count: int = 30, last: date | None = None
) -> list[tuple[history_days.DayRuns, list[history_days.InputRecord]]]:
    """The `count` ingestion dates up to `last` (default: the configured one), newest first, each with its runs
    and the source objects of its newest run (the Days view)."""
    last = last or services.config.pipeline.ingestion_date
    with services.transaction("history") as cur:
        days = history_days.runs_by_date(cur, services.config, last - timedelta(days=count - 1), last)
        if any(day.runs and day.runs[0].status == "running" for day in days.values()) and not run_lock_held(
            cur, services.config
        ):  # no process holds the run lock: a "running" run's process is gone (the next run records it so)
            days = {key: _process_gone(day) for key, day in days.items()}
        newest = [day.runs[0].run_id for day in days.values() if day.runs]
        inputs = history_days.inputs_of(cur, services.config, newest)
    return [(day, inputs.get(day.runs[0].run_id, []) if day.runs else []) for day in reversed(days.values())]


def _process_gone(day: history_days.DayRuns) -> history_days.DayRuns:
    runs = tuple(replace(run, status="abandoned") if run.status == "running" else run for run in day.runs)
    return replace(day, runs=runs)


def run_inputs(services: Services, run_id: int) -> list[history_days.InputRecord]:
    """The source objects a run loaded: key, version, ETag, size, last-modified and rows (provenance)."""
    with services.transaction("history") as cur:
        return history_days.inputs_of(cur, services.config, [run_id]).get(run_id, [])


__all__ = [
    "ANALYTICS_TABLES",
    "ExportPreview",
    "Preview",
    "S3Entry",
    "SchemaInfo",
    "TableInfo",
    "list_s3",
    "list_warehouse",
    "missing_export_tables",
    "preview_export",
    "preview_object",
    "recent_runs",
    "run_stages",
    "stale_stages",
]
