"""OpenLineage events, the failure webhook and the metrics file, against the real services and real HTTP."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from http_recorder import Recorder, Silent, closed_port_url
from openlineage_schema import validate_event
from prometheus_client.parser import text_string_to_metric_families

from etl_core.events import CancelToken, Event, StageFinished
from etl_core.pipeline import run_pipeline
from support import Env, put_dataset

STAGES = ("prepare", "staging", "analytics", "export")
SLACK_TOKEN = "T0001/B0002/sEcReTtOkEn42"  # the secret part of a Slack webhook URL


@pytest.fixture(autouse=True)
def openlineage_environment() -> Iterator[None]:
    """OpenLineage's client copies OPENLINEAGE_URL into OPENLINEAGE__TRANSPORT__* variables: undo that."""
    before = {k: v for k, v in os.environ.items() if k.startswith("OPENLINEAGE")}
    yield
    for key in [k for k in os.environ if k.startswith("OPENLINEAGE")]:
        del os.environ[key]
    os.environ.update(before)


@pytest.fixture
def recorder() -> Iterator[Recorder]:
    server = Recorder()
    yield server
    server.close()


@pytest.fixture
def lineage_to(monkeypatch: pytest.MonkeyPatch, recorder: Recorder) -> Recorder:
    for key in ("OPENLINEAGE_DISABLED", "OPENLINEAGE_CONFIG", "OPENLINEAGE_NAMESPACE"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("OPENLINEAGE_URL", recorder.url)
    return recorder


def add_config(env: Env, text: str) -> None:
    env.config_path.write_text(env.config_path.read_text() + "\n" + text + "\n")


def run(env: Env, cancel: CancelToken | None = None, sink: Any = None) -> Any:
    with env.open() as services:
        return run_pipeline(services, cancel=cancel, sink=sink or (lambda _e: None))


def lineage_run_id(env: Env, run_id: int) -> str:
    return str(
        env.query(f"SELECT lineage_run_id FROM {env.user_id}_staging.console_runs WHERE run_id = %s", (run_id,))[0][0]
    )


def by_job(events: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    jobs: dict[str, list[dict[str, Any]]] = {}
    for event in events:
        jobs.setdefault(event["job"]["name"], []).append(event)
    return jobs


def test_a_successful_run_emits_valid_events_for_the_run_and_each_stage(env: Env, lineage_to: Recorder):
    summary = run(env)
    assert summary.status == "succeeded"
    events = lineage_to.bodies()
    assert {path for path, _ in lineage_to.posts} == {"/api/v1/lineage"}
    for event in events:
        validate_event(event)

    jobs = by_job(events)
    run_job = f"d2b.{env.user_id}"
    assert set(jobs) == {run_job} | {f"{run_job}.{stage}" for stage in STAGES}
    run_uuid = lineage_run_id(env, summary.run_id)
    assert [e["eventType"] for e in jobs[run_job]] == ["START", "COMPLETE"]
    assert {e["run"]["runId"] for e in jobs[run_job]} == {run_uuid}
    assert {e["job"]["namespace"] for e in events} == {"d2b"}
    for stage in STAGES:
        stage_events = jobs[f"{run_job}.{stage}"]
        assert [e["eventType"] for e in stage_events] == ["START", "COMPLETE"], stage
        assert len({e["run"]["runId"] for e in stage_events}) == 1
        assert stage_events[0]["run"]["runId"] != run_uuid
        parent = stage_events[0]["run"]["facets"]["parent"]
        assert parent["run"]["runId"] == run_uuid
        assert (parent["job"]["namespace"], parent["job"]["name"]) == ("d2b", run_job)

    staging = jobs[f"{run_job}.staging"][-1]
    rows = {t: d["rows"] for t, d in summary.stages[1].details.items()}
    inputs = {i["name"]: i for i in staging["inputs"]}
    assert set(inputs) == {
        "orders_data/orders.csv",
        "orders_data/reviews.csv",
        "orders_data/shipment_deliveries.csv",
    }
    assert {i["namespace"] for i in staging["inputs"]} == {f"s3://{env.bucket}"}
    assert inputs["orders_data/orders.csv"]["inputFacets"]["dataQualityMetrics"]["rowCount"] == rows["orders"]
    assert inputs["orders_data/orders.csv"]["inputFacets"]["dataQualityMetrics"]["bytes"] > 0
    outputs = {o["name"].split(".", 1)[1]: o for o in staging["outputs"]}
    assert set(outputs) == {f"{env.user_id}_staging.{t}" for t in ("orders", "reviews", "shipment_deliveries")}
    orders_out = outputs[f"{env.user_id}_staging.orders"]
    assert orders_out["namespace"].startswith("postgres://") and "@" not in orders_out["namespace"]
    assert orders_out["outputFacets"]["outputStatistics"]["rowCount"] == rows["orders"]
    assert [f["name"] for f in orders_out["facets"]["schema"]["fields"]][:3] == [
        "order_id",
        "customer_id",
        "order_date",
    ]

    analytics = jobs[f"{run_job}.analytics"][-1]
    assert f"{env.user_id}_staging.orders" in analytics["job"]["facets"]["sql"]["query"]
    shipments = next(o for o in analytics["outputs"] if o["name"].endswith("_analytics.agg_shipments"))
    late = shipments["facets"]["columnLineage"]["fields"]["tt_late_shipments"]["inputFields"]
    assert {(f["name"].split(".", 1)[1], f["field"]) for f in late} >= {
        (f"{env.user_id}_staging.shipment_deliveries", "shipment_date"),
        (f"{env.user_id}_staging.orders", "order_date"),
    }

    export = jobs[f"{run_job}.export"][-1]
    exported = summary.stages[3].details
    assert {o["name"] for o in export["outputs"]} == {d["key"] for d in exported.values()}
    assert all(o["outputFacets"]["outputStatistics"]["size"] > 0 for o in export["outputs"])
    # The run's end names everything its stages read and wrote.
    assert {i["name"] for i in jobs[run_job][-1]["inputs"]} >= set(inputs)
    assert {o["name"] for o in jobs[run_job][-1]["outputs"]} >= {d["key"] for d in exported.values()}


def test_a_failed_run_fails_with_its_error_and_a_cancelled_one_aborts(env: Env, lineage_to: Recorder):
    env.put(
        "orders.csv",
        "order_id,customer_id,order_date,product_id,unit_price,quantity,total_price\n1,1,5 Sep 22,1,1,1,1\n",
    )
    failed = run(env)
    assert failed.status == "failed"
    events = lineage_to.bodies()
    for event in events:
        validate_event(event)
    jobs = by_job(events)
    run_job = f"d2b.{env.user_id}"
    assert [e["eventType"] for e in jobs[run_job]] == ["START", "FAIL"]
    assert "5 Sep 22" in jobs[run_job][-1]["run"]["facets"]["errorMessage"]["message"]
    assert [e["eventType"] for e in jobs[f"{run_job}.staging"]] == ["START", "FAIL"]
    assert jobs[f"{run_job}.staging"][-1]["run"]["facets"]["errorMessage"]["programmingLanguage"] == "python"
    assert f"{run_job}.analytics" not in jobs  # skipped stages never started: no events

    lineage_to.posts.clear()
    token = CancelToken()
    token.cancel()
    cancelled = run(env, cancel=token)
    assert cancelled.status == "cancelled"
    jobs = by_job(lineage_to.bodies())
    assert [e["eventType"] for e in jobs[run_job]] == ["START", "ABORT"]
    assert lineage_run_id(env, cancelled.run_id) != lineage_run_id(env, failed.run_id)


@pytest.mark.parametrize("backend", ["refused", "silent"])
def test_a_lineage_backend_down_or_silent_delays_a_run_by_at_most_5s_and_changes_nothing(
    env: Env, monkeypatch: pytest.MonkeyPatch, backend: str
):
    silent = Silent() if backend == "silent" else None
    monkeypatch.setenv("OPENLINEAGE_URL", silent.url if silent else closed_port_url())
    last_stage_end: list[float] = []

    def sink(event: Event) -> None:
        if isinstance(event, StageFinished) and event.result.stage == "export":
            last_stage_end.append(time.monotonic())

    try:
        summary = run(env, sink=sink)
        returned = time.monotonic()
    finally:
        if silent:
            silent.close()
    assert summary.status == "succeeded"
    assert returned - last_stage_end[0] < 5 + 3  # the 5 s budget, and room for a busy machine
    log = Path(summary.log_file).read_text()
    assert "OpenLineage:" in log and "events not delivered" in log


def test_without_configuration_or_when_disabled_nothing_is_sent_or_printed(
    env: Env, monkeypatch: pytest.MonkeyPatch, recorder: Recorder, capfd: pytest.CaptureFixture[str]
):
    for key in ("OPENLINEAGE_URL", "OPENLINEAGE_CONFIG", "OPENLINEAGE__TRANSPORT__TYPE"):
        monkeypatch.delenv(key, raising=False)
    assert run(env).status == "succeeded"
    monkeypatch.setenv("OPENLINEAGE_URL", recorder.url)
    monkeypatch.setenv("OPENLINEAGE_DISABLED", "true")
    summary = run(env)
    assert summary.status == "succeeded"
    assert recorder.posts == []
    out, err = capfd.readouterr()
    assert "lineage" not in (out + err).lower()
    assert "OpenLineage" not in Path(summary.log_file).read_text()


def headless(env: Env, cwd: Path, environment: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """`d2b-console ARGS` as a scheduler runs it, with `environment` added to ours."""
    return subprocess.run(
        [sys.executable, "-m", "tui.launcher", *args, "--config", str(env.config_path)],
        cwd=cwd,
        env={**os.environ, **environment},
        capture_output=True,
        text=True,
        timeout=300,
    )


def webhook_url(recorder_url: str) -> str:
    return f"{recorder_url}/services/{SLACK_TOKEN}"


def test_a_failed_run_posts_to_the_webhook_with_its_fields(
    env: Env, monkeypatch: pytest.MonkeyPatch, recorder: Recorder
):
    monkeypatch.setenv("D2B_NOTIFY_URL", webhook_url(recorder.url))
    assert run(env).status == "succeeded"
    assert recorder.posts == []  # by default only failures are sent
    env.put("orders.csv", "order_id,customer_id\n1,1\n")
    summary = run(env)
    assert summary.status == "failed"
    [(path, body)] = recorder.posts
    assert path == f"/services/{SLACK_TOKEN}"
    assert body["text"].startswith(f"d2b-console run #{summary.run_id} failed for {env.user_id}: staging: ")
    assert body["run_id"] == summary.run_id and body["status"] == "failed" and body["failed_stage"] == "staging"
    assert body["user_id"] == env.user_id and body["ingestion_date"] == summary.ingestion_date
    assert body["log_path"] == summary.log_file and body["warehouse"] == "embedded Postgres" or body["warehouse"]
    assert "orders.csv" in body["error"]


def test_warnings_are_sent_when_asked_and_a_failing_webhook_is_retried_once_and_never_named(
    env: Env, monkeypatch: pytest.MonkeyPatch
):
    failing = Recorder(status=503)
    monkeypatch.setenv("D2B_NOTIFY_URL", webhook_url(failing.url))
    add_config(env, '[notify]\non = ["failure", "warning"]')
    put_dataset(  # product 99 is not in dim_products: the WARN check orders_product_known does not pass
        env,
        orders=[(1, 1, "2022-01-03", 99, 100, 2)],
        reviews=[(5, 1)],
        shipments=[(1, 1, "2022-01-05", "2022-01-07")],
    )
    try:
        summary = run(env)
    finally:
        failing.close()
    assert summary.status == "succeeded"
    bodies = failing.bodies()
    assert len(bodies) == 2  # one retry
    assert bodies[0]["kind"] == "warning" and "orders_product_known" in bodies[0]["checks_not_passed"]
    log = Path(summary.log_file).read_text()
    assert "notification not delivered: the webhook in D2B_NOTIFY_URL answered HTTP 503" in log
    assert SLACK_TOKEN not in log and failing.url not in log


def test_a_silent_webhook_is_bounded(env: Env, monkeypatch: pytest.MonkeyPatch):
    silent = Silent()
    monkeypatch.setenv("D2B_NOTIFY_URL", webhook_url(silent.url))
    env.put("orders.csv", "order_id,customer_id\n1,1\n")
    started = time.monotonic()
    try:
        summary = run(env)
    finally:
        silent.close()
    assert summary.status == "failed"
    assert time.monotonic() - started < 5 + 20  # the run itself, plus the 5 s budget
    log = Path(summary.log_file).read_text()
    assert "notification not delivered: the webhook in D2B_NOTIFY_URL" in log and SLACK_TOKEN not in log


def metrics_of(path: Path) -> dict[str, list[tuple[dict[str, str], float]]]:
    return {
        family.name: [(sample.labels, sample.value) for sample in family.samples]
        for family in text_string_to_metric_families(path.read_text())
    }


def test_the_metrics_file_after_a_success_and_after_a_failure(env: Env, tmp_path: Path):
    path = tmp_path / "textfile" / "d2b.prom"
    add_config(env, f'[metrics]\ntextfile = "{path}"')
    before = time.time()
    ok = run(env)
    assert ok.status == "succeeded"
    metrics = metrics_of(path)
    user = {"user_id": env.user_id}
    [(labels, last_success)] = metrics["d2b_last_success_timestamp_seconds"]
    assert labels == user and before <= last_success <= time.time()
    assert metrics["d2b_last_run_timestamp_seconds"] == [(user, last_success)]
    assert {s["status"]: v for s, v in metrics["d2b_last_run_status"]} == {"succeeded": 1, "failed": 0, "cancelled": 0}
    assert {s["stage"] for s, _ in metrics["d2b_stage_duration_seconds"]} == set(STAGES)
    loaded = {s["table"]: v for s, v in metrics["d2b_rows_loaded"]}
    assert loaded == {t: d["rows"] for t, d in ok.stages[1].details.items()}
    assert {s["severity"]: v for s, v in metrics["d2b_checks_not_passed"]} == {"ERROR": 0, "WARN": 0}
    assert all(s["user_id"] == env.user_id for samples in metrics.values() for s, _ in samples)

    env.put("orders.csv", "order_id,customer_id\n1,1\n")
    assert run(env).status == "failed"
    after = metrics_of(path)
    assert after["d2b_last_success_timestamp_seconds"] == [(user, last_success)]  # kept from the success
    assert after["d2b_last_run_timestamp_seconds"][0][1] > last_success
    assert {s["status"]: v for s, v in after["d2b_last_run_status"]}["failed"] == 1
    assert list(path.parent.iterdir()) == [path]  # the temporary file was renamed, none left behind


def test_an_unwritable_metrics_file_is_a_warning(env: Env, tmp_path: Path):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    add_config(env, f'[metrics]\ntextfile = "{blocker}/d2b.prom"')
    summary = run(env)
    assert summary.status == "succeeded"
    assert f"metrics: could not write {blocker}/d2b.prom" in Path(summary.log_file).read_text()


def test_notify_on_refuses_unknown_choices(env: Env):
    from etl_core.errors import ConfigError

    add_config(env, '[notify]\non = ["failure", "sometimes"]')
    with pytest.raises(ConfigError) as error:
        env.config  # noqa: B018 - loading is the test
    assert "notify.on" in str(error.value) and "'sometimes' is not one of failure, warning, stale" in str(error.value)


def test_the_lineage_warehouse_address_never_holds_a_password():
    from etl_core.integrations.lineage_datasets import warehouse_namespace

    assert warehouse_namespace("host=db.example port=6543 dbname=dwh user=u") == ("postgres://db.example:6543", "dwh")
    assert warehouse_namespace("host=/tmp/sock dbname=x") == ("postgres://localhost:5432", "x")
    assert json.dumps(warehouse_namespace("host=h dbname=d password=pw")).count("pw") == 0


def test_the_headless_run_keeps_its_exit_codes_and_quiet_stderr_with_every_integration_down(env: Env, tmp_path: Path):
    silent = Silent()
    down = {"OPENLINEAGE_URL": closed_port_url(), "D2B_NOTIFY_URL": webhook_url(silent.url)}
    try:
        ok = headless(env, tmp_path, down, "--run-all")
        env.put("orders.csv", "order_id,customer_id\n1,1\n")
        failed = headless(env, tmp_path, down, "--run-all")
    finally:
        silent.close()
    assert ok.returncode == 0, ok.stderr
    assert failed.returncode == 1, failed.stderr
    for result in (ok, failed):
        assert "Retrying" not in result.stderr and "Traceback" not in result.stderr
        assert SLACK_TOKEN not in result.stderr + result.stdout
    assert "OpenLineage:" in ok.stderr  # the one warning line, as in the run's log
    assert "notification not delivered: the webhook in D2B_NOTIFY_URL" in failed.stderr


def test_status_past_its_deadline_posts_a_stale_notification_when_asked(env: Env, recorder: Recorder, tmp_path: Path):
    text = env.config_path.read_text().replace(
        'best_product_by = "review_count"', 'best_product_by = "review_count"\ndeadline = "00:00"'
    )
    env.config_path.write_text(text)

    def status() -> subprocess.CompletedProcess[str]:
        return headless(env, tmp_path, {"D2B_NOTIFY_URL": webhook_url(recorder.url)}, "--status")

    late = status()
    assert late.returncode == 1, late.stderr
    assert recorder.posts == []  # "stale" is not in [notify] on by default
    add_config(env, '[notify]\non = ["failure", "stale"]')
    late = status()
    assert late.returncode == 1, late.stderr
    [(_path, body)] = recorder.posts
    assert body["kind"] == "stale" and body["status"] == "late" and body["user_id"] == env.user_id
    assert body["text"] == "d2b-console: " + late.stdout.strip()
    assert body["deadline"] == "00:00" and body["ingestion_date"] == env.config.pipeline.ingestion_date.isoformat()
    assert SLACK_TOKEN not in late.stdout + late.stderr
