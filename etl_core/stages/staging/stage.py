"""The staging stage: locate the three objects, load them at once, commit together, run the staging checks."""

from __future__ import annotations

from functools import partial

from etl_core.checks import STAGING_CHECKS, run_checks_concurrently
from etl_core.events import CheckOutcome
from etl_core.stages.all_or_nothing import run_all_or_nothing
from etl_core.stages.context import StageContext, StageOutput
from etl_core.stages.staging.load import LoadResult, load_with_retries
from etl_core.stages.staging.progress import StagingProgress
from etl_core.stages.staging.sources import SOURCE_FILES, locate_source


def run_staging(ctx: StageContext) -> StageOutput:
    # Find every object first: a missing file fails the stage before anything is replaced,
    # and the progress bar covers the whole stage.
    client, bucket, prefix = ctx.services.s3(), ctx.config.source.bucket, ctx.config.source.prefix
    located = [locate_source(client, bucket, prefix, source) for source in SOURCE_FILES]
    ctx = ctx.for_threads()
    for found in located:  # logged here, in file order: the threads start in any order
        for ignored in found.ignored:
            ctx.warn(f"s3://{bucket}/{ignored} is ignored: {found.key} is loaded instead (when both spellings "
                     "exist the first one wins); delete the one you do not mean")
        ctx.log(f"loading s3://{bucket}/{found.key} ({found.size:,} bytes) into "
                f"{ctx.config.staging_schema}.{found.source.table}")
    progress = StagingProgress(ctx, sum(found.size for found in located))
    # Each file loads into its own open transaction; the three commit together, or none does.
    loaded = run_all_or_nothing(
        [partial(load_with_retries, ctx, f.source, f.key, f.size, progress) for f in located], ctx.cancel, "staging")
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
        output.checks.append(has_rows(result, ctx.config.source.allow_empty_files))
    output.checks += run_checks_concurrently(ctx.services, ctx.config, STAGING_CHECKS, ctx.cancel)
    return output


def has_rows(result: LoadResult, allowed: bool) -> CheckOutcome:
    """An ERROR check: a file without data rows would make analytics and export an empty day of zeros."""
    if result.rows:
        detail = f"{result.table}: {result.key} has data rows"
    elif allowed:
        detail = f"{result.table}: {result.key} has no data rows, allowed by [source] allow_empty_files"
    else:
        detail = (f"{result.table}: {result.key} has no data rows (a header only), so analytics and export would "
                  "report an empty day; upload the day's file, or set allow_empty_files = true in [source] if "
                  "empty files are expected")
    return CheckOutcome(f"{result.table}_has_rows", "ERROR", result.rows > 0 or allowed, detail)
