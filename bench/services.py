"""The S3 server and Postgres every contender shares: the embedded default's own, in a temp folder.

The embedded default's start-up helpers, without its state-folder lock and watchdog; the S3 server
keeps its objects durably in the temp folder, as the embedded default does in the state folder.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg2
import psycopg2.extensions
from psycopg2 import sql

from bench.settings import AWS_ENV, BUCKET, CONTENDER_SCHEMAS, DIMS, REGION
from etl_core import demo_data
from etl_core.embedded.postgres import EmbeddedPostgres
from etl_core.embedded.s3_child import S3Child
from etl_core.s3 import make_s3_client
from etl_core.sql_files import safe_identifier
from etl_core.warehouse import transaction


class BenchServices:
    """The S3 server (a process of its own, so its memory and CPU are not charged to any contender)
    and Postgres (data directory in `tmp`)."""

    def __init__(self, tmp: Path):
        self.tmp = tmp
        self._s3_child = S3Child(tmp / "s3", REGION)
        self._postgres = EmbeddedPostgres(tmp / "pg")
        self.s3_url = ""
        self.pg_url = ""
        self.s3: Any = None
        self.postgres_settings: tuple[str, ...] = ()

    def start(self) -> None:
        self._s3_child.spawn()  # starts while Postgres starts
        self._postgres.start()
        self._s3_child.await_ready()
        assert self._s3_child.endpoint and self._postgres.dsn
        self.s3_url, self.pg_url = self._s3_child.endpoint, self._postgres.dsn
        os.environ.update(AWS_ENV)
        self.s3 = make_s3_client(REGION, self.s3_url)
        self.s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
        with self.cursor() as cur:
            demo_data.create_demo_dimensions(cur, DIMS)
            cur.execute(
                "SELECT version(), current_setting('shared_buffers'), current_setting('wal_level'), "
                "current_setting('max_wal_size'), current_setting('synchronous_commit')"
            )
            self.postgres_settings = tuple(cur.fetchone() or ())
            for schema in CONTENDER_SCHEMAS:
                cur.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(safe_identifier(schema)))

    def stop(self) -> None:
        try:
            self._s3_child.stop()
        finally:
            self._postgres.stop()

    def connect(self) -> psycopg2.extensions.connection:
        return psycopg2.connect(self.pg_url)

    @contextmanager
    def cursor(self) -> Iterator[psycopg2.extensions.cursor]:
        """A cursor in one transaction on its own connection, committed when the block ends."""
        conn = self.connect()
        try:
            with transaction(conn) as cur:
                yield cur
        finally:
            conn.close()

    def execute(self, statement: str | sql.Composable, params: Any = None) -> None:
        with self.cursor() as cur:
            cur.execute(statement, params)

    def vacuum_analyze(self, table: sql.Composable) -> None:
        conn = self.connect()
        try:
            conn.autocommit = True  # VACUUM cannot run in a transaction
            with conn.cursor() as cur:
                cur.execute(sql.SQL("VACUUM (ANALYZE) {}").format(table))
        finally:
            conn.close()

    def spec(self, **extra: Any) -> dict[str, Any]:
        """What a worker needs to reach these services, plus extra."""
        return {"s3": self.s3_url, "pg": self.pg_url, "state_dir": str(self.tmp / "state"), **extra}
