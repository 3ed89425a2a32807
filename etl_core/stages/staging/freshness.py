"""Freshness of the source objects: unchanged since the previous date's run, or older than allowed."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import psycopg2

from etl_core import history_days
from etl_core.errors import D2BError, StageError
from etl_core.events import CheckOutcome
from etl_core.stages.context import StageContext
from etl_core.stages.staging.inputs import SourceInput, end_of_day

SOURCE_FRESH = "source_fresh"


def source_fresh(ctx: StageContext, inputs: Sequence[SourceInput]) -> CheckOutcome | None:
    """The blocking check `source_fresh` when it fails (an object older than `[source] max_age_hours`), else None.

    Ages count to the end of the ingestion date (UTC) or now, whichever is earlier, so that a past
    date of a backfill is judged as it would have been on its day."""
    limit = ctx.config.source.max_age_hours
    if not limit:
        return None
    now = min(datetime.now(UTC), end_of_day(ctx.config.pipeline.ingestion_date))
    old = [(found, (now - found.last_modified).total_seconds() / 3600) for found in inputs]
    too_old = [(found, hours) for found, hours in old if hours > limit]
    if not too_old:
        ctx.log(f"check {SOURCE_FRESH}: every source object is at most {limit:g} hours old")
        return None
    detail = "; ".join(
        f"{found.key} is {hours:.1f} hours old (last modified {found.last_modified:%Y-%m-%d %H:%M} UTC)"
        for found, hours in too_old
    )
    return CheckOutcome(
        SOURCE_FRESH,
        "ERROR",
        False,
        f"{detail}: older than [source] max_age_hours = {limit:g}; nothing was loaded; upload the day's files",
    )


def check_unchanged(ctx: StageContext, inputs: Sequence[SourceInput]) -> None:
    """Say so when the objects are the ones the previous date's successful run loaded; with
    `[source] on_unchanged = "fail"`, fail the stage before anything is loaded."""
    try:
        with ctx.services.transaction("history") as cur:
            previous = history_days.previous_success(cur, ctx.config, ctx.config.pipeline.ingestion_date)
    except (psycopg2.Error, D2BError):
        return  # the history is best effort; the load itself decides
    if previous is None:
        return
    run, loaded = previous
    by_table = {record.table: record for record in loaded}
    if len(by_table) != len(inputs) or not all(
        found.table in by_table and by_table[found.table].same_object(found) for found in inputs
    ):
        return
    message = (
        f"no new files since run #{run.run_id} (ingestion date {run.ingestion_date}), loaded at "
        f"{run.started_at:%Y-%m-%d %H:%M:%S %Z}: " + ", ".join(found.key for found in inputs) + " are the same objects"
    )
    if ctx.config.source.on_unchanged == "fail":
        raise StageError(f'{message}; nothing was loaded ([source] on_unchanged = "fail")')
    ctx.warn(message)
