"""A reader of a live staging table while our stage loads and publishes: how long is it held up?

`SELECT count(*)` in a loop on its own connection, every read's latency kept. The longest read
minus the median is the time a reader waited for the publication's locks. Reads that find no
table (before a first load is published) are only counted.
"""

from __future__ import annotations

import threading
import time
from typing import Any, Self

import psycopg2
import psycopg2.errors
from psycopg2 import sql

from etl_core.sql_files import safe_identifier


class ReaderLoop:
    def __init__(self, pg_url: str, schema: str, table: str):
        self._pg_url = pg_url
        self._query = sql.SQL("SELECT count(*) FROM {}.{}").format(safe_identifier(schema), safe_identifier(table))
        self.latencies: list[float] = []
        self.missing = 0  # reads before the table existed
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="bench-reader", daemon=True)

    def _loop(self) -> None:
        conn = psycopg2.connect(self._pg_url)
        conn.autocommit = True
        try:
            with conn.cursor() as cur:
                while not self._stop.is_set():
                    started = time.perf_counter()
                    try:
                        cur.execute(self._query)
                        cur.fetchone()
                    except psycopg2.errors.UndefinedTable:
                        self.missing += 1
                        continue
                    self.latencies.append(time.perf_counter() - started)
        finally:
            conn.close()

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join(60)


def summarize(latencies: list[float]) -> dict[str, Any]:
    ordered = sorted(latencies)
    return {
        "reads": len(ordered),
        "max_s": ordered[-1] if ordered else 0.0,
        "median_s": ordered[len(ordered) // 2] if ordered else 0.0,
    }
