"""Secrets never leak; anonymous mode is really anonymous; services stay on loopback; config is validated."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from etl_core.config import load_config
from etl_core.errors import ConfigError
from etl_core.sql_files import safe_identifier
from faultproxy import FaultProxy
from support import create_dims, put_dataset

REPO = Path(__file__).resolve().parents[1]
SECRET = "Zq9-very-secret-pw"


def test_password_never_appears_in_output_logs_json_or_history(env, pg_uri, tmp_path):
    # pgserver trusts local socket users, so a URL with a password still connects: the password is
    # in play everywhere the console handles the URL.
    url = pg_uri.replace("postgres:@", f"postgres:{SECRET}@")
    assert SECRET in url
    env.put("orders.csv", "order_id,customer_id\n1,2\n")  # a failing stage produces error text too
    result = subprocess.run(
        [sys.executable, "-m", "tui.launcher", "--run-all", "--json", "--config", str(env.config_path)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "D2B_WAREHOUSE_URL": url},
    )
    assert result.returncode == 1, result.stderr
    summary = json.loads(result.stdout)
    log_text = Path(summary["log_file"]).read_text()
    history = env.query(
        f'SELECT r::text FROM "{env.user_id}_staging".console_runs r '
        f'UNION ALL SELECT s::text FROM "{env.user_id}_staging".console_stage_runs s'
    )
    assert "missing column(s)" in log_text  # the places we grep really hold the run's messages
    for text in (result.stdout, result.stderr, log_text, json.dumps(history)):
        assert SECRET not in text
    dry = subprocess.run(
        [sys.executable, "-m", "tui.launcher", "--dry-run", "--config", str(env.config_path)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "D2B_WAREHOUSE_URL": url.replace("host=", "host=/nonexistent")},
    )
    assert dry.returncode == 3 and SECRET not in dry.stdout + dry.stderr and "***" in dry.stderr


def test_anonymous_mode_sends_unsigned_requests_and_never_reads_credentials(make_env, s3_endpoint, tmp_path):
    from urllib.parse import urlparse

    parsed = urlparse(s3_endpoint)
    proxy = FaultProxy(parsed.hostname, parsed.port)
    env = make_env(anonymous=True)
    create_dims(env)
    put_dataset(env, [(1, 1, "2022-01-03", 1, 100, 2)], [(5, 1)], [])
    env.s3.put_bucket_acl(Bucket=env.bucket, ACL="public-read")  # like the original public bucket
    for name in ("orders.csv", "reviews.csv", "shipment_deliveries.csv"):
        env.s3.put_object_acl(Bucket=env.bucket, Key=f"orders_data/{name}", ACL="public-read")
    env.config_path.write_text(env.config_path.read_text().replace(s3_endpoint, proxy.url))
    marker = tmp_path / "credentials-were-read"
    aws_config = tmp_path / "aws-config"
    aws_config.write_text(f"[default]\ncredential_process = sh -c 'touch {marker}; exit 1'\n")
    clean_env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    clean_env.update({"AWS_CONFIG_FILE": str(aws_config), "AWS_SHARED_CREDENTIALS_FILE": str(aws_config)})
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "tui.launcher",
            "--stage",
            "prepare",
            "--stage",
            "staging",
            "--config",
            str(env.config_path),
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        env=clean_env,
    )
    proxy.close()
    assert result.returncode == 0, result.stderr
    assert not marker.exists()
    gets = [r for r in proxy.requests if r.startswith(b"GET ")]
    assert gets and all(b"authorization:" not in r.lower() for r in gets)


def test_payloads_are_signed_except_on_the_loopback_interface(s3_endpoint):
    from urllib.parse import urlparse

    from etl_core.s3 import make_s3_client

    parsed = urlparse(s3_endpoint)
    proxy = FaultProxy(parsed.hostname, parsed.port)
    try:
        for endpoint in (proxy.url, proxy.url.replace("127.0.0.1", "localhost")):
            client = make_s3_client("eu-central-1", endpoint, access_key="test", secret_key="test")
            client.create_bucket(Bucket="loopback", CreateBucketConfiguration={"LocationConstraint": "eu-central-1"})
            client.put_object(Bucket="loopback", Key="k", Body=b"a,b\n1,2\n")
            client.delete_object(Bucket="loopback", Key="k")
            client.delete_bucket(Bucket="loopback")
    finally:
        proxy.close()
    puts = [r.lower() for r in proxy.requests if r.startswith(b"PUT /loopback/k")]
    assert len(puts) == 2
    assert all(b"x-amz-content-sha256: unsigned-payload" in r and b"authorization: aws4-hmac-sha256" in r for r in puts)
    assert all(b"x-amz-checksum-crc32:" in r or b"x-amz-trailer: x-amz-checksum-crc32" in r for r in puts)
    # Anywhere else botocore's defaults stand: a remote http endpoint gets every payload signed.
    remote = make_s3_client("eu-central-1", "http://s3.example.internal:9000", access_key="t", secret_key="t")
    assert remote.meta.config.s3.get("payload_signing_enabled") is None


def test_embedded_services_listen_only_on_loopback_and_a_socket(tmp_path, monkeypatch):
    from etl_core.services import open_services

    (tmp_path / "config.toml").write_text((REPO / "config.toml").read_text())
    monkeypatch.chdir(tmp_path)
    with open_services(load_config("config.toml")) as services:
        assert (services.s3_endpoint or "").startswith("http://127.0.0.1:")
        conn = services.connect()
        with conn.cursor() as cur:
            cur.execute("SHOW listen_addresses")
            assert cur.fetchone()[0] == ""  # no TCP at all: the Unix socket in the state folder only
        conn.close()


@pytest.mark.parametrize("name", ["x; drop schema public", "Robert'); DROP", "a-b", "UPPER", "1abc", ""])
def test_unsafe_identifiers_are_refused(name):
    with pytest.raises(ValueError):
        safe_identifier(name)


def write_config(tmp_path: Path, old: str, new: str) -> str:
    path = tmp_path / "c.toml"
    path.write_text((REPO / "config.toml").read_text().replace(old, new))
    return str(path)


@pytest.mark.parametrize(
    "old, new, key, words",
    [
        ('user_id = "demo1234"', 'user_id = "x; drop schema public"', "pipeline.user_id", "not a safe identifier"),
        ('\nurl = "embedded"', '\nurl = "postgresql://u:p@host:notaport/db"', "warehouse.url", "not a valid URL"),
        ('\nurl = "embedded"', '\nurl = "mysql://u@h/db"', "warehouse.url", "not supported"),
        ('as_of_date = "2022-09-05"', 'as_of_date = "05/09/2022"', "pipeline.as_of_date", "not an ISO date"),
        ("anonymous = false", 'anonymous = "no"', "source.anonymous", "true or false"),
        ('best_product_by = "review_count"', 'best_product_by = "stars"', "pipeline.best_product_by", "not one of"),
        ('endpoint_url = "embedded"', 'endpoint_url = "ftp://x"', "source.endpoint_url", "http(s)"),
    ],
)
def test_bad_config_values_name_file_and_key(tmp_path, old, new, key, words):
    path = write_config(tmp_path, old, new)
    with pytest.raises(ConfigError) as error:
        load_config(path)
    assert str(error.value).startswith(f"{path}: [{key}]") and words in str(error.value)
    assert ":p@" not in str(error.value)


def test_unknown_keys_are_warned_by_name(tmp_path):
    path = write_config(tmp_path, "[export]", 'colour = "blue"\n\n[export]')
    config = load_config(path)
    assert config.warnings == (f"{path}: unknown key source.colour is ignored",)


def test_unreadable_and_invalid_config_files(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(str(tmp_path / "nope.toml"))
    (tmp_path / "bad.toml").write_text("[pipeline\nuser_id=")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(str(tmp_path / "bad.toml"))
    (tmp_path / "binary.toml").write_bytes(b"\xff\xfe\x00")
    with pytest.raises(ConfigError, match="cannot read"):
        load_config(str(tmp_path / "binary.toml"))
    if os.geteuid() != 0:  # root reads files whatever their mode
        locked = tmp_path / "locked.toml"
        locked.write_text("")
        locked.chmod(0)
        with pytest.raises(ConfigError, match="cannot read"):
            load_config(str(locked))
