"""Ctrl-C, SIGTERM and SIGHUP sent to a real `d2b-console` subprocess, in every state a run can wait in.

Each test holds the run in one state with a real fault (an S3 read held by the proxy, a warehouse
connection whose socket is full, a retry backoff, a lock held by another session) and with
timeouts configured long, so that only a working cancel can end it quickly.
"""

from __future__ import annotations

import json
import signal

import psycopg2
import pytest

from cli_process import CliProcess
from faultproxy import FaultProxy, Rule
from helpers import assert_succeeded, run
from network_faults import our_sessions, silent_endpoint, warehouse_stalls
from support import Env, big_orders, orders_count

pytest_plugins = ["aws_s3_double.fixtures"]  # the session's PostgreSQL 15 (`pg15`)

CANCEL_WITHIN_S = 5  # the bound: one Ctrl-C cancels within 5 s in every state
LONG = {"s3_read_s": 120, "warehouse_stall_s": 120, "lock_wait_s": 60}


@pytest.fixture
def s3_stalls(s3_proxied):
    """`s3_proxied` with long timeouts: only a working cancel ends a stalled run quickly."""
    env, proxy = s3_proxied
    env.set_timeouts(**LONG)
    return env, proxy


def statuses(stdout: str) -> list[str]:
    return [s["status"] for s in json.loads(stdout)["stages"]]


def last_run_status(env: Env) -> str:
    runs = env.query(f'SELECT status FROM "{env.user_id}_staging".console_runs ORDER BY run_id DESC LIMIT 1')
    status: str = runs[0][0]
    return status


def hold_orders_read(env: Env, proxy: FaultProxy) -> Rule:
    return proxy.add(Rule(match=f"GET /{env.bucket}/orders_data/orders.csv", action="hold", after_bytes=300_000))


@pytest.mark.parametrize("signum, code", [(signal.SIGINT, 130), (signal.SIGTERM, 143), (signal.SIGHUP, 129)])
def test_a_signal_during_a_stalled_s3_read_cancels_records_and_reports(s3_stalls, signum, code):
    env, proxy = s3_stalls
    hold = hold_orders_read(env, proxy)
    process = CliProcess(env.config_path, "--run-all", "--json")
    assert hold.fired.wait(60), process.finish(5).stderr
    process.send(signum)
    result = process.finish()
    print(f"scenario stalled S3 read {signum.name}: exit {result.code} in {result.timing()}")
    assert result.code == code, result.stderr
    assert result.seconds_after_signal < CANCEL_WITHIN_S, result.seconds_after_signal
    assert "cancelling the running stage" in result.stderr
    summary = json.loads(result.stdout)
    assert summary["status"] == "cancelled" and summary["exit_code"] == code
    assert statuses(result.stdout) == ["succeeded", "cancelled", "skipped", "skipped"]
    assert "CANCELLED" in result.stderr  # the human summary goes to stderr with --json
    assert "retrying" not in result.stderr
    assert last_run_status(env) == "cancelled"
    assert orders_count(env) == 3


def test_ctrl_c_during_a_retry_backoff(s3_stalls):
    env, proxy = s3_stalls
    env.set_timeouts(**LONG, s3_attempts=1)
    proxy.add(Rule(match=f"GET /{env.bucket}/orders_data/orders.csv", action="503", times=100))
    process = CliProcess(env.config_path, "--run-all")
    process.wait_for("retrying in 1s")
    process.send(signal.SIGINT)
    result = process.finish()
    print(f"scenario retry backoff SIGINT: exit {result.code} in {result.timing()}")
    assert result.code == 130, result.stderr
    assert result.seconds_after_signal < CANCEL_WITHIN_S, result.seconds_after_signal
    after_cancel = result.stderr.split("cancelling the running stage", 1)[1]
    assert "retrying" not in after_cancel
    assert last_run_status(env) == "cancelled"


def test_ctrl_c_while_a_copy_write_is_blocked_on_a_full_socket(tcp_env):
    env, proxy = tcp_env
    env.set_timeouts(**LONG)
    assert_succeeded(run(env))
    env.put("orders.csv", big_orders())
    stall = warehouse_stalls(proxy, "d2b-console staging", "up", 500_000, times=3)
    process = CliProcess(env.config_path, "--run-all", "--json")
    assert stall.fired.wait(60), process.finish(5).stderr
    process.send(signal.SIGINT)
    result = process.finish()
    print(f"scenario COPY on a full socket SIGINT: exit {result.code} in {result.timing()}")
    assert result.code == 130, result.stderr
    assert result.seconds_after_signal < CANCEL_WITHIN_S, result.seconds_after_signal
    assert statuses(result.stdout) == ["succeeded", "cancelled", "skipped", "skipped"]
    assert orders_count(env) == 3
    # The proxy still holds the server's side open: the console ended its backend there itself.
    assert our_sessions(env) == []
    stall.release.set()
    assert_succeeded(run(env))  # the run lock was released
    assert orders_count(env) == 60_000


def test_ctrl_c_while_the_publication_waits_for_a_lock(env):
    env.set_timeouts(**LONG)
    assert_succeeded(run(env))
    reader = psycopg2.connect(env.pg_uri, application_name="a long report")
    try:
        with reader.cursor() as cur:  # a reader inside a transaction keeps its lock until it ends
            cur.execute(f'SELECT count(*) FROM "{env.user_id}_staging".orders')
        process = CliProcess(env.config_path, "--stage", "staging")
        wait_for_lock_wait(env)
        process.send(signal.SIGINT)
        result = process.finish()
        print(f"scenario lock wait SIGINT: exit {result.code} in {result.timing()}")
    finally:
        reader.close()
    assert result.code == 130, result.stderr
    assert result.seconds_after_signal < CANCEL_WITHIN_S, result.seconds_after_signal
    assert last_run_status(env) == "cancelled"
    assert env.query(
        f"SELECT count(*) FROM pg_tables WHERE schemaname = '{env.user_id}_staging' AND tablename LIKE '%%\\_\\_load%%'"
    ) == [(0,)]


def wait_for_lock_wait(env, within_s: float = 60) -> None:
    """Bounded: until a console session waits for a lock."""
    import time

    deadline = time.monotonic() + within_s
    while not env.query(
        "SELECT 1 FROM pg_stat_activity WHERE application_name = 'd2b-console publish' AND wait_event_type = 'Lock'"
    ):
        assert time.monotonic() < deadline, "the publication never waited for its lock"
        time.sleep(0.05)


@pytest.mark.parametrize("signum, code", [(signal.SIGINT, 130), (signal.SIGHUP, 129)])
def test_a_signal_while_connecting_to_a_silent_warehouse_ends_at_once(make_env, pg_uri, tmp_path, signum, code):
    """The start-up checks end on the first signal, with its own code: not exit 3 after the connect timeout."""
    server = silent_endpoint()
    env = make_env()
    url = f"postgresql://operator@127.0.0.1:{server.getsockname()[1]}/warehouse"
    env.config_path.write_text(env.config_path.read_text().replace(pg_uri, url))
    env.set_timeouts(connect_s=60)
    process = CliProcess(env.config_path, "--run-all", "--json", cwd=tmp_path)
    server.settimeout(60)
    connection, _ = server.accept()  # the console is connecting: its signal handlers are in place
    process.send(signum)
    result = process.finish()
    print(f"scenario connecting to a silent warehouse {signum.name}: exit {result.code} in {result.timing()}")
    connection.close()
    assert result.code == code, result.stderr
    assert result.seconds_after_signal < 3, result.seconds_after_signal
    assert "stopped before the run started: nothing was changed" in result.stderr
    assert json.loads(result.stdout) == {"status": "interrupted", "exit_code": code}


def test_a_second_ctrl_c_stops_at_once(tcp_env):
    """The first Ctrl-C cancels; when the run cannot finish at once, a second one stops it at once."""
    env, proxy = tcp_env
    env.set_timeouts(**LONG)
    assert_succeeded(run(env))
    env.put("orders.csv", big_orders())
    freeze = proxy.add(
        Rule(match="d2b-console staging\x00", action="black-hole", direction="up", after_bytes=500_000, times=3)
    )
    process = CliProcess(env.config_path, "--run-all", "--json")
    assert freeze.fired.wait(60), process.finish(5).stderr
    process.send(signal.SIGINT)
    process.wait_for("cancelling the running stage")
    process.send(signal.SIGINT)
    result = process.finish()
    print(f"scenario second SIGINT on a black hole: exit {result.code} in {result.timing()}")
    assert result.code == 130, result.stderr
    assert result.seconds_after_signal < 3, result.seconds_after_signal
    assert "stopping at once" in result.stderr
    assert json.loads(result.stdout)["exit_code"] == 130
