"""No traceback reaches the operator: contradictory flags, a warehouse user without rights, and anything
unforeseen each end in one line with what to do and the right exit code; a run never stays `running`."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import psycopg2
import pytest

from secret_forms import PASSWORD, address_forms, leaks, socket_folder
from support import create_dims, put_dataset

REPO = Path(__file__).resolve().parents[1]


def cli(args: list[str], cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k != "D2B_WAREHOUSE_URL"}
    return subprocess.run(
        [sys.executable, "-m", "tui.launcher", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        env={**clean, **env},
    )


COMBINED = (
    "cannot be combined: --run-all runs every stage, --stage only the stages it names, --resume from where "
    "the last run failed, --dry-run none; give one of them"
)


@pytest.mark.parametrize(
    "args, problem",
    [
        (["--run-all", "--stage", "export"], f"--run-all and --stage {COMBINED}"),
        (["--resume", "--stage", "staging"], f"--stage and --resume {COMBINED}"),
        (["--run-all", "--stage", "export", "--resume"], f"--run-all and --stage and --resume {COMBINED}"),
        (["--dry-run", "--run-all"], f"--run-all and --dry-run {COMBINED}"),
        (["--json"], "--json goes with --run-all, --stage, --resume, --dry-run, --backfill or --status"),
        (["--run-all", "--demo-scale", "0"], "--demo-scale must be between 0 (excluded) and 1000"),
    ],
)
def test_contradictory_flags_exit_2_with_the_reason(tmp_path, args, problem):
    result = cli([*args, "--json"] if "--json" not in args else args, tmp_path)
    assert result.returncode == 2
    assert result.stderr == f"d2b-console: {problem}\n"
    assert json.loads(result.stdout) == {"status": "error", "exit_code": 2, "error": problem}
    assert not (tmp_path / ".d2b-state").exists()  # nothing ran, nothing was created


def test_demo_scale_with_an_external_s3_is_a_usage_error(make_env, tmp_path):
    env = make_env()
    result = cli(["--run-all", "--demo-scale", "5", "--config", str(env.config_path)], tmp_path)
    assert result.returncode == 2
    assert result.stderr == (
        f"d2b-console: --demo-scale applies only to the embedded S3, and {env.config_path} sets "
        f"[source] endpoint_url = {env.config.source.endpoint_url!r}\n"
    )
    assert "Traceback" not in result.stderr


def test_a_warehouse_user_without_create_rights_is_told_what_to_do(make_env, pg_uri, tmp_path):
    env = make_env()
    role = f"norights_{env.user_id}"
    admin = psycopg2.connect(pg_uri)
    with admin, admin.cursor() as cur:
        cur.execute(f'CREATE ROLE "{role}" LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE')
    admin.close()
    url = pg_uri.replace("postgres:@", f"{role}:@")
    result = cli(["--run-all", "--json", "--config", str(env.config_path)], tmp_path, D2B_WAREHOUSE_URL=url)
    assert result.returncode == 1
    error = json.loads(result.stdout)["error"]
    assert error.startswith(
        f"the warehouse user may not create what a run needs on postgresql://{role}@/postgres?host="
    )
    assert (
        "(permission denied for database postgres); ask a DBA to run the bootstrap grants (sql/bootstrap/"
        f"operator_grants.sql, see terraform/README.md), which create the schemas {env.user_id}_staging and "
        f"{env.user_id}_analytics for this user; nothing was run"
    ) in error
    assert "Traceback" not in result.stderr and result.stderr.count("\n") == 1


def test_an_unforeseen_error_is_one_line_and_a_crash_report_and_the_run_is_not_left_running(env, pg_uri, tmp_path):
    url = address_forms(pg_uri)["query parameter"]
    state = env.config.console.state_dir
    first = cli(["--stage", "prepare", "--config", str(env.config_path)], tmp_path, D2B_WAREHOUSE_URL=url)
    assert first.returncode == 0, first.stderr
    for folder in (state / "logs").iterdir():  # the run logs' folder is made a file: writing the log fails
        for log in folder.iterdir():
            log.unlink()
        folder.rmdir()
        folder.write_text("not a folder")
    result = cli(["--run-all", "--json", "--config", str(env.config_path)], tmp_path, D2B_WAREHOUSE_URL=url)
    assert result.returncode == 1
    [line] = result.stderr.strip().splitlines()[-1:]
    assert line.startswith("ERROR   d2b-console stopped on an unexpected error (")
    assert "This is a bug: please report it with that file" in line and "Traceback" not in result.stderr
    report = Path(line.split("the details are in ")[1].split(". This is a bug")[0])
    assert report.parent == state / "crash" and "Traceback (most recent call last)" in report.read_text()
    assert json.loads(result.stdout)["exit_code"] == 1
    statuses = env.query(f'SELECT run_id, status FROM "{env.user_id}_staging".console_runs ORDER BY run_id')
    assert statuses == [(1, "succeeded"), (2, "failed")]
    assert leaks(report.read_text() + result.stdout + result.stderr, PASSWORD) == []


def test_run_logs_are_kept_per_warehouse_and_user_id(make_env, tmp_path):
    first = make_env()
    create_dims(first)
    put_dataset(first, [(1, 1, "2022-01-03", 1, 10, 1)], [(5, 1)], [])
    second_text = first.config_path.read_text().replace(first.user_id, f"{first.user_id}b")
    second = tmp_path / "second.toml"
    second.write_text(
        second_text.replace(f'dims_schema = "{first.user_id}b_dims"', f'dims_schema = "{first.dims_schema}"')
    )
    logs = []
    for config in (first.config_path, second):
        result = cli(["--stage", "prepare", "--json", "--config", str(config)], tmp_path)
        assert result.returncode == 0, result.stderr
        logs.append(Path(json.loads(result.stdout)["log_file"]))
    warehouse = "postgres_host_" + re.sub(r"[^A-Za-z0-9.-]+", "_", socket_folder(first.pg_uri)).strip("_")
    assert [log.parent.name for log in logs] == [f"{first.user_id}@{warehouse}", f"{first.user_id}b@{warehouse}"]
    assert logs[0].name == logs[1].name == "run-00001.log"
    assert f"user_id {first.user_id};" in logs[0].read_text() and f"user_id {first.user_id}b;" in logs[1].read_text()


def test_a_warehouse_lost_during_an_export_is_named_and_leaves_no_object(env):
    import threading

    from helpers import assert_succeeded, run

    assert_succeeded(run(env))
    key = f"analytics_export/{env.user_id}/agg_public_holiday.csv"
    env.s3.delete_object(Bucket=env.bucket, Key=key)
    # Enough other days that the COPY of the first table lasts long enough to be cut.
    env.execute(
        f'INSERT INTO "{env.user_id}_analytics".agg_public_holiday SELECT d, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, '
        "11, 12 FROM generate_series(DATE '3000-01-01', DATE '3000-01-01' + 1500000, interval '1 day') d"
    )
    terminated: list[tuple[Any, ...]] = []
    done = threading.Event()

    def terminate_the_export_copy() -> None:
        while not done.is_set() and not terminated:
            terminated.extend(
                env.query(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = "
                    "'d2b-console export' AND state = 'active' AND query LIKE 'COPY%'"
                )
            )

    killer = threading.Thread(target=terminate_the_export_copy, daemon=True)
    killer.start()
    try:
        export = run(env, ("export",)).stages[0]
    finally:
        done.set()
        killer.join(10)
    assert terminated and export.status == "failed"
    # The server's notice names the termination; when the socket closes first (a loaded machine), a lost connection.
    assert export.error is not None
    assert (
        f"while exporting {env.user_id}_analytics.agg_public_holiday to s3://{env.bucket}/{key}" in export.error
        and "57P01" in export.error
        and "the upload was aborted, so no partial object is at the key and the analytics tables are unchanged"
        in export.error
    ) or export.error == (
        f"the warehouse connection was lost while exporting agg_public_holiday to "
        f"s3://{env.bucket}/{key}; the upload was aborted, so no partial object is at the key "
        "and the analytics tables are unchanged; run the export stage again when the warehouse "
        "is back"
    ), export.error
    assert env.s3.list_objects_v2(Bucket=env.bucket, Prefix=key).get("KeyCount", 0) == 0
    assert env.s3.list_multipart_uploads(Bucket=env.bucket).get("Uploads", []) == []
