"""Benchmark hook: paging a one-million-row result through the read-only session, and what it holds.

`bench/` calls `measure_paging(services)` (or `python -m etl_core.inspect.benchmark --config
PATH`): time to the first page, to the materialised and counted result, per page fetch
(sequential and random pages), the server's temp bytes for the held result, and whether the
session holds any relation lock or snapshot between fetches (it must not).
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import psycopg2

from etl_core.config import load_config
from etl_core.inspect.session import ReadOnlySession
from etl_core.services import Services, open_services

ONE_MILLION_ROWS = (
    "SELECT g AS id, md5(g::text) AS label, g % 25 AS product_id, DATE '2022-01-01' + g % 365 AS day "
    "FROM generate_series(1, 1000000) AS g"
)


@dataclass(frozen=True)
class PagingMeasurement:
    query: str
    total_rows: int
    page_size: int
    first_page_s: float
    counted_s: float  # until every row is materialised on the server and counted
    sequential_fetch_s: list[float] = field(default_factory=list)
    random_fetch_s: list[float] = field(default_factory=list)
    temp_bytes: int = 0  # growth of the server's temp files while the result materialised (other sessions count too)
    relation_locks_between_fetches: int = 0
    snapshot_between_fetches: bool = False

    def summary(self) -> dict[str, float]:
        every = self.sequential_fetch_s + self.random_fetch_s
        return {
            "first_page_ms": self.first_page_s * 1000,
            "counted_ms": self.counted_s * 1000,
            "sequential_median_ms": statistics.median(self.sequential_fetch_s) * 1000,
            "random_median_ms": statistics.median(self.random_fetch_s) * 1000,
            "worst_fetch_ms": max(every) * 1000,
        }


def measure_paging(
    services: Services,
    query: str = ONE_MILLION_ROWS,
    *,
    page_size: int = 200,
    sequential_pages: int = 50,
    random_pages: int = 50,
    seed: int = 13,
) -> PagingMeasurement:
    """Run `query` in a read-only session and page through it; nothing is kept in the window between fetches."""
    with ReadOnlySession(
        services, purpose="bench", page_size=page_size, window_pages=1, statement_timeout_s=600
    ) as session:
        temp_before = _temp_bytes(services)
        result = session.open_result(query)
        temp_bytes = _temp_bytes(services) - temp_before
        locks, snapshot = _held_by(services, session.backend_pid)
        pages = result.rows.page_count
        sequential = [_timed(result.rows.page, n) for n in range(1, min(pages, sequential_pages + 1))]
        chooser = random.Random(seed)
        randomly = [_timed(result.rows.page, chooser.randrange(pages)) for _ in range(random_pages)]
        result.close()
        return PagingMeasurement(
            query,
            result.total_rows,
            page_size,
            result.first_page_s,
            result.duration_s,
            sequential,
            randomly,
            temp_bytes,
            locks,
            snapshot,
        )


def _timed(fetch: Callable[[int], object], number: int) -> float:
    started = time.perf_counter()
    fetch(number)
    return time.perf_counter() - started


def _temp_bytes(services: Services) -> int:
    """Bytes in the server's temporary files now (pg_ls_tmpdir needs superuser or pg_monitor; else 0)."""
    try:
        with services.transaction("bench") as cur:
            cur.execute("SELECT coalesce(sum(size), 0) FROM pg_ls_tmpdir()")
            return int(_one(cur))
    except psycopg2.Error:
        return 0


def _held_by(services: Services, pid: int) -> tuple[int, bool]:
    """Relation locks and whether a snapshot (backend_xmin) is held by the session's server process."""
    with services.transaction("bench") as cur:
        cur.execute("SELECT count(*) FROM pg_locks WHERE pid = %s AND locktype = 'relation'", (pid,))
        locks = int(_one(cur))
        cur.execute("SELECT backend_xmin IS NOT NULL FROM pg_stat_activity WHERE pid = %s", (pid,))
        return locks, bool(_one(cur))


def _one(cur: Any) -> Any:
    row = cur.fetchone()
    assert row is not None  # aggregates and our own backend always return a row
    return row[0]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--config", help="config.toml (default: ./config.toml, else the packaged default)")
    parser.add_argument("--query", default=ONE_MILLION_ROWS)
    args = parser.parse_args(argv)
    with open_services(load_config(args.config)) as services:
        measured = measure_paging(services, args.query)
    print(json.dumps({"summary": measured.summary(), **asdict(measured)}, indent=1, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
