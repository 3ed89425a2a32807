"""Provenance: the source objects a run loads are recorded with it, then the records loaded from each."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import psycopg2

from etl_core import history_days
from etl_core.errors import D2BError
from etl_core.stages.context import StageContext
from etl_core.stages.staging.inputs import SourceInput


def record_provenance(ctx: StageContext, inputs: Sequence[SourceInput]) -> None:
    _write(ctx, lambda cur: history_days.record_inputs(cur, ctx.config, ctx.run_id, inputs))


def record_rows(ctx: StageContext, rows: dict[str, int]) -> None:
    _write(ctx, lambda cur: history_days.record_input_rows(cur, ctx.config, ctx.run_id, rows))


def _write(ctx: StageContext, write: Callable[[Any], None]) -> None:
    """Best effort, like every history write: a lost connection must not fail the data work."""
    try:
        with ctx.services.transaction("history") as cur:
            write(cur)
    except (psycopg2.Error, D2BError) as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else exc.__class__.__name__
        ctx.warn(f"could not record the run's source objects: {reason}")
