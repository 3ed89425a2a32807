"""Small helpers shared by the tests (the fixtures live in conftest.py)."""

from __future__ import annotations

from collections.abc import Callable
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


def staging_checksums(env: Env) -> dict[str, str]:
    """One md5 over every row of each staging table, in a fixed order."""
    sums: dict[str, str] = {}
    for table in ("orders", "reviews", "shipment_deliveries"):
        rows = env.query(
            f"SELECT md5(string_agg(t::text, '|' ORDER BY t::text)) FROM \"{env.user_id}_staging\".{table} t"
        )
        sums[table] = rows[0][0]
    return sums


class SharedLoad:
    """A good staging load made once for the tests of a module (from a module-scoped fixture).

    `fresh()` hands it to the next test as a new one would be: the good files back in the bucket, and the
    staging tables loaded again if an earlier test changed them (a failed load must not have).
    """

    def __init__(self, env: Env, put_files: Callable[[Env], None]):
        self.env = env
        self._put_files = put_files
        self.before = self._load()

    def _load(self) -> dict[str, str]:
        self._put_files(self.env)
        assert_succeeded(run(self.env, ("prepare", "staging")))
        return staging_checksums(self.env)

    def fresh(self) -> tuple[Env, dict[str, str]]:
        if staging_checksums(self.env) == self.before:
            self._put_files(self.env)
        else:
            assert self._load() == self.before
        return self.env, self.before
