"""The staging stage: locate the three objects, load them at once, publish them together, run the staging checks."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from functools import partial
from typing import Any

import psycopg2

from etl_core.anomaly import row_count_anomalies
from etl_core.checks import STAGING_CHECKS, blocking_failures, run_checks_concurrently
from etl_core.errors import D2BError
from etl_core.events import CancelToken, CheckOutcome
from etl_core.stages.context import StageContext, StageOutput
from etl_core.stages.publication import publish
from etl_core.stages.staging.archive import archive_inputs
from etl_core.stages.staging.freshness import check_unchanged, source_fresh
from etl_core.stages.staging.inputs import SourceInput, locate_for_run
from etl_core.stages.staging.load import LoadResult, load_with_retries
from etl_core.stages.staging.progress import StagingProgress
from etl_core.stages.staging.provenance import record_provenance, record_rows
from etl_core.stages.staging.rejection import RejectedFile, RejectedFiles
from etl_core.stages.staging.server_load import ensure_iso_date_domain, load_on_server
from etl_core.stages.staging.sources import (
    SOURCE_FILES,
    SOURCES_BY_TABLE,
    LocatedSource,
    SourceFile,
    etags_as_loaded,
)
from etl_core.stages.staging.tables import drop_tables, leftover_load_tables, load_table_name, swap_in
from etl_core.stages.together import run_together


def run_staging(ctx: StageContext) -> StageOutput:
    # Find every object first: a missing file fails the stage before anything is replaced,
    # and the progress bar covers the whole stage.
    bucket = ctx.config.source.bucket
    inputs = ctx.inputs.inputs if ctx.inputs is not None else locate_for_run(ctx)
    record_provenance(ctx, inputs)
    if stale := source_fresh(ctx, inputs):
        return StageOutput(checks=[stale])
    check_unchanged(ctx, inputs)
    archive_inputs(ctx, inputs)
    ctx = replace(ctx, versions={found.key: found.version_id for found in inputs if found.version_id})
    located = [(SOURCES_BY_TABLE[found.table], found) for found in inputs]
    schema = ctx.config.staging_schema
    drop_leftovers(ctx)
    server_side = ctx.config.warehouse.server_side
    if server_side:
        with ctx.services.transaction("staging", ctx.cancel) as cur:
            ensure_iso_date_domain(cur, schema)
    load = load_on_server if server_side else load_with_retries
    how = " (the warehouse reads it itself: aws_s3.table_import_from_s3)" if server_side else ""
    ctx = ctx.for_threads()
    for source, found in located:  # logged here, in file order: the threads start in any order
        for ignored in found.ignored:
            ctx.warn(
                f"s3://{bucket}/{ignored} is ignored: {found.key} is loaded instead (when both spellings "
                "exist the first one wins); delete the one you do not mean"
            )
        version = f" version {found.version_id}" if found.version_id else ""
        ctx.log(f"loading s3://{bucket}/{found.key}{version} ({found.size:,} bytes) into {schema}.{source.table}{how}")
    progress = StagingProgress(ctx, sum(found.size for _source, found in located))
    loading = [load_table_name(source.table, ctx.run_id) for source, _found in located]
    # Each file loads into its own table, committed but read by nobody; then one short
    # transaction swaps all three in, or none.
    try:
        outcomes = run_together(
            [
                partial(_load_or_refuse, partial(load, ctx, source, found.key, found.size, table, progress))
                for (source, found), table in zip(located, loading, strict=True)
            ],
            ctx.cancel,
            "staging",
        )
        if refused := [outcome for outcome in outcomes if isinstance(outcome, RejectedFile)]:
            raise refused[0] if len(refused) == 1 else RejectedFiles(refused)
        loaded = [outcome for outcome in outcomes if isinstance(outcome, LoadResult)]
        file_checks = [
            check for result in loaded for check in _file_checks(result, ctx.config.source.allow_empty_files)
        ]
        with ctx.services.transaction("staging row-count checks", ctx.cancel) as cur:
            file_checks += row_count_anomalies(cur, ctx.config, {r.table: r.rows for r in loaded})
        if blocking_failures(file_checks):  # a file that fails a blocking check must not replace the live rows
            drop_load_tables(ctx, loading)
            ctx.warn(f"nothing was published: the staging tables of {schema} keep their previous rows")
            return _output(ctx, loaded, located, file_checks, published=False)
        publish(
            ctx.services,
            f"the staging tables of {schema}",
            [f"{schema}.{r.table}" for r in loaded],
            partial(_swap_all_in, schema, loaded),
            ctx.cancel,
            ctx.warn,
        )
    except BaseException:
        drop_load_tables(ctx, loading)
        raise
    checks = file_checks + run_checks_concurrently(ctx.services, ctx.config, STAGING_CHECKS, ctx.cancel)
    return _output(ctx, loaded, located, checks, published=True)


def _output(
    ctx: StageContext,
    loaded: list[LoadResult],
    located: list[tuple[SourceFile, SourceInput]],
    checks: list[CheckOutcome],
    *,
    published: bool,
) -> StageOutput:
    """The stage's output; each file's details are its provenance (key, version, ETag, size, last-modified) and rows."""
    output = StageOutput(checks=checks)
    record_rows(ctx, {result.table: result.rows for result in loaded})
    etags = _loaded_etags(ctx, located) if published else {}
    for result, (_source, found) in zip(loaded, located, strict=True):
        into = f"{ctx.config.staging_schema}.{result.table}" if published else f"{result.table} (not published)"
        ctx.log(f"{into}: {result.rows:,} rows from {result.key} in {result.seconds:.2f}s")
        output.rows += result.rows
        output.details[result.table] = {
            **found.as_json(),
            "rows": result.rows,
            "bytes": result.bytes,
            "seconds": round(result.seconds, 3),
            "etag": etags.get(result.key, ""),
        }
    return output


def _load_or_refuse(load: Callable[[CancelToken], LoadResult], cancel: CancelToken) -> LoadResult | RejectedFile:
    """A refused file is an outcome, not a failure: the other files go on, so one run names every bad record."""
    try:
        return load(cancel)
    except RejectedFile as refused:
        return refused


def _loaded_etags(ctx: StageContext, located: list[tuple[SourceFile, SourceInput]]) -> dict[str, str]:
    """Staging's fingerprint of each object (etl_core/lineage.py): its ETag as S3 quotes it; a version read
    by its id cannot have changed, the newest object of a key may have (see `etags_as_loaded`)."""
    newest = [
        LocatedSource(source, found.key, found.size, found.ignored, f'"{found.etag}"')
        for source, found in located
        if not found.version_id
    ]
    etags = etags_as_loaded(ctx.services.s3(), ctx.config.source.bucket, newest, ctx.run_id)
    return etags | {found.key: f'"{found.etag}"' for _source, found in located if found.version_id}


def _file_checks(result: LoadResult, allow_empty_files: bool) -> list[CheckOutcome]:
    """The checks of one loaded file, graded before it is published."""
    return [
        CheckOutcome(
            f"{result.table}_rows_match_file",
            "ERROR",
            result.rows == result.file_rows,
            f"{result.table}: {result.rows:,} rows loaded, {result.file_rows:,} data rows in {result.key}",
        ),
        has_rows(result, allow_empty_files),
    ]


def has_rows(result: LoadResult, allowed: bool) -> CheckOutcome:
    """An ERROR check: a file without data rows would make analytics and export an empty day of zeros."""
    if result.rows:
        detail = f"{result.table}: {result.key} has data rows"
    elif allowed:
        detail = f"{result.table}: {result.key} has no data rows, allowed by [source] allow_empty_files"
    else:
        detail = (
            f"{result.table}: {result.key} has no data rows (a header only), so analytics and export would "
            "report an empty day; upload the day's file, or set allow_empty_files = true in [source] if "
            "empty files are expected"
        )
    return CheckOutcome(f"{result.table}_has_rows", "ERROR", result.rows > 0 or allowed, detail)


def _swap_all_in(schema: str, loaded: list[LoadResult], cur: Any) -> None:
    for result in loaded:  # always in file order: two publications never wait for each other's locks
        swap_in(cur, schema, result.table, result.loaded_into)


def drop_leftovers(ctx: StageContext) -> None:
    """Drop the load tables of earlier runs that failed or were killed before publishing."""
    with ctx.services.transaction("staging cleanup") as cur:
        leftovers = leftover_load_tables(cur, ctx.config.staging_schema, SOURCE_FILES)
    if leftovers:
        drop_load_tables(ctx, leftovers)
        ctx.log(f"dropped {len(leftovers)} load table(s) left by an earlier run: {', '.join(leftovers)}")


def drop_load_tables(ctx: StageContext, tables: list[str]) -> None:
    """Best effort, never waiting long for a lock: a table still locked is dropped by the next run."""
    try:
        with ctx.services.transaction("staging cleanup") as cur:
            cur.execute("SET LOCAL lock_timeout = %s", (f"{round(ctx.config.timeouts.lock_wait_s * 1000)}ms",))
            drop_tables(cur, ctx.config.staging_schema, tables)
    except (psycopg2.Error, D2BError) as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else exc.__class__.__name__
        ctx.warn(f"could not drop the load table(s) {', '.join(tables)} ({reason}); the next staging run drops them")
