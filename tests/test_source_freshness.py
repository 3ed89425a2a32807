"""Freshness of the source objects and archive on load (issue 22 items 3 and 6): the same files as the
previous date's run are said (or refused), an object older than max_age_hours fails source_fresh, and
each object is archived before it is loaded, never overwriting a different one."""

from __future__ import annotations

import json
import time
from datetime import date

from cli_process import CliProcess
from support import put_small_dataset


def with_source_keys(env, **keys: object) -> None:
    lines = "".join(f"{k} = {json.dumps(v)}\n" for k, v in keys.items())
    text = env.config_path.read_text().replace("allow_empty_files = true\n", "allow_empty_files = true\n" + lines)
    env.config_path.write_text(text)


def run_all(env, day: str):
    env.rewrite_config(ingestion_date=day)
    result = CliProcess(env.config_path, "--run-all", "--json").finish(300)
    return result, (json.loads(result.stdout) if result.stdout.strip() else {})


def test_the_same_files_as_the_previous_dates_run_are_said_or_refused(env):
    first, _ = run_all(env, "2022-09-05")
    assert first.code == 0, first.stderr
    run_id = json.loads(first.stdout)["run_id"]
    second, _ = run_all(env, "2022-09-06")
    assert second.code == 0, second.stderr
    assert f"no new files since run #{run_id} (ingestion date 2022-09-05), loaded at " in second.stderr

    with_source_keys(env, on_unchanged="fail")
    third, summary = run_all(env, "2022-09-07")
    assert third.code == 1, third.stderr
    staging = next(s for s in summary["stages"] if s["stage"] == "staging")
    assert staging["status"] == "failed"
    assert "no new files since run #" in staging["error"] and 'on_unchanged = "fail"' in staging["error"]
    # A new file makes the date run again.
    env.put("reviews.csv", "review,product_id\n5,2\n")
    fourth, _ = run_all(env, "2022-09-07")
    assert fourth.code == 0, fourth.stderr


def test_an_object_older_than_max_age_hours_fails_source_fresh_naming_it(env):
    with_source_keys(env, max_age_hours=0.0003)  # about one second
    # The dataset was uploaded before: wait until the newest object is older than that (by S3's own clock,
    # whole seconds, so an object is never younger than it says).
    newest = max(
        obj["LastModified"].timestamp()
        for obj in env.s3.list_objects_v2(Bucket=env.bucket, Prefix="orders_data/")["Contents"]
    )
    deadline = time.monotonic() + 30
    while time.time() - newest < 1.5:
        assert time.monotonic() < deadline, "the clock did not move"
        time.sleep(0.05)
    result, summary = run_all(env, date.today().isoformat())
    assert result.code == 1, result.stderr
    staging = next(s for s in summary["stages"] if s["stage"] == "staging")
    (check,) = [c for c in staging["checks"] if c["name"] == "source_fresh"]
    assert check["severity"] == "ERROR" and not check["passed"]
    assert "orders_data/orders.csv is " in check["detail"] and "hours old" in check["detail"]
    assert staging["rows"] == 0  # nothing was loaded


def test_each_object_is_archived_before_it_is_loaded_and_never_overwritten(make_env):
    env = make_env()
    put_small_dataset(env)
    with_source_keys(env, archive_prefix="archive/dt={date}/")
    result, _ = run_all(env, "2022-09-06")
    assert result.code == 0, result.stderr
    for name in ("orders.csv", "reviews.csv", "shipment_deliveries.csv"):
        archived = env.s3.get_object(Bucket=env.bucket, Key=f"archive/dt=2022-09-06/{name}")["Body"].read()
        assert archived == env.s3.get_object(Bucket=env.bucket, Key=f"orders_data/{name}")["Body"].read()
    again, _ = run_all(env, "2022-09-06")  # the same objects: already archived, nothing refused
    assert again.code == 0, again.stderr
    assert "already archived: s3://" in again.stderr

    before = env.s3.get_object(Bucket=env.bucket, Key="archive/dt=2022-09-06/orders.csv")["Body"].read()
    env.put(
        "orders.csv",
        "order_id,customer_id,order_date,product_id,unit_price,quantity,total_price\n9,1,2022-01-03,1,1,1,1\n",
    )
    refused, summary = run_all(env, "2022-09-06")
    assert refused.code == 1, refused.stderr
    staging = next(s for s in summary["stages"] if s["stage"] == "staging")
    assert "archive/dt=2022-09-06/orders.csv already holds a different object" in staging["error"]
    assert env.s3.get_object(Bucket=env.bucket, Key="archive/dt=2022-09-06/orders.csv")["Body"].read() == before
