"""Network faults for real: a warehouse or S3 that stops answering, or answers 5xx. No wait is unbounded.

The warehouse stalls are made by the fault proxy between the console and a PostgreSQL 15 on TCP
(the `pg15` fixture of aws_s3_double.fixtures): it stops forwarding one connection's bytes, in one
direction, without closing.
"""

from __future__ import annotations

import threading
import time
from typing import Any
from urllib.parse import urlparse

import pytest

from cli_process import CliProcess
from etl_core.errors import Cancelled, Stalled
from etl_core.events import CancelToken
from etl_core.warehouse import connect
from faultproxy import FaultProxy, Rule
from helpers import assert_succeeded, run
from network_faults import our_sessions, silent_endpoint, warehouse_stalls
from support import BIG_ORDERS_ROWS, big_orders, orders_count, tcp_url

pytest_plugins = ["aws_s3_double.fixtures"]  # the session's PostgreSQL 15 (`pg15`)


def test_warehouse_that_stops_reading_mid_copy_ends_the_stage_and_the_next_run_works(tcp_env):
    env, proxy = tcp_env
    assert_succeeded(run(env))  # the shipped bounds for the runs that must succeed (see below)
    env.put("orders.csv", big_orders())
    # All three loads match; only orders.csv sends more than 500 kB, then its socket fills up.
    stall = warehouse_stalls(proxy, "d2b-console staging", "up", 500_000, times=3)
    # A short bound only for the run that stalls: on a loaded machine the in-process proxy can itself
    # starve for 2 s, which a run that must succeed would report as a stall.
    env.set_timeouts(warehouse_stall_s=2)
    summary = run(env)
    assert stall.fired.is_set()
    staging = summary.stages[1]
    assert staging.status == "failed", staging
    assert f"no answer from warehouse postgresql://postgres@127.0.0.1:{proxy.port}/" in (staging.error or "")
    assert f"for 2s while loading s3://{env.bucket}/orders_data/orders.csv" in (staging.error or "")
    assert [s.status for s in summary.stages[2:]] == ["skipped", "skipped"]
    # Nothing half-done is visible, no backend of ours is left holding a lock, the run lock is free.
    assert orders_count(env) == 3
    assert our_sessions(env) == []
    env.set_timeouts()
    assert_succeeded(run(env))
    assert orders_count(env) == BIG_ORDERS_ROWS


def test_warehouse_that_stops_sending_mid_export_ends_the_stage(tcp_env):
    env, proxy = tcp_env
    assert_succeeded(run(env))  # the shipped bounds: a short one only for the run that stalls
    # A long history of daily rows makes agg_shipments' COPY a few MB, so the stall lands inside it.
    env.execute(
        f'INSERT INTO "{env.user_id}_analytics".agg_shipments '
        "SELECT DATE '1000-01-01' + g, g, g FROM generate_series(1, 150000) AS g"
    )
    stall = warehouse_stalls(proxy, "d2b-console export", "down", 1_000_000)
    env.set_timeouts(warehouse_stall_s=2)
    summary = run(env, ("export",))
    assert stall.fired.is_set()
    export = summary.stages[0]
    assert export.status == "failed", export
    assert (
        f"for 2s while exporting {env.user_id}_analytics.agg_shipments to "
        f"s3://{env.bucket}/analytics_export/{env.user_id}/agg_shipments.csv"
    ) in (export.error or "")
    assert our_sessions(env) == []
    keys = {o["Key"] for o in env.s3.list_objects_v2(Bucket=env.bucket, Prefix="analytics_export/")["Contents"]}
    assert keys == {
        f"analytics_export/{env.user_id}/{t}.csv"
        for t in ("agg_public_holiday", "agg_shipments", "best_performing_product")
    }  # the first run's
    body = env.s3.get_object(Bucket=env.bucket, Key=f"analytics_export/{env.user_id}/agg_shipments.csv")["Body"]
    assert len(body.read().splitlines()) == 2  # the object of the first run, not a partial new one


def test_a_long_query_is_not_a_stall(tcp_env):
    """The watchdog asks the server before ending a call: a query that computes is left alone."""
    env, _proxy = tcp_env
    env.set_timeouts(warehouse_stall_s=1)
    with env.open() as services:
        conn = services.connect(purpose="test")
        with conn.cursor() as cur:
            cur.execute("SELECT pg_sleep(3.5), 1")
            assert cur.fetchone() == ("", 1)
        conn.close()


def test_stalled_s3_read_ends_the_stage_without_retrying(s3_proxied):
    env, proxy = s3_proxied
    env.set_timeouts(s3_read_s=2)
    hold = proxy.add(
        Rule(match=f"GET /{env.bucket}/orders_data/orders.csv", action="hold", after_bytes=300_000, times=10)
    )
    events: list[Any] = []
    summary = run(env, ("staging",), sink=events.append)
    staging = summary.stages[0]
    assert staging.status == "failed"
    assert (
        f"no answer from S3 endpoint {proxy.url} for 2s while reading s3://{env.bucket}/orders_data/orders.csv"
    ) in (staging.error or "")
    assert "keep their previous rows" in (staging.error or "")
    assert hold.hits == 1  # a silent S3 is not retried: the stage ends
    assert not [e for e in events if "retrying" in getattr(e, "message", "")]
    assert orders_count(env) == 3


def test_stalled_s3_upload_ends_the_export(env, s3_endpoint):
    parsed = urlparse(s3_endpoint)
    proxy = FaultProxy(parsed.hostname, parsed.port)
    env.config_path.write_text(env.config_path.read_text().replace(s3_endpoint, proxy.url))
    env.set_timeouts(s3_read_s=2, s3_attempts=2)
    stall = proxy.add(
        Rule(match=f"PUT /{env.bucket}/analytics_export/", action="stall", direction="up", after_bytes=100, times=10)
    )
    try:
        summary = run(env)
    finally:
        proxy.close()
    assert stall.hits == 2  # s3_read_s for each of the s3_attempts of the request, then the stage fails
    export = summary.stages[-1]
    assert export.status == "failed"
    assert (
        f"no answer from S3 endpoint {proxy.url} for 2s while writing "
        f"s3://{env.bucket}/analytics_export/{env.user_id}/agg_public_holiday.csv"
    ) in (export.error or "")
    assert env.s3.list_objects_v2(Bucket=env.bucket, Prefix="analytics_export/").get("KeyCount", 0) == 0


@pytest.mark.parametrize("problem", ["silent", "503"])
def test_s3_that_never_answers_or_fails_at_start_exits_3_within_15s(make_env, s3_endpoint, tmp_path, problem):
    env = make_env()
    if problem == "silent":
        server = silent_endpoint()
        endpoint = f"http://127.0.0.1:{server.getsockname()[1]}"
    else:
        parsed = urlparse(s3_endpoint)
        proxy = FaultProxy(parsed.hostname, parsed.port)
        refused = proxy.add(Rule(match=f"HEAD /{env.bucket}", action="503", times=100))
        endpoint = proxy.url
    env.config_path.write_text(env.config_path.read_text().replace(s3_endpoint, endpoint))
    process = CliProcess(env.config_path, "--run-all", "--json", cwd=tmp_path)
    # Measured from the first try, not from the interpreter's start (seconds on a busy machine).
    if problem == "silent":
        server.settimeout(60)
        first_try, _ = server.accept()  # kept open, unanswered
    else:
        assert refused.fired.wait(60), process.finish(5).stderr
    process.mark()
    result = process.finish(timeout=60)
    print(f"scenario S3 {problem} at start: exit {result.code} in {result.timing()}")
    assert result.code == 3, result.stderr
    assert result.seconds_after_signal < 15, result.seconds_after_signal
    if problem == "silent":
        first_try.close()
    expected = "did not answer within 4s" if problem == "silent" else "answered 503 to HeadBucket"
    assert f"S3 endpoint {endpoint} {expected}" in result.stderr
    assert "Traceback" not in result.stderr
    assert '"exit_code": 3' in result.stdout


def test_warehouse_that_never_answers_at_start_exits_3_within_15s(make_env, pg_uri, tmp_path):
    server = silent_endpoint()
    env = make_env()
    url = f"postgresql://operator@127.0.0.1:{server.getsockname()[1]}/warehouse"
    env.config_path.write_text(env.config_path.read_text().replace(pg_uri, url))
    process = CliProcess(env.config_path, "--run-all", cwd=tmp_path)
    server.settimeout(60)
    connecting, _ = server.accept()  # measured from the connect, not from the interpreter's start (a busy machine)
    process.mark()
    result = process.finish(timeout=60)
    connecting.close()
    print(f"scenario silent warehouse at start: exit {result.code} in {result.timing()}")
    assert result.code == 3, result.stderr
    assert result.seconds_after_signal < 15, result.seconds_after_signal
    assert f"warehouse {url} could not be reached" in result.stderr and "timeout" in result.stderr
    assert "Traceback" not in result.stderr


def test_sessions_ended_on_the_server_are_named_and_the_run_recorded_failed_at_once(env):
    """An administrator's pg_terminate_backend of every console session mid-COPY (the run lock's too):
    the stage names it, and the run is recorded failed then, with its reason and real duration."""
    assert_succeeded(run(env))
    env.put("orders.csv", big_orders())
    terminated: list[int] = []

    def terminate_every_session(event) -> None:
        if getattr(event, "stage", None) == "staging" and type(event).__name__ == "StageProgress" and not terminated:
            terminated.extend(
                pid
                for (pid,) in env.query(
                    "SELECT pid FROM pg_stat_activity WHERE application_name IN "
                    "('d2b-console staging', 'd2b-console run lock') AND pg_terminate_backend(pid)"
                )
            )

    summary = run(env, sink=terminate_every_session)
    assert len(terminated) >= 2, terminated  # the loads and the run lock
    staging = summary.stages[1]
    assert staging.status == "failed", staging
    if "57P01" in (staging.error or ""):  # when the socket closes before the server's notice is read: a lost connection
        assert f"ended this session while loading s3://{env.bucket}/" in (staging.error or "")
        assert "pg_terminate_backend" in (staging.error or "") and "when the warehouse is back" not in (
            staging.error or ""
        )
    status, error, seconds = env.query(
        f"SELECT status, error, extract(epoch FROM finished_at - started_at) "
        f'FROM "{env.user_id}_staging".console_runs WHERE run_id = %s',
        (summary.run_id,),
    )[0]
    assert status == "failed" and error == staging.error
    assert 0 < seconds < summary.duration_s + 5, (seconds, summary.duration_s)
    assert orders_count(env) == 3


def test_a_kernel_error_on_a_stalled_call_is_reported_as_the_stall(tcp_env):
    """The kernel (TCP user timeout, keepalives) may end a stalled socket before the watchdog does: the call
    is then reported as the same stall, not as "server closed the connection unexpectedly"."""
    _env, proxy = tcp_env
    stall = warehouse_stalls(proxy, "d2b-console race", "down", 20_000)
    conn = connect(
        tcp_url(proxy.port), "the test warehouse", autocommit=True, application_name="d2b-console race", stall_s=1
    )  # not watched: only the kernel's error (here the proxy dropping the stalled connection) can end the call
    conn.activity = "reading the answer"
    threading.Timer(1.5, stall.release.set).start()
    try:
        with pytest.raises(Stalled) as ended, conn.cursor() as cur:
            cur.execute("SELECT repeat('x', 100) FROM generate_series(1, 100000)")
    finally:
        conn.close()
    assert str(ended.value) == "no answer from warehouse the test warehouse for 1s while reading the answer"


@pytest.mark.parametrize("stop", ["cancel", "give up"])
def test_a_connect_that_is_never_answered_stops_at_once_on_a_cancel_or_a_silent_warehouse(stop):
    """libpq's connect is bounded only by its `connect_timeout`. A connect still waiting when the run is
    cancelled, or when another call's stall shows the warehouse silent, stops waiting at once (analytics
    opens three connections at once: one caught mid-connect by a black hole once held the stage 10 s)."""
    server = silent_endpoint()
    cancel = CancelToken()

    def give_up() -> None:
        if stop == "give up" and time.monotonic() - started > 0.5:
            raise Stalled("the warehouse is silent")

    if stop == "cancel":
        threading.Timer(0.5, cancel.cancel).start()
    started = time.monotonic()
    with pytest.raises(Cancelled if stop == "cancel" else Stalled):
        connect(
            tcp_url(server.getsockname()[1]), "the test warehouse", connect_timeout_s=60, cancel=cancel, give_up=give_up
        )
    waited = time.monotonic() - started
    server.close()
    assert waited < 20, waited  # not the 60 s connect timeout
