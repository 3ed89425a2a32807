"""Every day, not one run (issue 22): dated sources, provenance, backfill, resume, --status.

A real moto bucket (dated folders, or versioned), a real warehouse, the real CLI in subprocesses."""

from __future__ import annotations

import json
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from typing import Any

from cli_process import CliProcess
from faultproxy import Rule
from support import Env, create_dims, dated_env, dated_orders_held, day_files, put_day

DAYS = ("2022-09-05", "2022-09-06", "2022-09-07")
TABLES = ("agg_public_holiday", "agg_shipments", "best_performing_product")


def exported(env) -> dict[str, bytes]:
    prefix = f"analytics_export/{env.user_id}/"
    return {t: env.s3.get_object(Bucket=env.bucket, Key=f"{prefix}{t}.csv")["Body"].read() for t in TABLES}


def runs(env: Env) -> list[tuple[Any, ...]]:
    return env.query(
        f'SELECT run_id, ingestion_date::text, status, stages, backfill_id FROM "{env.user_id}_staging".console_runs '
        "ORDER BY run_id"
    )


def cli(env, *args: str):
    return CliProcess(env.config_path, *args).finish(300)


def test_a_backfill_equals_three_single_day_runs_byte_for_byte_and_a_rerun_starts_nothing(make_env):
    single, backfilled = dated_env(make_env), dated_env(make_env)
    for env in (single, backfilled):
        for n, day in enumerate(DAYS, start=1):
            put_day(env, day, n)
    for day in DAYS:
        single.rewrite_config(ingestion_date=day)
        result = cli(single, "--run-all")
        assert result.code == 0, result.stderr

    # The dry run lists every date with its inputs and decision, and records nothing.
    dry = cli(backfilled, "--backfill", DAYS[0], DAYS[-1], "--dry-run", "--json")
    assert dry.code == 0, dry.stderr
    plan = json.loads(dry.stdout)
    assert [(d["date"], d["decision"]) for d in plan["dates"]] == [(day, "run") for day in DAYS]
    assert [i["key"] for i in plan["dates"][1]["inputs"]] == [
        f"orders_data/dt={DAYS[1]}/{name}" for name in ("orders.csv", "reviews.csv", "shipment_deliveries.csv")
    ]
    assert backfilled.query(f"SELECT to_regclass('\"{backfilled.user_id}_staging\".console_runs')") == [(None,)]
    assert not backfilled.s3.list_objects_v2(Bucket=backfilled.bucket, Prefix="analytics_export/").get("Contents")

    result = cli(backfilled, "--backfill", DAYS[0], DAYS[-1], "--json")
    assert result.code == 0, result.stderr
    report = json.loads(result.stdout)
    assert [(d["date"], d["status"]) for d in report["dates"]] == [(day, "succeeded") for day in DAYS]
    orders = report["dates"][2]["inputs"][0]
    assert orders["key"] == f"orders_data/dt={DAYS[2]}/orders.csv" and orders["rows"] == 4
    assert orders["etag"] and orders["size"] == len(day_files(3)["orders.csv"]) and orders["last_modified"]
    recorded = runs(backfilled)
    assert [(r[1], r[2], r[3]) for r in recorded] == [
        *[(day, "succeeded", "prepare,staging,analytics") for day in DAYS],
        (DAYS[-1], "succeeded", "export"),
    ]
    assert len({r[4] for r in recorded}) == 1 and recorded[0][4] is not None  # one backfill
    assert exported(backfilled) == exported(single)

    # Provenance per run, in the history: key, ETag, size, last-modified and record count.
    provenance = backfilled.query(
        f'SELECT i.key, i.etag, i.size, i.rows FROM "{backfilled.user_id}_staging".console_run_inputs i '
        "WHERE i.run_id = %s ORDER BY i.table_name",
        (recorded[1][0],),
    )
    assert [(key.rsplit("/", 1)[1], size, rows) for key, _etag, size, rows in provenance] == [
        ("orders.csv", len(day_files(2)["orders.csv"]), 4),
        ("reviews.csv", len(day_files(2)["reviews.csv"]), 5),
        ("shipment_deliveries.csv", len(day_files(2)["shipment_deliveries.csv"]), 2),
    ]

    again = cli(backfilled, "--backfill", DAYS[0], DAYS[-1], "--json")
    assert again.code == 0, again.stderr
    assert [d["status"] for d in json.loads(again.stdout)["dates"]] == ["skipped"] * 3
    assert "nothing to run" in again.stderr
    assert runs(backfilled) == recorded


def test_a_date_without_its_files_is_skipped_and_named_and_the_others_run(make_env):
    env = dated_env(make_env)
    put_day(env, DAYS[0], 1)
    put_day(env, DAYS[1], 2, skip=("reviews.csv",))
    put_day(env, DAYS[2], 3)
    result = cli(env, "--backfill", DAYS[0], DAYS[-1], "--json")
    assert result.code == 1, result.stderr
    report = json.loads(result.stdout)
    assert [(d["date"], d["status"]) for d in report["dates"]] == [
        (DAYS[0], "succeeded"),
        (DAYS[1], "skipped"),
        (DAYS[2], "succeeded"),
    ]
    assert f"orders_data/dt={DAYS[1]}/reviews.csv" in report["dates"][1]["reason"]
    assert report["export"]["status"] == "succeeded"
    assert [(r[1], r[2]) for r in runs(env)] == [
        (DAYS[0], "succeeded"),
        (DAYS[2], "succeeded"),
        (DAYS[2], "succeeded"),
    ]
    assert exported(env)["agg_shipments"].count(b"\n") == 3  # header and the two dates that ran


@contextmanager
def backfill_held_mid_date(env: Env, s3_endpoint: str, *args: str) -> Iterator[tuple[CliProcess, Rule]]:
    """A backfill of the three days whose second date's orders.csv (2 MB) is held mid-read by a fault proxy."""
    for n, day in enumerate(DAYS, start=1):
        put_day(env, day, n)
    with dated_orders_held(env, s3_endpoint, DAYS[1]) as hold:
        process = CliProcess(env.config_path, "--backfill", DAYS[0], DAYS[-1], *args)
        assert hold.fired.wait(120), process.finish(5).stderr
        yield process, hold


def test_kill_9_mid_backfill_then_resume_continues_from_that_date(make_env, s3_endpoint):
    env = dated_env(make_env)
    with backfill_held_mid_date(env, s3_endpoint) as (process, hold):
        process.send(signal.SIGKILL)
        process.finish()
        hold.release.set()
        killed = runs(env)
        assert [(r[1], r[2]) for r in killed] == [(DAYS[0], "succeeded"), (DAYS[1], "running")]

        result = cli(env, "--resume", "--json")
        assert result.code == 0, result.stderr
        assert f"resuming backfill #{killed[0][4]}" in result.stderr
        report = json.loads(result.stdout)
        assert [(d["date"], d["status"]) for d in report["dates"]] == [
            (DAYS[0], "skipped"),
            (DAYS[1], "succeeded"),
            (DAYS[2], "succeeded"),
        ]
        assert [(r[1], r[2], r[4]) for r in runs(env)] == [
            (DAYS[0], "succeeded", killed[0][4]),
            (DAYS[1], "abandoned", killed[0][4]),
            (DAYS[1], "succeeded", killed[0][4]),
            (DAYS[2], "succeeded", killed[0][4]),
            (DAYS[2], "succeeded", killed[0][4]),  # the export, once
        ]
        assert exported(env)["agg_shipments"].count(b"\n") == 4
        assert cli(env, "--resume").code == 0  # nothing left: the backfill finished


def test_sigterm_mid_backfill_ends_that_date_as_a_cancelled_run_and_resume_continues(make_env, s3_endpoint):
    env = dated_env(make_env)
    with backfill_held_mid_date(env, s3_endpoint, "--json") as (process, hold):
        process.send(signal.SIGTERM)
        hold.release.set()
        stopped = process.finish()
        assert stopped.code == 143, stopped.stderr
        report = json.loads(stopped.stdout)
        assert report["status"] == "cancelled" and report["export"] is None
        assert [(d["date"], d["status"]) for d in report["dates"]] == [
            (DAYS[0], "succeeded"),
            (DAYS[1], "cancelled"),
            (DAYS[2], "not run"),
        ]
        assert [(r[1], r[2]) for r in runs(env)] == [(DAYS[0], "succeeded"), (DAYS[1], "cancelled")]
        resumed = cli(env, "--resume")
        assert resumed.code == 0, resumed.stderr
        assert [(r[1], r[2]) for r in runs(env)][2:] == [
            (DAYS[1], "succeeded"),
            (DAYS[2], "succeeded"),
            (DAYS[2], "succeeded"),
        ]


def test_a_versioned_bucket_is_backfilled_by_version_and_an_unversioned_one_is_refused(make_env):
    env = make_env()
    create_dims(env)
    refused = cli(env, "--backfill", DAYS[0], DAYS[0])
    assert refused.code == 2, refused.stderr
    assert "no {date} folder" in refused.stderr and "not versioned" in refused.stderr
    assert env.query(f"SELECT to_regclass('\"{env.user_id}_staging\".console_runs')") == [(None,)]

    env.s3.put_bucket_versioning(Bucket=env.bucket, VersioningConfiguration={"Status": "Enabled"})
    for name, text in day_files(1).items():
        env.s3.put_object(Bucket=env.bucket, Key=f"orders_data/{name}", Body=text.encode())
    today = datetime.now(UTC).date()  # the versions were written today, UTC
    yesterday = today - timedelta(days=1)
    env.rewrite_config(ingestion_date=today.isoformat())
    result = cli(env, "--backfill", yesterday.isoformat(), today.isoformat(), "--json")
    assert result.code == 1, result.stderr  # yesterday had no files yet
    report = json.loads(result.stdout)
    assert report["inputs_by"] == "versioned"
    assert report["dates"][0]["status"] == "skipped"
    assert f"last modified by the end of {yesterday}" in report["dates"][0]["reason"]
    ran = report["dates"][1]
    assert ran["status"] == "succeeded"
    newest = env.s3.head_object(Bucket=env.bucket, Key="orders_data/orders.csv")["VersionId"]
    assert ran["inputs"][0]["version_id"] == newest
    recorded = env.query(
        f'SELECT version_id FROM "{env.user_id}_staging".console_run_inputs WHERE run_id = %s AND '
        "table_name = 'orders'",
        (ran["run_id"],),
    )
    assert recorded == [(newest,)]


def test_status_against_its_deadline(make_env):
    env = dated_env(make_env, ingestion_date="today")
    today = date.today().isoformat()
    text = env.config_path.read_text().replace(
        'best_product_by = "review_count"', 'best_product_by = "review_count"\ndeadline = "00:00"'
    )
    env.config_path.write_text(text)
    late = cli(env, "--status")
    assert late.code == 1, late.stderr
    assert late.stdout.startswith(f"LATE: {env.user_id} {today} missing; deadline 00:00 local passed")

    env.config_path.write_text(text.replace('deadline = "00:00"', 'deadline = "23:59"'))
    if datetime.now().strftime("%H:%M") < "23:59":
        pending = cli(env, "--status", "--json")
        assert pending.code == 0, pending.stderr
        assert json.loads(pending.stdout)["state"] == "missing" and not json.loads(pending.stdout)["late"]

    put_day(env, today, 1)
    assert cli(env, "--run-all").code == 0
    env.config_path.write_text(text)
    fresh = cli(env, "--status", "--json")
    assert fresh.code == 0, fresh.stderr
    status = json.loads(fresh.stdout)
    assert (status["state"], status["last_success"]["ingestion_date"]) == ("succeeded", today)
    assert status["status"].startswith("OK: ")
