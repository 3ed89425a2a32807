"""Resume that is right: abandoned runs are marked first, the newest run that did not succeed is resumed,
from its first stage that did not succeed, even when it was killed mid-stage or its history was lost."""

from __future__ import annotations

import json
import signal
from typing import Any

import pytest

from cli_process import CliProcess
from etl_core.events import Event, StageFinished
from etl_core.history import HistoryLost
from etl_core.pipeline import resume_point
from faultproxy import Rule
from helpers import assert_succeeded, run
from support import Env, put_small_dataset


def run_statuses(env: Env) -> list[tuple[Any, ...]]:
    return env.query(f'SELECT run_id, status FROM "{env.user_id}_staging".console_runs ORDER BY run_id')


def kill_mid_staging(env, proxy) -> None:
    hold = proxy.add(Rule(match=f"GET /{env.bucket}/orders_data/orders.csv", action="hold", after_bytes=300_000))
    process = CliProcess(env.config_path, "--run-all")
    assert hold.fired.wait(60), process.finish(5).stderr
    process.send(signal.SIGKILL)
    process.finish()
    hold.release.set()


def test_resume_after_kill_9_mid_stage_resumes_that_stage(s3_proxied):
    env, proxy = s3_proxied
    kill_mid_staging(env, proxy)
    killed = run_statuses(env)[-1]
    assert killed[1] == "running"
    result = CliProcess(env.config_path, "--resume", "--json").finish()
    assert result.code == 0, result.stderr
    assert f"run #{killed[0]} had stopped without finishing: marked abandoned" in result.stderr
    assert f"resuming run #{killed[0]} from stage staging" in result.stderr
    summary = json.loads(result.stdout)
    assert [(s["stage"], s["status"]) for s in summary["stages"]] == [
        ("staging", "succeeded"),
        ("analytics", "succeeded"),
        ("export", "succeeded"),
    ]
    assert run_statuses(env)[-2] == (killed[0], "abandoned")


def test_the_newest_run_that_did_not_succeed_is_resumed_not_an_older_failure(s3_proxied):
    env, proxy = s3_proxied
    env.config_path.write_text(env.config_path.read_text().replace('bucket = ""', 'bucket = "missing-export-bucket"'))
    older = run(env)
    assert [s.status for s in older.stages] == ["succeeded", "succeeded", "succeeded", "failed"]
    env.config_path.write_text(env.config_path.read_text().replace('bucket = "missing-export-bucket"', 'bucket = ""'))
    kill_mid_staging(env, proxy)
    newest = run_statuses(env)[-1][0]
    with env.open() as services:
        assert resume_point(services) == (newest, "staging")


def test_a_run_whose_history_could_not_be_written_stops_and_is_resumed(env, pg_uri):
    assert_succeeded(run(env))
    # The run works as a role of its own, so that the test can end its sessions and refuse it new ones.
    role = f"op_{env.user_id}"
    env.execute(
        f'CREATE ROLE "{role}" LOGIN; GRANT ALL ON SCHEMA "{env.user_id}_staging", "{env.user_id}_analytics" '
        f'TO "{role}"; GRANT ALL ON ALL TABLES IN SCHEMA "{env.user_id}_staging", "{env.user_id}_analytics" TO '
        f'"{role}"; GRANT ALL ON ALL SEQUENCES IN SCHEMA "{env.user_id}_staging" TO "{role}"; '
        f'GRANT USAGE ON SCHEMA "{env.dims_schema}" TO "{role}"; '
        f'GRANT SELECT ON ALL TABLES IN SCHEMA "{env.dims_schema}" TO "{role}"'
    )
    for table in ("orders", "reviews", "shipment_deliveries", "console_runs", "console_stage_runs"):
        env.execute(f'ALTER TABLE "{env.user_id}_staging".{table} OWNER TO "{role}"')
    env.execute(f'ALTER SCHEMA "{env.user_id}_staging" OWNER TO "{role}"')
    env.config_path.write_text(env.config_path.read_text().replace(pg_uri, pg_uri.replace("postgres:@", f"{role}:@")))

    def lose_the_warehouse(event):
        if type(event).__name__ == "StageProgress" and event.stage == "staging" and not lost:
            lost.append(True)  # every session of the run, the run lock's (which writes the history) too
            env.execute(f'ALTER ROLE "{role}" NOLOGIN')  # and no fresh connection can write it either
            env.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = %s", (role,))

    lost: list[bool] = []
    events: list[Any] = []

    def record_and_lose(event: Event) -> None:
        events.append(event)
        lose_the_warehouse(event)

    try:
        with pytest.raises(HistoryLost, match=r"that records run #\d+ and holds its run lock was lost") as stopped:
            run(env, sink=record_and_lose)
    finally:
        env.execute(f'ALTER ROLE "{role}" LOGIN')
    run_id = events[0].run_id
    assert lost and f"run #{run_id}" in str(stopped.value)
    assert [e.result.status for e in events if isinstance(e, StageFinished)][-1] == "failed"
    assert run_statuses(env)[-1] == (run_id, "running")  # what the history says: nothing could be written
    messages: list[str] = []
    with env.open() as services:
        assert resume_point(services, log=messages.append) == (run_id, "staging")
    # Not "abandoned": the run kept its outcome beside its log, and the next one records it.
    assert messages == []
    staging_error = next(e.result.error for e in events if isinstance(e, StageFinished) and e.result.stage == "staging")
    assert env.query(
        f'SELECT status, error FROM "{env.user_id}_staging".console_runs WHERE run_id = %s', (run_id,)
    ) == [("failed", staging_error)]
    assert env.query(
        f'SELECT status FROM "{env.user_id}_staging".console_stage_runs WHERE run_id = %s AND stage = %s',
        (run_id, "staging"),
    ) == [("failed",)]


def test_nothing_to_resume_after_every_stage_succeeded_since(env):
    env.put("orders.csv", "order_id\n1\n")
    assert run(env).stages[1].status == "failed"
    put_small_dataset(env)
    assert_succeeded(run(env))
    with env.open() as services:
        assert resume_point(services) is None
