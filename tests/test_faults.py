"""Faults injected for real against the real services: the pipeline keeps working and loses nothing."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import psycopg2
import pytest

from faultproxy import FaultProxy, Rule
from helpers import assert_succeeded, run
from support import ORDERS_HEADER, Env, create_dims, put_dataset

BIG_ORDERS_ROWS = 60_000  # about 2 MB: several COPY chunks, so faults land mid-transfer


def big_orders(rows: int = BIG_ORDERS_ROWS) -> str:
    return ORDERS_HEADER + "".join(f"{i},1,2022-01-{i % 28 + 1:02d},{i % 3 + 1},10,2,20\n" for i in range(1, rows + 1))


@pytest.fixture
def proxied(make_env, s3_endpoint):
    """An environment whose S3 traffic goes through a fault-injecting proxy, with a valid dataset loaded once."""
    parsed = urlparse(s3_endpoint)
    proxy = FaultProxy(parsed.hostname, parsed.port)
    env = make_env()
    create_dims(env)
    put_dataset(env, [(1, 1, "2022-01-03", 1, 100, 2)], [(5, 1)], [(1, 1, "2022-01-05", None)])
    assert_succeeded(run(env))
    env.config_path.write_text(env.config_path.read_text().replace(s3_endpoint, proxy.url))
    env.put("orders.csv", big_orders())
    yield env, proxy
    proxy.close()


def orders_count(env: Env) -> int:
    count: int = env.query(f'SELECT count(*) FROM "{env.user_id}_staging".orders')[0][0]
    return count


def log_messages(events) -> list[str]:
    return [e.message for e in events if hasattr(e, "message") and hasattr(e, "level")]


def test_connection_cut_mid_object_is_retried_and_the_load_restarts_cleanly(proxied):
    env, proxy = proxied
    cut = proxy.add(Rule(match=f"GET /{env.bucket}/orders_data/orders.csv", action="cut", after_bytes=300_000, times=2))
    events: list[Any] = []
    summary = run(env, ("staging",), sink=events.append)
    assert_succeeded(summary)
    assert cut.hits == 2
    assert orders_count(env) == BIG_ORDERS_ROWS
    retries = [m for m in log_messages(events) if "transient S3 error" in m]
    assert len(retries) == 2 and "nothing was loaded, retrying" in retries[0]


def test_s3_503s_for_a_while_are_retried(proxied):
    env, proxy = proxied
    slow = proxy.add(Rule(match="GET /" + env.bucket + "/orders_data/orders.csv", action="503", times=5))
    summary = run(env, ("staging",))
    assert_succeeded(summary)
    assert slow.hits == 5  # botocore's own retries, then a restart of the file's load
    assert orders_count(env) == BIG_ORDERS_ROWS


def test_after_the_retry_budget_a_clear_error_and_the_table_keeps_its_rows(proxied):
    env, proxy = proxied
    proxy.add(Rule(match=f"GET /{env.bucket}/orders_data/orders.csv", action="cut", after_bytes=300_000, times=100))
    summary = run(env, ("staging",))
    assert summary.status == "failed"
    assert "could not be read after 4 attempts" in (summary.stages[0].error or "")
    assert "orders and the other staging tables keep their previous rows" in (summary.stages[0].error or "")
    assert orders_count(env) == 1


def _terminate(env, application_name: str) -> None:
    env.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = %s", (application_name,))


def _kill_at_first_progress(env, stage: str):
    """(killed, sink): at the stage's first progress event, terminate its warehouse connections."""
    killed: list[bool] = []

    def sink(event):
        if getattr(event, "stage", None) == stage and type(event).__name__ == "StageProgress" and not killed:
            killed.append(True)
            _terminate(env, f"d2b-console {stage}")

    return killed, sink


def test_warehouse_connection_killed_during_copy_then_resume(make_env):
    env = make_env()
    create_dims(env)
    put_dataset(env, [(1, 1, "2022-01-03", 1, 100, 2)], [(5, 1)], [])
    assert_succeeded(run(env))
    env.put("orders.csv", big_orders())
    killed, kill_during_copy = _kill_at_first_progress(env, "staging")
    summary = run(env, sink=kill_during_copy)
    assert killed and summary.stages[1].status == "failed"
    assert "connection" in (summary.stages[1].error or "") or "terminat" in (summary.stages[1].error or "")
    assert orders_count(env) == 1  # nothing half-done is visible
    resumed = run(env, ("staging", "analytics", "export"))
    assert_succeeded(resumed)
    assert orders_count(env) == BIG_ORDERS_ROWS


def test_warehouse_connection_killed_during_analytics_then_resume(env):
    killed, kill_during_analytics = _kill_at_first_progress(env, "analytics")
    summary = run(env, sink=kill_during_analytics)
    assert killed and summary.stages[2].status == "failed"
    # libpq reports the kill as the server's notice or, when the socket closes first (a loaded machine), as a close.
    assert any(said in (summary.stages[2].error or "") for said in ("terminat", "server closed the connection")), (
        summary.stages[2].error
    )
    for table in ("agg_public_holiday", "agg_shipments", "best_performing_product"):
        assert env.query(f'SELECT count(*) FROM "{env.user_id}_analytics".{table}') == [(0,)]
    with env.open() as services:
        from etl_core.pipeline import resume_point

        point = resume_point(services)
        assert point is not None and point[1] == "analytics", point
    assert_succeeded(run(env, ("analytics", "export")))


def start_cli(env, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "tui.launcher", "--config", str(env.config_path), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def history(env: Env) -> list[tuple[Any, ...]]:
    return env.query(f'SELECT run_id, status FROM "{env.user_id}_staging".console_runs ORDER BY run_id')


@pytest.mark.parametrize(
    "where, match, after_bytes",
    [
        ("staging", "GET /{bucket}/orders_data/orders.csv", 300_000),  # mid-object
        ("export", "PUT /{bucket}/analytics_export/", 0),  # the first export's upload
    ],
)
def test_process_killed_mid_stage_next_run_recovers(proxied, where, match, after_bytes):
    env, proxy = proxied
    rule = proxy.add(Rule(match=match.format(bucket=env.bucket), action="hold", after_bytes=after_bytes))
    process = start_cli(env, "--run-all")
    assert rule.fired.wait(60), process.communicate(timeout=5)
    process.send_signal(signal.SIGKILL)
    process.wait(10)
    rule.release.set()
    if where == "export":
        # Small tables go up in one PUT: whatever is at the key is a whole CSV, old or new. A killed
        # export of a large table leaves an incomplete multipart upload, made here as it would be left.
        key = f"analytics_export/{env.user_id}/agg_public_holiday.csv"
        lines = env.s3.get_object(Bucket=env.bucket, Key=key)["Body"].read().decode().splitlines()
        assert lines[0].startswith("ingestion_date,tt_order_hol_jan") and all(l.count(",") == 12 for l in lines)
        env.s3.create_multipart_upload(Bucket=env.bucket, Key=f"analytics_export/{env.user_id}/agg_shipments.csv")
    assert history(env)[-1][1] == "running"

    result = start_cli(env, "--run-all", "--json")
    out, err = result.communicate(timeout=120)
    assert result.returncode == 0, err
    runs = history(env)
    assert runs[-2][1] == "abandoned" and runs[-1][1] == "succeeded"
    assert f"run #{runs[-2][0]} had stopped without finishing: marked abandoned" in err
    assert not env.s3.list_multipart_uploads(Bucket=env.bucket, Prefix="analytics_export/").get("Uploads")
    assert orders_count(env) == BIG_ORDERS_ROWS
    assert len(json.loads(out)["exports"]) == 3


def test_second_run_refuses_at_once_naming_the_first_and_the_lock_dies_with_it(proxied):
    env, proxy = proxied
    hold = proxy.add(Rule(match=f"GET /{env.bucket}/orders_data/orders.csv", action="hold", after_bytes=300_000))
    first = start_cli(env, "--run-all")
    assert hold.fired.wait(60)
    second = start_cli(env, "--run-all")
    _, err = second.communicate(timeout=60)
    assert second.returncode == 1
    assert re.search(rf"run #\d+ \(pid {first.pid} on .*\) is running for user_id {env.user_id}", err), err
    first.send_signal(signal.SIGKILL)
    first.wait(10)
    hold.release.set()
    third = start_cli(env, "--run-all")
    _, err = third.communicate(timeout=120)
    assert third.returncode == 0, err
    assert orders_count(env) == BIG_ORDERS_ROWS


def test_a_run_lock_freed_a_moment_after_the_run_asked_for_it_is_taken(env):
    """A process that just ended leaves a backend that frees its lock a moment later (a failed run, then --resume
    at once): a lock freed within the grace is not another process's, the run goes on."""
    holder = psycopg2.connect(env.pg_uri)
    try:
        holder.autocommit = True
        with holder.cursor() as cur:
            cur.execute("SELECT pg_advisory_lock(hashtextextended(%s, 0))", (f"d2b-console:{env.user_id}",))
        process = start_cli(env, "--run-all")
        deadline = time.monotonic() + 60
        asked = "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'd2b-console run lock'"
        while not env.query(asked)[0][0]:  # the run has asked for the lock, and was refused
            assert time.monotonic() < deadline and process.poll() is None, process.communicate()[1]
            time.sleep(0.02)  # polling the server, bounded by the deadline
    finally:
        holder.close()
    _, err = process.communicate(timeout=120)
    assert process.returncode == 0, err
    assert "is running for user_id" not in err
    assert orders_count(env) > 0


def test_export_to_a_missing_bucket_exits_1_with_no_partial_object(env, s3):
    env.config_path.write_text(env.config_path.read_text().replace('bucket = ""', 'bucket = "missing-export-bucket"'))
    process = start_cli(env, "--run-all", "--json")
    out, err = process.communicate(timeout=120)
    assert process.returncode == 1, err
    summary = json.loads(out)
    assert summary["stages"][-1]["status"] == "failed"
    assert "missing-export-bucket" in summary["stages"][-1]["error"]
    assert summary["analytics"]["agg_shipments"]["tt_late_shipments"] == 1
    assert s3.list_objects_v2(Bucket=env.bucket, Prefix="analytics_export/").get("KeyCount", 0) == 0


def test_export_denied_exits_1_with_no_partial_object(env, s3, s3_endpoint):
    parsed = urlparse(s3_endpoint)
    proxy = FaultProxy(parsed.hostname, parsed.port)
    try:
        env.config_path.write_text(env.config_path.read_text().replace(s3_endpoint, proxy.url))
        denied = proxy.add(Rule(match=f"PUT /{env.bucket}/analytics_export/", action="403", times=100))
        process = start_cli(env, "--run-all", "--json")
        out, err = process.communicate(timeout=120)
    finally:
        proxy.close()
    assert process.returncode == 1, err
    assert denied.fired.is_set()
    export = json.loads(out)["stages"][-1]
    assert export["status"] == "failed"
    assert f"s3://{env.bucket}/analytics_export/" in export["error"] and "AccessDenied" in export["error"], export
    assert "Traceback" not in err
    assert json.loads(out)["analytics"]["agg_shipments"]["tt_late_shipments"] == 1
    assert s3.list_objects_v2(Bucket=env.bucket, Prefix="analytics_export/").get("KeyCount", 0) == 0


def test_embedded_state_survives_sigkill_of_its_owner(tmp_path, monkeypatch):
    repo = Path(__file__).resolve().parents[1]
    (tmp_path / "config.toml").write_text((repo / "config.toml").read_text())
    owner = subprocess.Popen(
        [
            sys.executable,
            "-c",
            (
                "import time, psycopg2\n"
                "from etl_core.config import load_config\n"
                "from etl_core.services import open_services\n"
                "s = open_services(load_config('config.toml'))\n"
                "s.s3().put_object(Bucket='d2b-internal-assessment-bucket', Key='notes/a.txt', Body=b'kept')\n"
                "c = s.connect(); c.cursor().execute('CREATE TABLE public.marker (x int)'); c.commit()\n"
                "print('READY', flush=True)\n"
                "time.sleep(120)\n"
            ),
        ],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert owner.stdout is not None
    assert owner.stdout.readline().strip() == "READY"
    owner.send_signal(signal.SIGKILL)
    owner.wait(10)
    result = subprocess.run(
        [sys.executable, "-m", "tui.launcher", "--run-all", "--json"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode == 0, result.stderr
    from etl_core.config import load_config
    from etl_core.services import open_services

    monkeypatch.chdir(tmp_path)  # given back after the test: its folder is removed once it passed
    with open_services(load_config("config.toml")) as services:
        body = services.s3().get_object(Bucket="d2b-internal-assessment-bucket", Key="notes/a.txt")["Body"].read()
        conn = services.connect()
        with conn.cursor() as cur:
            cur.execute("SELECT to_regclass('public.marker') IS NOT NULL")
            assert cur.fetchone()[0]
        conn.close()
    assert body == b"kept"
    # The killed owner no longer keeps the embedded Postgres alive: the last run stopped it.
    assert not (tmp_path / ".d2b-state" / "pg" / "postmaster.pid").exists()


def test_damaged_embedded_postgres_says_what_to_do(tmp_path):
    repo = Path(__file__).resolve().parents[1]
    (tmp_path / "config.toml").write_text((repo / "config.toml").read_text())
    (tmp_path / ".d2b-state" / "pg").mkdir(parents=True)
    (tmp_path / ".d2b-state" / "pg" / "PG_VERSION").write_text("garbage\n")
    result = subprocess.run(
        [sys.executable, "-m", "tui.launcher", "--run-all"], cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 3
    assert "could not start" in result.stderr and "move it aside" in result.stderr
    assert "Traceback" not in result.stderr


def test_cancel_during_staging_keeps_previous_rows_and_skips_the_rest(proxied):
    from etl_core.events import CancelToken, StageProgress

    env, _proxy = proxied
    cancel = CancelToken()

    def cancel_mid_copy(event):
        if isinstance(event, StageProgress) and event.stage == "staging":
            cancel.cancel()

    summary = run(env, sink=cancel_mid_copy, cancel=cancel)
    assert summary.status == "cancelled"
    assert [s.status for s in summary.stages] == ["succeeded", "cancelled", "skipped", "skipped"]
    assert orders_count(env) == 1


def test_ctrl_c_cancels_the_running_stage_and_exits_130(proxied):
    env, proxy = proxied
    hold = proxy.add(Rule(match=f"GET /{env.bucket}/orders_data/orders.csv", action="hold", after_bytes=300_000))
    process = start_cli(env, "--run-all", "--json")
    assert hold.fired.wait(60)
    process.send_signal(signal.SIGINT)
    hold.release.set()  # the held connection drops; the cancelled load must not be retried
    out, err = process.communicate(timeout=60)
    assert process.returncode == 130, err
    assert "cancelling the running stage" in err
    assert [s["status"] for s in json.loads(out)["stages"]][1:] == ["cancelled", "skipped", "skipped"]
    assert orders_count(env) == 1
    assert history(env)[-1][1] == "cancelled"


def test_resume_point_moves_past_stages_retried_since_the_failure(env):
    from etl_core.pipeline import resume_point

    env.put("orders.csv", "order_id\n1\n")
    assert run(env).stages[1].status == "failed"
    put_dataset(env, [(1, 1, "2022-03-01", 1, 10, 1)], [(5, 1)], [])
    assert_succeeded(run(env, ("staging",)))  # the operator retried the failed stage alone
    with env.open() as services:
        point = resume_point(services)
        assert point is not None and point[1] == "analytics", point
    assert_succeeded(run(env, ("analytics", "export")))
    with env.open() as services:
        assert resume_point(services) is None
