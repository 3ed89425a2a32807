"""A bad config ends the command with exit 2 before any stage runs, naming the file and the key, without a
traceback (tests/unit/test_config_validation.py checks each rule on the loaded config)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from support import shipped_config

EXPORT_PREFIX = 'prefix = "analytics_export/{user_id}/"'


def cli(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tui.launcher", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        env={k: v for k, v in os.environ.items() if k != "D2B_WAREHOUSE_URL"},
    )


def test_a_bad_export_bucket_stops_the_run_before_staging(env, tmp_path):
    env.config_path.write_text(
        env.config_path.read_text().replace('[export]\nbucket = ""', '[export]\nbucket = "exports..2022"')
    )
    result = cli(["--run-all", "--config", str(env.config_path)], tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip() == (
        f"ERROR   {env.config_path}: [export.bucket] 'exports..2022' is not a valid S3 "
        "bucket name: it has two adjacent periods"
    )
    assert env.query("SELECT count(*) FROM pg_namespace WHERE nspname = %s", (f"{env.user_id}_staging",)) == [(0,)]


def test_a_region_with_a_slash_exits_2_without_a_traceback(tmp_path):
    path = shipped_config(tmp_path, ('region = "eu-central-1"', 'region = "eu-central-1/x"'))
    result = cli(["--dry-run", "--config", path], tmp_path)
    assert result.returncode == 2
    assert f"{path}: [source.region] 'eu-central-1/x' may use only lowercase letters" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    "old, new, key, words",
    [
        ("lock_wait_s = 5", "lock_wait_s = 0.0004", "timeouts.lock_wait_s", "is too short to be a bound"),
        (EXPORT_PREFIX, 'prefix = "analytics_export/{user_id}/../u1/"', "export.prefix", "a '..' folder"),
        (EXPORT_PREFIX, 'prefix = "analytics_export/shared{{user_id}}/"', "export.prefix", "a folder of its own"),
    ],
)
def test_unsafe_bounds_and_prefixes_exit_2_naming_the_file_and_the_key(tmp_path, old, new, key, words):
    path = shipped_config(tmp_path, (old, new))
    result = cli(["--run-all", "--config", path], tmp_path)
    assert result.returncode == 2, result.stderr
    assert f"{path}: [{key}] " in result.stderr and words in result.stderr
    assert "Traceback" not in result.stderr
