"""The embedded S3 is durable like S3: a successful PUT, CompleteMultipartUpload, delete or bucket
change is on disk before its answer; a full disk fails the request, naming the store; the S3
server dying mid-run fails the running stage in one sentence (issue 10 items 5 and 8, issue 11)."""

from __future__ import annotations

import json
import os
import re
import signal
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from embedded_support import (
    STATE,
    children,
    command_line,
    console,
    embedded_folder,
    fill_disk,
    is_alive,
    launch,
    tmpfs,
    wait_for_line,
    wait_until,
)
from etl_core.embedded.supervisor import EmbeddedServices
from etl_core.errors import ServiceUnavailable
from support import REGION, create_dims

EXPORTS = ("agg_public_holiday", "agg_shipments", "best_performing_product")
BUCKET = "d2b-internal-assessment-bucket"
PART = 5 * 1024 * 1024


@contextmanager
def embedded_s3(state_dir: Path) -> Iterator[Any]:
    """The embedded S3 alone on `state_dir` (started, stopped at the end); yields a client."""
    services = EmbeddedServices(state_dir, want_postgres=False, want_s3=True, region=REGION)
    services.start()
    try:
        yield services.s3_client()
    finally:
        services.stop()


def kill_s3_child_in(state_dir: Path) -> None:
    """SIGKILL the S3 server this process started for `state_dir` (no clean stop of any kind)."""
    store = str(state_dir / "s3")
    (pid,) = [
        c
        for c in children(os.getpid())
        if "etl_core.embedded.s3_server" in command_line(c) and store in command_line(c)
    ]
    os.kill(pid, signal.SIGKILL)
    wait_until(lambda: not is_alive(pid), timeout=10)  # dead; its parent reaps it and learns why


def listing(client, bucket: str) -> list[tuple[Any, ...]]:
    return [
        (o["Key"], o["LastModified"], o["ETag"], o["Size"])
        for o in client.list_objects_v2(Bucket=bucket).get("Contents", [])
    ]


def export_objects(client) -> dict[str, datetime]:
    prefix = "analytics_export/demo1234/"
    return {
        o["Key"].removeprefix(prefix): o["LastModified"]
        for o in client.list_objects_v2(Bucket=BUCKET, Prefix=prefix).get("Contents", [])
    }


def upload_in_parts(client, bucket: str, key: str, parts: list[bytes], order: list[int]) -> dict[str, Any]:
    upload = client.create_multipart_upload(Bucket=bucket, Key=key)["UploadId"]
    etags = {}
    for number in order:
        etags[number] = client.upload_part(
            Bucket=bucket, Key=key, UploadId=upload, PartNumber=number, Body=parts[number - 1]
        )["ETag"]
    completed: dict[str, Any] = client.complete_multipart_upload(
        Bucket=bucket,
        Key=key,
        UploadId=upload,
        MultipartUpload={"Parts": [{"PartNumber": n, "ETag": etags[n]} for n in sorted(etags)]},
    )
    return completed


def test_every_change_survives_a_kill_9_of_the_server_with_its_own_metadata(tmp_path):
    state = tmp_path / "state"
    with embedded_s3(state) as s3:
        s3.create_bucket(Bucket="keep", CreateBucketConfiguration={"LocationConstraint": REGION})
        s3.create_bucket(Bucket="gone", CreateBucketConfiguration={"LocationConstraint": REGION})
        s3.put_object(Bucket="keep", Key="a.csv", Body=b"id\n1\n", ContentType="text/csv", Metadata={"run": "7"})
        parts = [os.urandom(PART), os.urandom(PART), b"tail"]
        upload_in_parts(s3, "keep", "in-order.bin", parts, [1, 2, 3])
        upload_in_parts(s3, "keep", "out-of-order.bin", parts, [3, 1, 2])
        s3.copy_object(Bucket="keep", Key="copy of a.csv", CopySource={"Bucket": "keep", "Key": "a.csv"})
        s3.put_object(Bucket="keep", Key="deleted", Body=b"x")
        s3.put_object(Bucket="keep", Key="../../escape?", Body=b"odd key")
        s3.delete_object(Bucket="keep", Key="deleted")
        s3.put_object(Bucket="keep", Key="batch-deleted", Body=b"y")
        s3.delete_objects(Bucket="keep", Delete={"Objects": [{"Key": "batch-deleted"}]})
        s3.delete_bucket(Bucket="gone")
        before = listing(s3, "keep")
        buckets = [(b["Name"], b["CreationDate"]) for b in s3.list_buckets()["Buckets"]]
        head = s3.head_object(Bucket="keep", Key="a.csv")
        kill_s3_child_in(state)  # no stop, no save: what was answered is on disk, or it is lost

    for _restart in range(2):
        with embedded_s3(state) as s3:
            assert listing(s3, "keep") == before
            assert [k for k, *_ in before] == [
                "../../escape?",
                "a.csv",
                "copy of a.csv",
                "in-order.bin",
                "out-of-order.bin",
            ]
            assert [(b["Name"], b["CreationDate"]) for b in s3.list_buckets()["Buckets"]] == buckets
            again = s3.head_object(Bucket="keep", Key="a.csv")
            assert (again["ContentType"], again["Metadata"], again["LastModified"]) == (
                "text/csv",
                {"run": "7"},
                head["LastModified"],
            )
            for key in ("in-order.bin", "out-of-order.bin"):
                assert s3.get_object(Bucket="keep", Key=key)["Body"].read() == b"".join(parts)
    assert not list((state / "s3").rglob("uploads/*"))


def versions_of(client, bucket: str) -> list[tuple[Any, ...]]:
    listed = client.list_object_versions(Bucket=bucket)
    return sorted(
        [
            (v["Key"], v["VersionId"], v["ETag"], v["Size"], v["LastModified"], v["IsLatest"])
            for v in listed.get("Versions", [])
        ]
        + [
            (m["Key"], m["VersionId"], "marker", 0, m["LastModified"], m["IsLatest"])
            for m in listed.get("DeleteMarkers", [])
        ]
    )


def test_a_versioned_bucket_keeps_its_versions_across_a_kill_9_and_restarts(tmp_path):
    state = tmp_path / "state"
    parts = [os.urandom(PART), b"tail"]
    with embedded_s3(state) as s3:
        s3.create_bucket(Bucket="lake", CreateBucketConfiguration={"LocationConstraint": REGION})
        s3.put_object(Bucket="lake", Key="before.csv", Body=b"written before versioning\n")
        s3.put_bucket_versioning(Bucket="lake", VersioningConfiguration={"Status": "Enabled"})
        first = s3.put_object(Bucket="lake", Key="orders.csv", Body=b"day 1\n")["VersionId"]
        second = s3.put_object(Bucket="lake", Key="orders.csv", Body=b"day 2\n", Metadata={"day": "2"})["VersionId"]
        s3.put_object(Bucket="lake", Key="before.csv", Body=b"after\n")
        upload_in_parts(s3, "lake", "big.bin", parts, [1, 2])
        s3.put_object(Bucket="lake", Key="gone.csv", Body=b"soon deleted\n")
        s3.delete_object(Bucket="lake", Key="gone.csv")  # a delete marker over the version
        before = versions_of(s3, "lake")
        kill_s3_child_in(state)

    for _restart in range(2):
        with embedded_s3(state) as s3:
            assert s3.get_bucket_versioning(Bucket="lake")["Status"] == "Enabled"
            assert versions_of(s3, "lake") == before
            assert len([v for v in before if v[0] == "orders.csv"]) == 2
            assert s3.get_object(Bucket="lake", Key="orders.csv", VersionId=first)["Body"].read() == b"day 1\n"
            newest = s3.get_object(Bucket="lake", Key="orders.csv")
            assert (newest["VersionId"], newest["Body"].read(), newest["Metadata"]) == (
                second,
                b"day 2\n",
                {"day": "2"},
            )
            assert s3.get_object(Bucket="lake", Key="before.csv", VersionId="null")["Body"].read() == (
                b"written before versioning\n"
            )
            assert s3.get_object(Bucket="lake", Key="big.bin")["Body"].read() == b"".join(parts)
            assert [o["Key"] for o in s3.list_objects_v2(Bucket="lake")["Contents"]] == [
                "before.csv",
                "big.bin",
                "orders.csv",
            ]
    with embedded_s3(state) as s3:  # a change after a restart is kept too: a version removed, versioning suspended
        s3.delete_object(Bucket="lake", Key="orders.csv", VersionId=first)
        s3.put_bucket_versioning(Bucket="lake", VersioningConfiguration={"Status": "Suspended"})
    with embedded_s3(state) as s3:
        assert s3.get_bucket_versioning(Bucket="lake")["Status"] == "Suspended"
        assert [v[1] for v in versions_of(s3, "lake") if v[0] == "orders.csv"] == [second]


def test_kill_9_right_after_export_succeeded_loses_nothing(tmp_path):
    folder = embedded_folder(tmp_path / "op", state_dir=str(tmp_path / "op" / STATE))
    assert console(folder, "--run-all").returncode == 0
    first = open_and_list_exports(folder)
    owner = launch(folder, "--run-all")
    wait_for_line(owner, "[export] succeeded")
    owner.kill()
    killed = datetime.now(UTC)
    owner.wait(10)
    for _restart in range(2):
        exported = open_and_list_exports(folder)
        assert sorted(exported) == sorted(first) == [f"{t}.csv" for t in EXPORTS]
        # Written by the killed run (seconds after the first one), kept with its own time across restarts.
        assert all(first[key] < modified <= killed for key, modified in exported.items()), (first, exported)


def test_a_full_store_fails_the_export_naming_it_and_keeps_the_previous_objects(tmp_path):
    folder = embedded_folder(tmp_path / "op", state_dir=str(tmp_path / "op" / STATE))
    store = folder / STATE / "s3"
    with tmpfs(store, "16m"):
        first = console(folder, "--run-all", "--json")
        assert first.returncode == 0, first.stderr
        filler = fill_disk(store)
        full = console(folder, "--run-all", "--json")
        assert full.returncode == 1, full.stderr
        summary = json.loads(full.stdout)
        assert summary["status"] == "failed" and summary["exports"] == []
        export = summary["stages"][-1]
        assert export["stage"] == "export" and export["status"] == "failed"
        assert re.search(
            rf"the embedded S3 store {re.escape(str(store))} is full \(No space left on device; "
            r"\d+ KB free\): s3://\S+ was not stored",
            export["error"],
        ), export["error"]
        assert "free space on that disk" in export["error"] and "Traceback" not in full.stderr
        kept = open_and_list_exports(folder)
        filler.unlink()
        again = console(folder, "--stage", "export")
        assert again.returncode == 0, again.stderr
        renewed = open_and_list_exports(folder)
    assert sorted(kept) == sorted(renewed) == [f"{t}.csv" for t in EXPORTS]
    assert all(renewed[k] > kept[k] for k in kept)


def open_and_list_exports(folder: Path) -> dict[str, datetime]:
    with embedded_s3(folder / STATE) as s3:
        return export_objects(s3)


def test_a_part_or_completion_that_does_not_fit_fails_and_leaves_no_object(tmp_path):
    state = tmp_path / "state"
    with tmpfs(state / "s3", "12m"), embedded_s3(state) as s3:
        s3.create_bucket(Bucket="big", CreateBucketConfiguration={"LocationConstraint": REGION})
        with pytest.raises(ServiceUnavailable, match=r"the embedded S3 store .* is full .*s3://big/too-big.bin"):
            upload_in_parts(s3, "big", "too-big.bin", [os.urandom(PART)] * 3, [1, 2, 3])
        assert listing(s3, "big") == []


def test_a_full_store_at_the_first_start_exits_3_naming_it(tmp_path):
    folder = embedded_folder(tmp_path / "op", state_dir=str(tmp_path / "op" / STATE))
    store = folder / STATE / "s3"
    with tmpfs(store, "1m"):
        fill_disk(store)
        result = console(folder, "--run-all")
    assert result.returncode == 3, result.stderr
    assert f"the embedded S3 store {store} is full" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize("stage", ["staging", "export"])
def test_the_s3_server_dying_mid_run_fails_the_running_stage_in_one_sentence(make_env, stage):
    from etl_core.events import StageStarted
    from helpers import run

    env = make_env(create_bucket=False)
    env.rewrite_config(endpoint_url="embedded")  # the embedded S3 (with the demo data), the tests' Postgres
    create_dims(env)
    state = env.config.console.state_dir

    def kill_when_the_stage_starts(event):
        if isinstance(event, StageStarted) and event.stage == stage:
            kill_s3_child_in(state)

    started = time.monotonic()
    summary = run(env, sink=kill_when_the_stage_starts)
    failed = next(s for s in summary.stages if s.stage == stage)
    assert summary.status == "failed" and failed.status == "failed"
    assert (failed.error or "").startswith("the embedded S3 server stopped (killed by SIGKILL); "), failed.error
    assert time.monotonic() - started < 60  # no retry loop against a dead server
    runs = env.query(f'SELECT status FROM "{env.user_id}_staging".console_runs')
    assert runs == [("failed",)]


def test_a_mirror_saved_by_an_earlier_version_is_moved_into_the_store(tmp_path):
    from urllib.parse import quote

    state = tmp_path / "state"
    old = state / "s3" / "objects" / "lake"
    old.mkdir(parents=True)
    (old / ("k_" + quote("orders_data/orders.csv", safe=""))).write_bytes(b"order_id\n1\n")
    (state / "s3" / "manifest.json").write_text(json.dumps({"lake": {"orders_data/orders.csv": '"etag"'}}))
    for _restart in range(2):
        with embedded_s3(state) as s3:
            body = s3.get_object(Bucket="lake", Key="orders_data/orders.csv")["Body"].read()
        assert body == b"order_id\n1\n"
        assert not (state / "s3" / "manifest.json").exists()


def test_the_store_has_no_file_named_after_a_key(tmp_path):
    state = tmp_path / "state"
    with embedded_s3(state) as s3:
        s3.create_bucket(Bucket="lake", CreateBucketConfiguration={"LocationConstraint": REGION})
        s3.put_object(Bucket="lake", Key="../../../outside", Body=b"x")
    stored = [p for p in state.rglob("*") if p.is_file()]
    assert all((state / "s3") in p.parents for p in stored if p.name != "owner.lock"), stored
    assert not any("outside" in str(p) for p in stored)
    assert not (tmp_path / "outside").exists()
