"""S3 messages that point the right way: missing credentials name the fix (exit 3); an endpoint that goes
away mid-run is retried, then named ("refused the connection"), never an "unexpected error"."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time

import boto3
import pytest

from cli_process import CliProcess
from faultproxy import FaultProxy, Rule
from support import REGION, big_orders, put_small_dataset


def test_no_credentials_at_start_exit_3_naming_the_fix(env, tmp_path):
    bare = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    bare |= {
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "no-credentials"),
        "AWS_CONFIG_FILE": str(tmp_path / "no-config"),
        "AWS_EC2_METADATA_DISABLED": "true",  # no instance role either
    }
    for action in ("--run-all", "--dry-run"):
        result = subprocess.run(
            [sys.executable, "-m", "tui.launcher", action, "--config", str(env.config_path)],
            cwd=tmp_path,
            env=bare,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 3, result.stderr
        assert "no AWS credentials were found to sign requests to S3 endpoint http://" in result.stderr
        assert (
            "run `aws configure`, or set the environment variables AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, "
            in (result.stderr)
        )
        assert "or set anonymous = true in [source] for a public bucket" in result.stderr
        assert "network" not in result.stderr and "Traceback" not in result.stderr


@pytest.fixture
def own_s3():
    """A moto S3 server of this test's own, in a child process, so that the test can make it go away."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            assert server.poll() is None and time.monotonic() < deadline, "moto did not start"
            time.sleep(0.1)
    yield server, port
    server.kill()
    server.wait(10)


# Between the server's end and the proxy's close a connection may reach the proxy, whose thread then fails.
@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
@pytest.mark.parametrize(
    ("request_line", "doing"),
    [("GET /{bucket}/orders_data/orders.csv", "reading"), ("PUT /{bucket}/analytics_export/", "writing")],
    ids=["mid-read", "mid-upload"],
)
def test_an_s3_endpoint_that_goes_away_mid_run_is_retried_then_named(make_env, own_s3, tmp_path, request_line, doing):
    server, port = own_s3
    env = make_env(create_bucket=False)
    proxy = FaultProxy("127.0.0.1", port)
    env.config_path.write_text(env.config_path.read_text().replace(env.s3.meta.endpoint_url, proxy.url))
    env.s3 = boto3.client("s3", endpoint_url=f"http://127.0.0.1:{port}", region_name=REGION)
    env.s3.create_bucket(Bucket=env.bucket, CreateBucketConfiguration={"LocationConstraint": REGION})
    put_small_dataset(env)
    env.put("orders.csv", big_orders())
    # The server's answer is held (a 2 MB read part-way, an upload before its answer), then the server goes away.
    rule = proxy.add(
        Rule(request_line.format(bucket=env.bucket), "hold", after_bytes=100_000 if doing == "reading" else 0)
    )
    process = CliProcess(env.config_path, "--run-all", cwd=tmp_path)
    try:
        assert rule.fired.wait(120), "".join(process.lines)
        server.kill()
        server.wait(10)
        proxy.close()  # releases the held answer: that connection drops, and new ones are refused
        result = process.finish(timeout=120)
    finally:
        process.kill()
        proxy.close()
    assert result.code == 1, result.stderr
    assert f"S3 endpoint {proxy.url} refused the connection while {doing} s3://{env.bucket}/" in result.stderr
    assert "unexpected error" not in result.stderr and "Traceback" not in result.stderr
    if doing == "reading":
        assert "retrying in 1s (attempt 2 of 4)" in result.stderr  # retried like a 5xx
        assert "(4 attempts); nothing was loaded" in result.stderr
