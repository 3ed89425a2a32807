"""A warehouse password, in every form libpq accepts, never reaches any channel an operator or a file sees.

The forms: userinfo (percent-encoded), `?password=`, a keyword DSN (quoted and bare), with `@`,
`:`, `/` and `%` in the password. The channels: stdout, stderr, `--json`, the run log, every
file in the state folder, the history tables, the OpenLineage events and the failure webhook's body (the
console has its own test in tests/tui).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

import pytest
from http_recorder import Recorder

from etl_core.config import load_config
from etl_core.errors import ConfigError
from secret_forms import PASSWORD, address_forms, history_text, leaks, socket_folder, state_files


def cli(
    args: list[str], cwd: Path, url: str, timeout: float = 120, extra: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tui.launcher", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "D2B_WAREHOUSE_URL": url, **(extra or {})},
    )


@pytest.mark.parametrize("form", list(address_forms("postgresql://x@/y?host=/z")))
def test_a_password_in_any_form_never_reaches_any_channel(env, pg_uri, tmp_path, form):
    url = address_forms(pg_uri)[form]
    env.put("orders.csv", "order_id,customer_id\n1,2\n")  # a failing stage writes error text everywhere
    lineage, webhook = Recorder(), Recorder()
    try:
        outside = {"OPENLINEAGE_URL": lineage.url, "D2B_NOTIFY_URL": webhook.url + "/hook"}
        result = cli(["--run-all", "--json", "--config", str(env.config_path)], tmp_path, url, extra=outside)
    finally:
        lineage.close()
        webhook.close()
    assert result.returncode == 1, result.stderr
    events, notified = json.dumps(lineage.bodies()), json.dumps(webhook.bodies())
    assert '"FAIL"' in events and '"failed_stage": "staging"' in notified  # both channels heard of the run
    summary = json.loads(result.stdout)
    log_text = Path(summary["log_file"]).read_text()
    history = history_text(env)
    label = f"postgresql://postgres:***@/postgres?host={socket_folder(pg_uri)}"
    assert label in log_text and label in result.stderr  # what is shown is built from libpq's parts
    assert "missing column(s)" in log_text and "missing column(s)" in history  # the channels hold the run
    for channel in (result.stdout, result.stderr, log_text, history, state_files(env.config_path), events, notified):
        assert leaks(channel) == []


@pytest.mark.parametrize("form", ["userinfo", "query parameter", "keyword DSN, quoted"])
def test_unreachable_warehouse_exits_3_naming_the_endpoint_without_the_password(make_env, tmp_path, form):
    env = make_env()
    url = address_forms("postgresql://x@/y?host=/nonexistent-d2b-socket")[form]
    result = cli(["--dry-run", "--json", "--config", str(env.config_path)], tmp_path, url, timeout=60)
    assert result.returncode == 3, result.stderr
    assert "postgresql://postgres:***@/postgres?host=/nonexistent-d2b-socket could not be reached" in result.stderr
    assert json.loads(result.stdout)["exit_code"] == 3
    assert leaks(result.stdout + result.stderr) == []


@pytest.mark.parametrize(
    "url, words",
    [
        (f"postgresql://op:{quote(PASSWORD, safe='')}@host/db?foo=bar", 'invalid URI query parameter: "foo"'),
        (f"postgresql://op@host/db?password={quote(PASSWORD, safe='')}&sslmode", "missing"),
        (f"host=h dbname=d password {PASSWORD}", "missing"),
        (f"mysql://op:{quote(PASSWORD, safe='')}@host/db", "the scheme 'mysql' is not supported"),
        (f"postgresql://op:{PASSWORD}@host/db", "it has more than one '@' before the host"),
        (f"postgresql://op:{quote(PASSWORD, safe='')}%zz@host/db", "invalid percent-encoded token"),
        (f"postgresql://op:{quote(PASSWORD, safe='')}@host:99999/db", "the port is not a number"),
        (f"postgresql://op:{PASSWORD.replace('@', '')}@host/db", "the port is not a number"),  # ':' and '/' unencoded
    ],
)
def test_a_bad_address_exits_2_with_the_reason_and_without_the_password(make_env, tmp_path, url, words):
    env = make_env()
    result = cli(["--run-all", "--json", "--config", str(env.config_path)], tmp_path, url, timeout=60)
    assert result.returncode == 2, result.stderr
    assert f"[environment D2B_WAREHOUSE_URL] is not a valid URL or DSN: {words}" in result.stderr
    assert "Traceback" not in result.stderr
    assert leaks(result.stdout + result.stderr) == []
    assert "Zq9" not in result.stdout + result.stderr  # not even the part before an unencoded '@'


def test_the_label_is_built_from_libpq_parts_not_from_the_string(monkeypatch, tmp_path):
    repo_config = Path(__file__).resolve().parents[1] / "config.toml"
    expected = {
        "postgresql://op:pw-one@db.example.com:6432/d2b?sslmode=require": "postgresql://op:***@db.example.com:6432/d2b",
        "postgresql://op@db.example.com/d2b?password=pw-two": "postgresql://op:***@db.example.com/d2b",
        "host=db.example.com port=5433 dbname=d2b user=op password='pw three'": "postgresql://op:***@db.example.com:5433/d2b",
        "postgresql://op@[::1]:5432/d2b": "postgresql://op@[::1]:5432/d2b",
    }
    for url, label in expected.items():
        monkeypatch.setenv("D2B_WAREHOUSE_URL", url)
        config = load_config(str(repo_config))
        assert config.warehouse.label == label
        assert "pw" not in repr(config)
    monkeypatch.setenv("D2B_WAREHOUSE_URL", "postgres://op@host")
    with pytest.raises(ConfigError, match="names no database"):
        load_config(str(repo_config))
