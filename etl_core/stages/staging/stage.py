"""The staging stage: locate the three objects, load them at once, commit together, run the staging checks."""

from __future__ import annotations

from functools import partial

from etl_core.checks import STAGING_CHECKS, run_checks_concurrently
from etl_core.events import CheckOutcome
from etl_core.stages.all_or_nothing import run_all_or_nothing
from etl_core.stages.context import StageContext, StageOutput
from etl_core.stages.staging.load import load_with_retries
from etl_core.stages.staging.progress import StagingProgress
from etl_core.stages.staging.sources import SOURCE_FILES, resolve_source_key


def run_staging(ctx: StageContext) -> StageOutput:
    # Find every object first: a missing file fails the stage before anything is replaced,
    # and the progress bar covers the whole stage.
    client, bucket, prefix = ctx.services.s3(), ctx.config.source.bucket, ctx.config.source.prefix
    located = [(source, *resolve_source_key(client, bucket, prefix, source)) for source in SOURCE_FILES]
    ctx = ctx.for_threads()
    for source, key, size in located:  # logged here, in file order: the threads start in any order
        ctx.log(f"loading s3://{ctx.config.source.bucket}/{key} ({size:,} bytes) into "
                f"{ctx.config.staging_schema}.{source.table}")
    progress = StagingProgress(ctx, sum(size for _source, _key, size in located))
    # Each file loads into its own open transaction; the three commit together, or none does.
    loaded = run_all_or_nothing(
        [partial(load_with_retries, ctx, source, key, size, progress) for source, key, size in located],
        ctx.cancel, "staging")
    output = StageOutput()
    for result in loaded:
        ctx.log(f"{ctx.config.staging_schema}.{result.table}: {result.rows:,} rows from {result.key} "
                f"in {result.seconds:.2f}s")
        output.rows += result.rows
        output.details[result.table] = {"key": result.key, "rows": result.rows, "bytes": result.bytes,
                                        "seconds": round(result.seconds, 3)}
        output.checks.append(CheckOutcome(
            f"{result.table}_rows_match_file", "ERROR", result.rows == result.file_rows,
            f"{result.table}: {result.rows:,} rows loaded, {result.file_rows:,} data rows in {result.key}"))
    output.checks += run_checks_concurrently(ctx.services, ctx.config, STAGING_CHECKS, ctx.cancel)
    return output
