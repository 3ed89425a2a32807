"""A secret in `[source] endpoint_url`'s userinfo (`http://key:secret@host:port`) is masked like the warehouse
password: never on stdout, stderr, `--json`, the run log, the state folder's files or the history."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

import pytest

from etl_core.config import load_config
from secret_forms import PASSWORD, history_text, leaks, state_files


def cli(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tui.launcher", *args], cwd=cwd, capture_output=True, text=True, timeout=180
    )


def with_endpoint(config_path: Path, endpoint: str) -> None:
    text = config_path.read_text()
    old = load_config(str(config_path)).source.endpoint_url
    config_path.write_text(text.replace(f'endpoint_url = "{old}"', f'endpoint_url = "{endpoint}"'))


def test_a_secret_in_the_endpoint_reaches_no_channel_of_a_run(env, tmp_path):
    host = env.s3.meta.endpoint_url.removeprefix("http://")
    with_endpoint(env.config_path, f"http://ak:{quote(PASSWORD, safe='')}@{host}")
    env.put("orders.csv", "order_id,customer_id\n1,2\n")  # a failing stage writes error text everywhere
    result = cli(["--run-all", "--json", "--config", str(env.config_path)], tmp_path)
    assert result.returncode == 1, result.stderr
    summary = json.loads(result.stdout)
    log_text = Path(summary["log_file"]).read_text()
    history = history_text(env)
    assert f"S3 http://ak:***@{host}" in log_text and f"S3 http://ak:***@{host}" in result.stderr
    assert "missing column(s)" in log_text and "missing column(s)" in history  # the channels hold the run
    for channel in (result.stdout, result.stderr, log_text, history, state_files(env.config_path)):
        assert leaks(channel) == []


@pytest.mark.parametrize("action", ["--run-all", "--dry-run"])
def test_an_unreachable_endpoint_is_named_with_its_secret_masked(make_env, tmp_path, action):
    env = make_env()
    with_endpoint(env.config_path, f"http://ak:{quote(PASSWORD, safe='')}@127.0.0.1:1")
    result = cli([action, "--json", "--config", str(env.config_path)], tmp_path)
    assert result.returncode == 3, result.stderr
    assert "S3 endpoint http://ak:***@127.0.0.1:1 refused the connection" in result.stderr
    assert leaks(result.stdout + result.stderr) == []
