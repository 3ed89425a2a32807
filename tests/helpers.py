"""Small helpers shared by the tests (the fixtures live in conftest.py)."""

from __future__ import annotations

from typing import Any

from etl_core.events import RunSummary
from etl_core.pipeline import STAGES, run_pipeline
from support import Env


def run(env, stages=STAGES, **kwargs) -> RunSummary:
    with env.open() as services:
        return run_pipeline(services, stages, **kwargs)


def assert_succeeded(summary: RunSummary) -> None:
    assert summary.status == "succeeded", [(s.stage, s.status, s.error) for s in summary.stages]


def row(env: Env, table: str, ingestion_date: str = "2022-09-06") -> tuple[Any, ...]:
    rows = env.query(f'SELECT * FROM "{env.user_id}_analytics".{table} WHERE ingestion_date = %s', (ingestion_date,))
    assert len(rows) == 1, rows
    found: tuple[Any, ...] = rows[0][1:]
    return found
