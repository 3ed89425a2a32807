"""Housekeeping before an export touches only what is ours, and never fails the export."""

from __future__ import annotations

import subprocess
import sys
from typing import Any
from urllib.parse import urlparse

import pytest

from faultproxy import FaultProxy, Rule
from helpers import assert_succeeded, run

EXPORTED = ("agg_public_holiday", "agg_shipments", "best_performing_product")


def incomplete_uploads(env) -> set[str]:
    return {u["Key"] for u in env.s3.list_multipart_uploads(Bucket=env.bucket).get("Uploads", [])}


def test_the_sweep_aborts_only_incomplete_uploads_of_the_keys_about_to_be_written(env):
    ours = f"analytics_export/{env.user_id}/agg_shipments.csv"
    others = {
        f"analytics_export/{env.user_id}/agg_shipments.csv.tmp",  # same prefix, another key
        f"analytics_export/{env.user_id}/notes/draft.csv",
        "analytics_export/someone_else/agg_shipments.csv",  # another operator's live upload
        "unrelated/big-backup.tar",
    }
    for key in {ours, *others}:
        env.s3.create_multipart_upload(Bucket=env.bucket, Key=key)
    events: list[Any] = []
    assert_succeeded(run(env, sink=events.append))
    assert incomplete_uploads(env) == others
    warnings = [e.message for e in events if getattr(e, "level", "") == "WARNING"]
    assert warnings == [f"aborted 1 incomplete upload(s) of s3://{env.bucket}/{ours} left by an earlier run"]


@pytest.mark.parametrize("refusal", [("501", "NotImplemented"), ("403", "AccessDenied")], ids=lambda r: r[0])
def test_a_server_refusing_list_multipart_uploads_gives_a_warning_and_the_export_succeeds(env, s3_endpoint, refusal):
    status, code = refusal
    parsed = urlparse(s3_endpoint)
    proxy = FaultProxy(parsed.hostname, parsed.port)
    try:
        env.config_path.write_text(env.config_path.read_text().replace(s3_endpoint, proxy.url))
        refusal = proxy.add(Rule(match=f"GET /{env.bucket}?uploads", action=status, times=100))
        events: list[Any] = []
        summary = run(env, sink=events.append)
    finally:
        proxy.close()
    assert_succeeded(summary)
    assert refusal.hits == 1  # one refusal is enough: the other keys are not asked
    warnings = [e.message for e in events if getattr(e, "level", "") == "WARNING"]
    assert len(warnings) == 1
    assert "could not clean up incomplete uploads of" in warnings[0] and f"S3 answered {status} {code}" in warnings[0]
    assert "only housekeeping: the export goes on" in warnings[0]
    keys = {o["Key"] for o in env.s3.list_objects_v2(Bucket=env.bucket, Prefix="analytics_export/")["Contents"]}
    assert keys == {f"analytics_export/{env.user_id}/{table}.csv" for table in EXPORTED}


def test_an_export_prefix_without_user_id_is_a_config_error(env, tmp_path):
    env.config_path.write_text(
        env.config_path.read_text().replace('prefix = "analytics_export/{user_id}/"', 'prefix = "analytics_export/"')
    )
    result = subprocess.run(
        [sys.executable, "-m", "tui.launcher", "--run-all", "--config", str(env.config_path)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2, result.stderr
    assert f"{env.config_path}: [export.prefix] 'analytics_export/' must contain {{user_id}}" in result.stderr
    assert "Traceback" not in result.stderr
