"""Publication: files load into tables nobody reads, then one short transaction publishes all three.

Readers are never blocked by a load; the publication waits a bounded time for its locks, names the
session holding them, and publishes all or nothing; load tables of failed or killed runs go away.
"""

from __future__ import annotations

import threading
from typing import Any

import psycopg2
import pytest

from faultproxy import Rule
from helpers import assert_succeeded, run
from support import put_dataset

TABLES = ("orders", "reviews", "shipment_deliveries")


def counts(env) -> dict[str, int]:
    return {t: env.query(f'SELECT count(*) FROM "{env.user_id}_staging".{t}')[0][0] for t in TABLES}


def load_tables(env) -> list[str]:
    return [
        name
        for (name,) in env.query(
            "SELECT tablename FROM pg_tables WHERE schemaname = %s AND tablename LIKE %s ORDER BY 1",
            (f"{env.user_id}_staging", "%\\_\\_load%"),
        )
    ]


@pytest.fixture
def loaded(env):
    env.set_timeouts(lock_wait_s=0.5)
    assert_succeeded(run(env))
    return env


def test_readers_are_not_blocked_while_the_files_load(s3_proxied):
    env, proxy = s3_proxied
    hold = proxy.add(Rule(match=f"GET /{env.bucket}/orders_data/orders.csv", action="hold", after_bytes=300_000))
    outcome: list[Any] = []
    runner = threading.Thread(target=lambda: outcome.append(run(env, ("staging",))))
    runner.start()
    try:
        assert hold.fired.wait(60)
        reader = psycopg2.connect(env.pg_uri)
        try:
            with reader.cursor() as cur:
                cur.execute("SET lock_timeout = '1s'")  # a blocked reader fails instead of waiting
                for table in TABLES:
                    cur.execute(f'SELECT count(*) FROM "{env.user_id}_staging".{table}')
                    assert cur.fetchone() == (3,)  # the previous rows, while the new ones load
        finally:
            reader.close()
    finally:
        hold.release.set()
        runner.join(120)
    assert_succeeded(outcome[0])  # the held read dropped and was retried
    assert counts(env)["orders"] == 60_000
    assert load_tables(env) == []


def test_a_held_lock_makes_the_publication_wait_a_bounded_time_and_name_the_holder(loaded):
    env = loaded
    put_dataset(env, [(9, 1, "2022-03-01", 1, 10, 1)], [(5, 1)], [])
    reader = psycopg2.connect(env.pg_uri, application_name="a long report")
    try:
        with reader.cursor() as cur:  # inside a transaction, the reader keeps its lock until it ends
            cur.execute(f'SELECT count(*) FROM "{env.user_id}_staging".reviews')
            cur.execute("SELECT pg_backend_pid()")
            (reader_pid,) = cur.fetchone() or (None,)
        events: list[Any] = []
        summary = run(env, ("staging",), sink=events.append)
    finally:
        reader.close()
    error = summary.stages[0].error or ""
    assert summary.stages[0].status == "failed"
    assert "publishing the staging tables of" in error and "waited 0.5s for its locks" in error
    assert f"held by pid {reader_pid} (application 'a long report', user " in error
    assert "idle in transaction, in a transaction since 20" in error and "holding AccessShareLock" in (error or "")
    assert "gave up after 3 attempts: nothing was published and the previous data is unchanged" in error
    retries = [e.message for e in events if "retrying in 1s" in getattr(e, "message", "")]
    assert [r.rsplit("(", 1)[1] for r in retries] == ["attempt 2 of 3)", "attempt 3 of 3)"]
    assert counts(env) == {"orders": 3, "reviews": 3, "shipment_deliveries": 3}
    assert load_tables(env) == []


def test_a_held_lock_makes_the_analytics_publication_wait_a_bounded_time_and_name_the_holder(loaded):
    env = loaded
    analytics = f'"{env.user_id}_analytics"'
    before = env.query(f"SELECT count(*) FROM {analytics}.agg_shipments")[0][0]
    holder = psycopg2.connect(env.pg_uri, application_name="a nightly backup")
    try:
        with holder.cursor() as cur:  # SHARE mode lets readers in but no row replacement, until it ends
            cur.execute(f"LOCK TABLE {analytics}.agg_shipments IN SHARE MODE")
            cur.execute("SELECT pg_backend_pid()")
            (holder_pid,) = cur.fetchone() or (None,)
        summary = run(env, ("analytics",))
    finally:
        holder.close()
    error = summary.stages[0].error or ""
    assert summary.stages[0].status == "failed"
    assert f"publishing the analytics rows of {env.user_id}_analytics waited 0.5s for its locks" in error, error
    assert f"held by pid {holder_pid} (application 'a nightly backup', user " in error and "ShareLock" in (error or "")
    assert "gave up after 3 attempts: nothing was published and the previous data is unchanged" in error
    assert env.query(f"SELECT count(*) FROM {analytics}.agg_shipments")[0][0] == before


def test_a_failure_inside_the_publication_publishes_nothing(loaded):
    env = loaded
    # A view on the last table makes its swap fail, after the other two were swapped in the transaction.
    staging = f'"{env.user_id}_staging"'
    env.execute(f"CREATE VIEW {staging}.late AS SELECT * FROM {staging}.shipment_deliveries")
    put_dataset(env, [(9, 1, "2022-03-01", 1, 10, 1)], [(5, 1)], [])
    summary = run(env, ("staging",))
    assert summary.stages[0].status == "failed"
    assert "depend" in (summary.stages[0].error or "")
    assert counts(env) == {"orders": 3, "reviews": 3, "shipment_deliveries": 3}
    assert load_tables(env) == []


def test_load_tables_left_by_a_killed_run_are_dropped_by_the_next_one(loaded):
    env = loaded
    env.execute(f'CREATE TABLE "{env.user_id}_staging".orders__load_999 (x int)')
    env.execute(f'CREATE TABLE "{env.user_id}_staging".reviews__load (x int)')  # an older version's name
    events: list[Any] = []
    assert_succeeded(run(env, ("staging",), sink=events.append))
    assert load_tables(env) == []
    assert any("dropped 2 load table(s) left by an earlier run" in getattr(e, "message", "") for e in events)


def test_a_failed_analytics_check_keeps_every_previous_row(loaded):
    env = loaded
    before = env.query(f'SELECT * FROM "{env.user_id}_analytics".agg_shipments')
    # New orders would change agg_shipments; no reviews leave best_performing_product without a row.
    put_dataset(env, [(1, 1, "2022-01-03", 1, 100, 2)], [], [(1, 1, "2022-01-20", None)])
    summary = run(env, ("staging", "analytics"))
    assert summary.stages[1].status == "failed"
    assert "best_performing_product has one row" in (summary.stages[1].error or "")
    assert env.query(f'SELECT * FROM "{env.user_id}_analytics".agg_shipments') == before
    assert env.query(f'SELECT count(*) FROM "{env.user_id}_analytics".best_performing_product') == [(1,)]
