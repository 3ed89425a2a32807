"""Disk full is called disk full: a warehouse that runs out of space mid-load, an S3 that answers 507."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path
from urllib.parse import urlparse

import pytest

from faultproxy import FaultProxy, Rule
from helpers import assert_succeeded, run
from support import big_orders, orders_count, put_small_dataset, tcp_url

pytest_plugins = ["aws_s3_double.fixtures"]  # the session's PostgreSQL 15 (`pg15`)


@pytest.fixture
def small_tablespace(pg15):
    """A 3 MB tmpfs as a tablespace, the default of a role of its own: its tables fill a small disk."""
    folder = Path(tempfile.mkdtemp(prefix="faults-net-tmpfs-"))
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=3m,mode=0700", "tmpfs", str(folder)], capture_output=True, text=True
    )
    if mounted.returncode != 0:
        folder.rmdir()
        pytest.skip(f"mounting a tmpfs is not permitted here: {mounted.stderr.strip()}")
    shutil.chown(folder, "postgres", "postgres")
    name = f"small_{folder.name.rsplit('-', 1)[-1].lower()}"
    role = f"{name}_operator"
    admin = tcp_url(pg15.port)
    import psycopg2

    conn = psycopg2.connect(admin)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(f"CREATE TABLESPACE {name} LOCATION %s", (str(folder),))
        cur.execute(f"CREATE ROLE {role} LOGIN SUPERUSER")
        cur.execute(f"ALTER ROLE {role} SET default_tablespace = {name}")
    try:
        yield role
    finally:
        with conn.cursor() as cur:
            cur.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = %s", (role,))
            cur.execute(
                "SELECT nspname FROM pg_namespace WHERE nspowner = (SELECT oid FROM pg_roles WHERE rolname = %s)",
                (role,),
            )
            for (schema,) in cur.fetchall():
                cur.execute(f'DROP SCHEMA "{schema}" CASCADE')
            cur.execute(f"DROP TABLESPACE {name}")
            cur.execute(f"DROP ROLE {role}")
        conn.close()
        subprocess.run(["umount", str(folder)], check=True)
        folder.rmdir()


def test_a_full_warehouse_disk_mid_load_is_reported_as_disk_full(make_env, pg15, pg_uri, small_tablespace):
    env = make_env()
    url = tcp_url(pg15.port, user=small_tablespace)
    env.pg_uri = url
    env.config_path.write_text(env.config_path.read_text().replace(pg_uri, url))
    put_small_dataset(env)
    assert_succeeded(run(env))
    env.put("orders.csv", big_orders(120_000))
    summary = run(env)
    staging = summary.stages[1]
    assert staging.status == "failed"
    assert f"the warehouse postgresql://{small_tablespace}@127.0.0.1:{pg15.port}/" in (staging.error or "")
    assert "is out of disk space: could not extend file" in (staging.error or "")
    assert "No space left on device" in (staging.error or "") and "previous data is intact" in (staging.error or "")
    assert "connection failed" not in (staging.error or "") and "move" not in (staging.error or "")
    assert orders_count(env) == 3


def test_an_s3_that_is_out_of_space_is_reported_as_disk_full(env, s3_endpoint):
    parsed = urlparse(s3_endpoint)
    proxy = FaultProxy(parsed.hostname, parsed.port)
    try:
        env.config_path.write_text(env.config_path.read_text().replace(s3_endpoint, proxy.url))
        proxy.add(Rule(match=f"PUT /{env.bucket}/analytics_export/", action="507", times=100))
        summary = run(env)
    finally:
        proxy.close()
    export = summary.stages[-1]
    assert export.status == "failed"
    uri = f"s3://{env.bucket}/analytics_export/{env.user_id}/agg_public_holiday.csv"
    assert f"S3 endpoint {proxy.url} is out of space and could not store {uri} (InsufficientStorage" in (
        export.error or ""
    )
    assert "no partial object was left" in (export.error or "")
