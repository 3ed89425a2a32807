"""A warehouse path that freezes, at every point of a run: nothing waits forever, in any network state.

Three faults of the proxy (tests/faultproxy.py) between a real `d2b-console` and a PostgreSQL 15:
- "never-close": a connection stops forwarding and no close ever passes again, on any connection
  (the path on which libpq's PQcancel, holding the GIL, froze the whole process);
- "black-hole": every connection, new ones included, stops forwarding: nothing answers at all;
- "sink": the warehouse completes a session's authentication, then swallows every byte.
Each at start (the first statement of the set-up connection), mid-COPY, in analytics (a new
connection's first statement) and mid-export. Without a signal the run ends as a stall, exit 1,
within `warehouse_stall_s` + 10 s; with one, it ends with the signal's code within 5 s. Afterwards
the history says what happened, and once the path heals the next run works.
"""

from __future__ import annotations

import json
import signal
from typing import Any

import pytest

from cli_process import CliProcess
from faultproxy import Rule
from helpers import assert_succeeded, run
from network_faults import our_sessions, silent_endpoint
from support import big_orders

pytest_plugins = ["aws_s3_double.fixtures"]  # the session's PostgreSQL 15 (`pg15`)

STALL_S = 2
SIGNAL_STALL_S = 60  # with a signal: only the cancel may end the run quickly
CANCEL_WITHIN_S = 5
MODES = ("never-close", "black-hole", "sink")
# Where the fault starts: the connection (by application name) and how far into it.
POINTS: dict[str, dict[str, Any]] = {
    "start": {"match": "d2b-console setup\x00", "direction": "up", "after_bytes": 0, "after_auth": True},
    "copy": {"match": "d2b-console staging\x00", "direction": "up", "after_bytes": 500_000, "times": 3},
    "analytics": {"match": "d2b-console analytics\x00", "direction": "up", "after_bytes": 0, "after_auth": True},
    "export": {"match": "d2b-console export\x00", "direction": "down", "after_bytes": 1_000_000},
}
ACTIVITY = {
    "start": "working on the setup connection",
    # Three files load at once and a black hole stalls them all: whichever the watchdog names first.
    "copy": "while loading s3://{bucket}/orders_data/",
    "analytics": "while computing {user_id}_analytics.",
    "export": "while exporting {user_id}_analytics.agg_shipments to s3://{bucket}/analytics_export/",
}
SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
CODES = {signal.SIGINT: 130, signal.SIGTERM: 143, signal.SIGHUP: 129}


def runs(env) -> list[tuple[int, str, str | None]]:
    table = f'"{env.user_id}_staging".console_runs'
    if env.query("SELECT to_regclass(%s) IS NULL", (table,))[0][0]:
        return []
    rows: list[tuple[int, str, str | None]] = env.query(f"SELECT run_id, status, error FROM {table} ORDER BY run_id")
    return rows


def start_frozen(env, proxy, mode: str, point: str) -> tuple[CliProcess, Rule, int]:
    """The run started with the fault armed; (process, rule, number of runs recorded before)."""
    if point in ("export", "analytics"):
        assert_succeeded(run(env))
    if point == "export":
        # A long history of daily rows makes agg_shipments' COPY a few MB, so the fault lands inside it.
        env.execute(
            f'INSERT INTO "{env.user_id}_analytics".agg_shipments '
            "SELECT DATE '1000-01-01' + g, g, g FROM generate_series(1, 150000) AS g"
        )
    if point == "copy":
        env.put("orders.csv", big_orders())
    before = len(runs(env))
    settings = dict(POINTS[point])
    if mode == "sink" and point != "copy":
        settings["after_bytes"] = 0  # a sink acts on what the console sends: its first statement
    rule = proxy.add(Rule(action=mode, **settings))
    stages = ("--stage", "export") if point == "export" else ("--run-all",)
    return CliProcess(env.config_path, *stages, "--json"), rule, before


def after_the_path_heals(env, proxy, before: int) -> list[tuple[int, str, str | None]]:
    """Heal the path; the frozen run's history rows once the next run has run (it records a run whose outcome
    the history could not take, behind a black hole, from the copy kept beside the run's log)."""
    proxy.heal()
    assert our_sessions(env) == []  # the server ended every session of the frozen run
    assert_succeeded(run(env))
    return runs(env)[before:-1]


@pytest.mark.parametrize("point", POINTS)
@pytest.mark.parametrize("mode", MODES)
def test_a_frozen_warehouse_path_ends_the_run_as_a_stall(tcp_env, mode, point):
    env, proxy = tcp_env
    env.set_timeouts(warehouse_stall_s=STALL_S)
    process, rule, before = start_frozen(env, proxy, mode, point)
    try:
        assert rule.fired.wait(60), process.finish(5).stderr
        process.mark()  # measured from the fault
        result = process.finish(timeout=STALL_S + 60)
    finally:
        process.kill()
    print(f"scenario {mode} {point}: exit {result.code} in {result.timing()}")  # for the note
    assert result.code == 1, result.stderr
    assert result.seconds_after_signal < STALL_S + 10, result.seconds_after_signal
    activity = ACTIVITY[point].format(bucket=env.bucket, user_id=env.user_id)
    if mode == "sink" and point == "export":
        activity = "while checking the analytics tables"  # the export's first statement is swallowed
    assert f"no answer from warehouse postgresql://postgres@127.0.0.1:{proxy.port}/" in result.stderr
    assert activity in result.stderr, result.stderr
    assert "Traceback" not in result.stderr
    assert json.loads(result.stdout)["exit_code"] == 1
    if mode != "black-hole":  # the stalled session was ended on the server (the black hole reaches nothing)
        stalled = POINTS[point]["match"].rstrip("\x00")
        left = [s for s in our_sessions(env, within_s=5) if s[0] == stalled]
        assert not left, (left, result.stderr)
    frozen = after_the_path_heals(env, proxy, before)
    if point == "start":
        assert frozen == []  # stopped before a run was recorded
    else:
        # Recorded as it happened (behind a black hole, by the next run): failed, with the stall as its reason.
        assert [status for _id, status, _e in frozen] == ["failed"], frozen
        assert activity in (frozen[0][2] or ""), frozen


@pytest.mark.parametrize(
    "mode, point, signum",
    [
        pytest.param(mode, point, SIGNALS[i % 3], id=f"{mode}-{point}-{SIGNALS[i % 3].name}")
        for i, (mode, point) in enumerate((m, p) for m in MODES for p in POINTS)
    ],
)
def test_a_signal_ends_a_run_on_a_frozen_warehouse_path(tcp_env, mode, point, signum):
    env, proxy = tcp_env
    env.set_timeouts(warehouse_stall_s=SIGNAL_STALL_S)
    process, rule, before = start_frozen(env, proxy, mode, point)
    try:
        assert rule.fired.wait(60), process.finish(5).stderr
        process.send(signum)
        result = process.finish(timeout=60)
    finally:
        process.kill()
    print(f"scenario {mode} {point} {signum.name}: exit {result.code} in {result.timing()}")
    assert result.code == CODES[signum], result.stderr
    assert result.seconds_after_signal < CANCEL_WITHIN_S, result.seconds_after_signal
    assert "Traceback" not in result.stderr
    assert json.loads(result.stdout)["exit_code"] == CODES[signum]
    proxy.heal()
    if point == "start":
        return  # stopped before a run was recorded
    if mode == "black-hole":  # nothing could be written there: the next run records what the run kept
        assert_succeeded(run(env))
        assert [status for _id, status, _e in runs(env)[before:-1]] == ["cancelled"]
    else:
        assert [status for _id, status, _e in runs(env)[before:]] == ["cancelled"]


def test_sigterm_after_an_export_failed_on_a_swallowing_warehouse(tcp_env):
    """The export stalls on a warehouse session that authenticates, then swallows every byte, and fails; a
    SIGTERM then, while the run winds up on a connection swallowed too (the dimensions it describes for
    --json), ends it with 143 within 5 s (it once took 14 s and exited 1). Once the warehouse answers
    again, the history says the run failed, with the stall as its reason."""
    env, proxy = tcp_env
    env.set_timeouts(warehouse_stall_s=4)  # the wind-up's swallowed call lasts that long at least
    assert_succeeded(run(env))
    before = len(runs(env))
    proxy.add(Rule(match="d2b-console export\x00", action="sink"))
    process = CliProcess(env.config_path, "--stage", "export", "--json")
    try:
        process.wait_for("[export] started", timeout=60)  # the run described its dimensions at its start
        proxy.add(Rule(match="d2b-console dimensions\x00", action="sink"))  # and cannot at its end
        process.wait_for("[export] failed", timeout=60)
        process.send(signal.SIGTERM)
        result = process.finish(timeout=60)
    finally:
        process.kill()
    print(f"scenario SIGTERM after the export failed on a sink: exit {result.code} in {result.timing()}")
    assert result.code == 143, result.stderr
    assert result.seconds_after_signal < CANCEL_WITHIN_S, result.seconds_after_signal
    assert "while checking the analytics tables" in result.stderr  # the export's first statement was swallowed
    assert "Traceback" not in result.stderr
    assert json.loads(result.stdout)["exit_code"] == 143
    proxy.heal()
    assert_succeeded(run(env))
    [(_id, status, error)] = runs(env)[before:-1]
    assert status == "failed" and "while checking the analytics tables" in (error or ""), (status, error)


S3_READ_S = 2
# An S3 path that stops forwarding and never passes a close: mid-read, mid-upload.
S3_FAULTS: dict[str, dict[str, Any]] = {
    "read": {"match": "GET /{bucket}/orders_data/orders.csv", "direction": "down", "after_bytes": 300_000},
    "upload": {"match": "PUT /{bucket}/analytics_export/", "direction": "up", "after_bytes": 100},
}
S3_ACTIVITY = {
    "read": "for 2s while reading s3://{bucket}/orders_data/orders.csv",
    "upload": "for 2s while writing s3://{bucket}/analytics_export/",
}


@pytest.mark.parametrize(
    "fault, signum", [("read", None), ("read", signal.SIGHUP), ("upload", None), ("upload", signal.SIGTERM)]
)
def test_an_s3_path_that_never_closes_ends_the_run(s3_proxied, fault, signum):
    env, proxy = s3_proxied
    env.set_timeouts(s3_read_s=S3_READ_S if signum is None else 120, s3_attempts=1, warehouse_stall_s=60)
    settings = dict(S3_FAULTS[fault], match=S3_FAULTS[fault]["match"].format(bucket=env.bucket), times=10)
    rule = proxy.add(Rule(action="never-close", **settings))
    process = CliProcess(env.config_path, "--run-all", "--json")
    try:
        assert rule.fired.wait(60), [r[:80] for r in proxy.requests]
        if signum is None:
            process.mark()  # measured from the fault
        else:
            process.send(signum)
        result = process.finish(timeout=60)
    finally:
        process.kill()
    label = f"{fault} {signum.name if signum else 'no signal'}"
    print(f"scenario S3 never-close {label}: exit {result.code} in {result.timing()}")
    assert "Traceback" not in result.stderr
    if signum is None:
        assert result.code == 1, result.stderr
        assert result.seconds_after_signal < S3_READ_S + 10, result.seconds_after_signal
        said = f"no answer from S3 endpoint {proxy.url} " + S3_ACTIVITY[fault].format(bucket=env.bucket)
        assert said in result.stderr, result.stderr
        assert runs(env)[-1][1] == "failed"
    else:
        assert result.code == CODES[signum], result.stderr
        assert result.seconds_after_signal < CANCEL_WITHIN_S, result.seconds_after_signal
        assert runs(env)[-1][1] == "cancelled"
    proxy.heal()
    assert_succeeded(run(env))


def test_sighup_during_the_s3_check_ends_at_once(make_env, s3_endpoint, tmp_path):
    server = silent_endpoint()
    env = make_env()
    endpoint = f"http://127.0.0.1:{server.getsockname()[1]}"
    env.config_path.write_text(env.config_path.read_text().replace(s3_endpoint, endpoint))
    process = CliProcess(env.config_path, "--run-all", "--json", cwd=tmp_path)
    server.settimeout(60)
    connection, _ = server.accept()  # the console is checking S3: its signal handlers are in place
    process.send(signal.SIGHUP)
    result = process.finish()
    connection.close()
    print(f"scenario S3 check SIGHUP: exit {result.code} in {result.timing()}")
    assert result.code == 129, result.stderr
    assert result.seconds_after_signal < 3, result.seconds_after_signal
    assert json.loads(result.stdout) == {"status": "interrupted", "exit_code": 129}
