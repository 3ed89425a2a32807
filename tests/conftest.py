"""Real services for the tests: a PostgreSQL server (pgserver) and moto's S3 HTTP server.

Every test gets its own user_id (so its own schemas), its own bucket and its own state folder,
so tests share the two servers without sharing data.
"""

from __future__ import annotations

import itertools
import logging
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import boto3
import psycopg2
import pytest

from etl_core.embedded.postmaster import stop_postmaster
from etl_core.pipeline import run_pipeline
from faultproxy import FaultProxy
from support import REGION, Env, big_orders, config_text, put_small_dataset, tcp_url

os.environ.setdefault("XDG_RUNTIME_DIR", tempfile.mkdtemp(prefix="d2b-test-runtime-"))
# Fake credentials for moto; real ones must never be used by the tests.
os.environ.update(
    {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "eu-central-1",
    }
)
os.environ.pop("D2B_WAREHOUSE_URL", None)
logging.getLogger("werkzeug").setLevel(logging.ERROR)

_counter = itertools.count(1)


@pytest.fixture(scope="session")
def pg_uri(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    import pgserver

    datadir = tmp_path_factory.mktemp("pg") / "data"
    server = pgserver.get_server(datadir, cleanup_mode="stop")
    # A throw-away server: no fsync (each commit waited ~5 ms on the shared disk). A killed process loses
    # nothing by it (its writes are in the OS already), so the tests that kill things still prove durability.
    conn = psycopg2.connect(server.get_uri())
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("ALTER SYSTEM SET fsync = off")
        cur.execute("SELECT pg_reload_conf()")
    conn.close()
    yield server.get_uri()
    # A throw-away server, stopped within seconds: pgserver's own stop waits up to 60 s for a backend that
    # does not end.
    stop_postmaster(datadir)
    server.cleanup()


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def s3(s3_endpoint: str) -> Any:
    return boto3.client("s3", endpoint_url=s3_endpoint, region_name=REGION)


def env_maker(pg_uri: str, s3_endpoint: str, s3: Any, folder: Path) -> Callable[..., Env]:
    """make(**overrides) -> an isolated Env: its own user_id (so its own schemas), bucket and state folder."""

    def make(**overrides: Any) -> Env:
        n = next(_counter)
        user_id = overrides.pop("user_id", f"t{os.getpid()}_{n}")
        bucket = overrides.pop("bucket", f"lake-{os.getpid()}-{n}")
        dims_schema = overrides.pop("dims_schema", f"{user_id}_dims")
        create_bucket = overrides.pop("create_bucket", True)
        if create_bucket:
            s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION})
        env_folder = folder / f"env{n}"
        env_folder.mkdir()
        path = env_folder / "config.toml"
        path.write_text(
            config_text(
                user_id=user_id,
                bucket=bucket,
                endpoint=s3_endpoint,
                warehouse_url=pg_uri,
                state_dir=env_folder / "state",
                dims_schema=dims_schema,
                **overrides,
            )
        )
        return Env(path, user_id, bucket, dims_schema, pg_uri, s3)

    return make


@pytest.fixture
def make_env(pg_uri: str, s3_endpoint: str, s3: Any, tmp_path: Path) -> Callable[..., Env]:
    """Build an isolated environment; dimension tables are created with `create_dims`."""
    return env_maker(pg_uri, s3_endpoint, s3, tmp_path)


@pytest.fixture(scope="module")
def make_module_env(pg_uri: str, s3_endpoint: str, tmp_path_factory: pytest.TempPathFactory) -> Callable[..., Env]:
    """`make_env` for a module-scoped fixture: an expensive set-up shared by the tests of one file, which
    must leave it as they found it."""
    s3 = boto3.client("s3", endpoint_url=s3_endpoint, region_name=REGION)
    return env_maker(pg_uri, s3_endpoint, s3, tmp_path_factory.mktemp("module-env"))


@pytest.fixture
def tcp_env(make_env: Callable[..., Env], pg15: Any, pg_uri: str) -> Iterator[tuple[Env, FaultProxy]]:
    """An environment whose warehouse is the session's PostgreSQL 15 on TCP (the `pg15` fixture of
    aws_s3_double.fixtures: load it with pytest_plugins), reached through a fault proxy, with
    dimensions and a small valid dataset."""
    proxy = FaultProxy("127.0.0.1", pg15.port)
    env = make_env()
    env.pg_uri = tcp_url(pg15.port)
    env.config_path.write_text(env.config_path.read_text().replace(pg_uri, tcp_url(proxy.port)))
    put_small_dataset(env)
    yield env, proxy
    proxy.close()


@pytest.fixture
def s3_proxied(env: Env, s3_endpoint: str) -> Iterator[tuple[Env, FaultProxy]]:
    """`env` after one successful run; then its S3 traffic goes through a fault proxy and orders.csv is 2 MB."""
    with env.open() as services:
        summary = run_pipeline(services)
    assert summary.status == "succeeded", [(s.stage, s.error) for s in summary.stages]
    parsed = urlparse(s3_endpoint)
    proxy = FaultProxy(parsed.hostname or "127.0.0.1", parsed.port or 80)
    env.config_path.write_text(env.config_path.read_text().replace(s3_endpoint, proxy.url))
    env.put("orders.csv", big_orders())
    yield env, proxy
    proxy.close()


@pytest.fixture
def env(make_env: Callable[..., Env]) -> Env:
    """An environment with dimensions and a small valid dataset already in the bucket."""
    e = make_env()
    put_small_dataset(e)
    return e
