"""The headless command: exit codes, JSON summary, no Textual, embedded default, packaging."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from support import create_dims, put_dataset

REPO = Path(__file__).resolve().parents[1]


def cli(
    args: list[str], cwd: Path, env: dict[str, str] | None = None, python: str = sys.executable, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, **(env or {})}
    return subprocess.run(
        [python, "-m", "tui.launcher", *args], cwd=cwd, env=full_env, capture_output=True, text=True, timeout=timeout
    )


def test_run_all_json_summary_and_exit_code_zero(env, tmp_path):
    result = cli(["--run-all", "--json", "--config", str(env.config_path)], tmp_path)
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["status"] == "succeeded" and summary["exit_code"] == 0
    assert [(s["stage"], s["status"]) for s in summary["stages"]] == [
        ("prepare", "succeeded"),
        ("staging", "succeeded"),
        ("analytics", "succeeded"),
        ("export", "succeeded"),
    ]
    assert summary["analytics"]["agg_shipments"] == {
        "ingestion_date": "2022-09-06",
        "tt_late_shipments": 1,
        "tt_undelivered_items": 1,
    }
    assert summary["exports"] == [
        f"s3://{env.bucket}/analytics_export/{env.user_id}/{t}.csv"
        for t in ("agg_public_holiday", "agg_shipments", "best_performing_product")
    ]
    assert "[staging] succeeded" in result.stderr  # human progress goes to stderr


def test_failed_stage_exits_1_and_resume_finishes_the_run(env, tmp_path):
    env.put("orders.csv", "order_id\n1\n")
    failed = cli(["--run-all", "--json", "--config", str(env.config_path)], tmp_path)
    assert failed.returncode == 1
    summary = json.loads(failed.stdout)
    assert [s["status"] for s in summary["stages"]] == ["succeeded", "failed", "skipped", "skipped"]
    put_dataset(env, [(1, 1, "2022-03-01", 1, 10, 1)], [(5, 1)], [])
    resumed = cli(["--resume", "--json", "--config", str(env.config_path)], tmp_path)
    assert resumed.returncode == 0, resumed.stderr
    assert [s["stage"] for s in json.loads(resumed.stdout)["stages"]] == ["staging", "analytics", "export"]
    nothing = cli(["--resume", "--config", str(env.config_path)], tmp_path)
    assert nothing.returncode == 0 and "nothing to resume" in nothing.stderr


def test_bad_config_exits_2_naming_file_and_key(tmp_path):
    path = tmp_path / "bad.toml"
    text = (REPO / "config.toml").read_text()
    path.write_text(text.replace('user_id = "demo1234"', 'user_id = "x; drop schema public"'))
    result = cli(["--run-all", "--config", str(path)], tmp_path)
    assert result.returncode == 2
    assert f"{path}: [pipeline.user_id]" in result.stderr and "not a safe identifier" in result.stderr
    assert "Traceback" not in result.stderr


def test_missing_config_key_and_unknown_key(tmp_path):
    text = (
        (REPO / "config.toml")
        .read_text()
        .replace('as_of_date = "2022-09-05"', 'as_of_date = "2022-09-05"\ncolour = "blue"')
    )
    (tmp_path / "extra.toml").write_text(text.replace('dims_schema = "if_common"', ""))
    result = cli(["--dry-run", "--config", str(tmp_path / "extra.toml")], tmp_path)
    assert result.returncode == 2
    assert "[warehouse.dims_schema] is missing" in result.stderr
    assert f"{tmp_path / 'extra.toml'}: unknown key pipeline.colour is ignored" in result.stderr


def test_unreachable_warehouse_exits_3_without_the_password(make_env, tmp_path):
    env = make_env()
    result = cli(
        ["--run-all", "--json", "--config", str(env.config_path)],
        tmp_path,
        env={"D2B_WAREHOUSE_URL": "postgresql://operator:s3cr3t-pw@127.0.0.1:1/warehouse"},
        timeout=60,
    )
    assert result.returncode == 3
    assert "127.0.0.1:1" in result.stderr and "operator:***@" in result.stderr
    assert "s3cr3t-pw" not in result.stderr + result.stdout
    assert json.loads(result.stdout)["exit_code"] == 3


def test_unreachable_s3_exits_3(make_env, tmp_path):
    env = make_env()
    text = env.config_path.read_text()
    import re

    env.config_path.write_text(re.sub(r'endpoint_url = "[^"]*"', 'endpoint_url = "http://127.0.0.1:1"', text))
    result = cli(["--run-all", "--config", str(env.config_path)], tmp_path, timeout=120)
    assert result.returncode == 3, result.stderr
    assert "S3 endpoint http://127.0.0.1:1 refused the connection; check [source] endpoint_url" in result.stderr


def test_headless_entry_never_imports_textual(env, tmp_path):
    code = (
        "import sys, etl_core, etl_core.cli, etl_core.pipeline, etl_core.browse, tui, tui.launcher\n"
        "assert 'textual' not in sys.modules\n"
        f"rc = tui.launcher.main(['--run-all', '--config', {str(env.config_path)!r}])\n"
        "print('textual loaded' if 'textual' in sys.modules else 'textual not loaded')\n"
        "sys.exit(rc)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().endswith("textual not loaded")


def test_external_warehouse_dimensions_are_read_and_never_written(make_env, tmp_path):
    env = make_env()
    create_dims(env, holidays=("2022-01-03",), products={1: "alpha"})
    put_dataset(env, [(1, 1, "2022-01-03", 1, 10, 1)], [(5, 1)], [])

    def fingerprint():
        tables = env.query("SELECT tablename FROM pg_tables WHERE schemaname = %s ORDER BY 1", (env.dims_schema,))
        digest = "SELECT md5(string_agg(t::text, '|' ORDER BY t::text)) FROM \"{schema}\".{table} t"
        return tables, [env.query(digest.format(schema=env.dims_schema, table=t)) for (t,) in tables]

    before = fingerprint()
    result = cli(["--run-all", "--json", "--config", str(env.config_path)], tmp_path)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["analytics"]["best_performing_product"]["is_public_holiday"] is True
    assert fingerprint() == before


@pytest.mark.slow
def test_embedded_default_run_all_twice_and_objects_persist(tmp_path):
    (tmp_path / "config.toml").write_text((REPO / "config.toml").read_text())
    first = cli(["--run-all", "--json"], tmp_path)
    assert first.returncode == 0, first.stderr
    assert len(json.loads(first.stdout)["exports"]) == 3
    second = cli(["--run-all", "--json"], tmp_path)
    assert second.returncode == 0, second.stderr
    exports = json.loads(second.stdout)["exports"]
    assert exports == [
        f"s3://d2b-internal-assessment-bucket/analytics_export/demo1234/{t}.csv"
        for t in ("agg_public_holiday", "agg_shipments", "best_performing_product")
    ]
    # The objects are in the state folder's S3 store: a fresh server has them.
    from etl_core.embedded.supervisor import EmbeddedServices

    s3_only = EmbeddedServices(tmp_path / ".d2b-state", want_postgres=False, want_s3=True, region="eu-central-1")
    s3_only.start()
    try:
        listing = s3_only.s3_client().list_objects_v2(Bucket="d2b-internal-assessment-bucket")
        keys = [o["Key"] for o in listing["Contents"]]
    finally:
        s3_only.stop()
    assert "analytics_export/demo1234/agg_shipments.csv" in keys and "orders_data/orders.csv" in keys


def test_embedded_state_folder_has_one_owner(tmp_path, monkeypatch):
    from etl_core.config import load_config
    from etl_core.services import open_services

    (tmp_path / "config.toml").write_text((REPO / "config.toml").read_text())
    monkeypatch.chdir(tmp_path)  # given back after the test: its folder is removed once it passed
    with open_services(load_config("config.toml")) as services:
        services.s3().put_object(Bucket="d2b-internal-assessment-bucket", Key="notes/kept.txt", Body=b"hello")
        second = cli(["--run-all"], tmp_path, timeout=60)
        assert second.returncode == 1
        assert "is in use by pid" in second.stderr and "only one d2b-console at a time" in second.stderr
    with open_services(load_config("config.toml")) as services:
        body = services.s3().get_object(Bucket="d2b-internal-assessment-bucket", Key="notes/kept.txt")["Body"].read()
    assert body == b"hello"


@pytest.mark.slow
def test_non_editable_install_runs_with_packaged_sql(tmp_path):
    venv = tmp_path / "venv"
    # No pip of its own (seeding one cost 3 CPU-seconds): this pip installs into it (--python).
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = str(venv / "bin" / "python")
    # Reuse the already-installed dependencies; install only this project, non-editable, from a copy.
    site = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    Path(site, "deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    wheels = tmp_path / "wheels"
    build = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(wheels), str(REPO)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert build.returncode == 0, build.stderr
    wheel = next(wheels.glob("d2b_console-*.whl"))
    install = subprocess.run(
        [sys.executable, "-m", "pip", "--python", python, "install", "--no-deps", "-q", str(wheel)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert install.returncode == 0, install.stderr
    where = subprocess.run(
        [python, "-c", "import etl_core, sql; print(etl_core.__file__); print(sql.__file__)"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert str(venv) in where and str(REPO) not in where
    workdir = tmp_path / "work"
    workdir.mkdir()
    result = subprocess.run(
        [str(venv / "bin" / "d2b-console"), "--run-all", "--json"],
        cwd=workdir,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["status"] == "succeeded"
