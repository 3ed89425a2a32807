"""The aws_s3 transfer mode end to end, against the aws_s3 TEST DOUBLE (Debian PostgreSQL 15 + moto S3).

`[warehouse] transfer = "aws_s3"`: the warehouse imports the three files and writes the three
exports itself. These tests run the real pipeline and CLI on the double: exports byte-identical
to client mode, bad files named and refused without touching staging, the preflight, cancel,
the config errors, and the mode shown wherever the console says what it is connected to.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import psycopg2
import pytest

from cli_process import CliProcess
from etl_core.config import load_config
from etl_core.errors import ConfigError
from etl_core.events import CancelToken, RunSummary
from etl_core.kinds import StageName
from etl_core.pipeline import run_pipeline
from faultproxy import FaultProxy, Rule
from helpers import SharedLoad
from support import Env, create_dims, put_dataset

pytest_plugins = ["aws_s3_double.fixtures"]

REPO = Path(__file__).resolve().parents[1]
ANALYTICS = ("agg_public_holiday", "agg_shipments", "best_performing_product")
# Texts that need CSV quoting, and non-ASCII, so that quoting and encoding are compared too.
PRODUCTS = {1: 'Gerät, "groß"', 2: "plain", 3: "line\nbreak", **{p: f"product {p}" for p in range(4, 26)}}


def make_mode_env(make_env: Callable[..., Env], dsn: str, pg_uri: str, transfer: str) -> Env:
    """An environment whose warehouse is a database `dsn` of the double's PostgreSQL 15."""
    env = make_env()
    env.pg_uri = dsn
    text = env.config_path.read_text().replace(pg_uri, dsn)
    env.config_path.write_text(text.replace("\n[console]", f'transfer = "{transfer}"\n\n[console]'))
    create_dims(env, holidays=("2022-01-03", "2022-05-02"), products=PRODUCTS)
    put_mode_dataset(env)
    return env


def put_mode_dataset(env: Env) -> None:
    put_dataset(
        env,
        orders=[
            (1, 1, "2022-01-03", 1, 100, 2),
            (2, 2, "2022-05-02", 2, 50, 1),
            (3, 3, "2022-06-01", 1, 10, 3),
            (4, 4, "2022-06-02", 3, 7, 1),
        ],
        reviews=[(5, 1), (4, 1), (3, 2), (1, 3)],
        shipments=[
            (1, 1, "2022-01-05", "2022-01-07"),
            (2, 2, None, None),
            (3, 3, "2022-06-08", None),
            (4, 4, "2022-06-03", "2022-06-30"),
        ],
    )


@pytest.fixture
def aws_env(make_env: Callable[..., Env], aws_s3_dsn: str, pg_uri: str) -> Env:
    return make_mode_env(make_env, aws_s3_dsn, pg_uri, "aws_s3")


def run(env: Env, stages: tuple[StageName, ...] | None = None, cancel: CancelToken | None = None) -> RunSummary:
    with env.open() as services:
        if stages is None:
            return run_pipeline(services, cancel=cancel)
        return run_pipeline(services, stages, cancel=cancel)


def succeeded(summary: RunSummary) -> RunSummary:
    assert summary.status == "succeeded", [(s.stage, s.error) for s in summary.stages]
    return summary


def staging_checksum(env: Env) -> dict[str, tuple[int, str]]:
    """Each staging table's row count and a checksum of every row (in key order)."""
    schema = f"{env.user_id}_staging"
    return {
        table: env.query(
            f"SELECT count(*), md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) "
            f'FROM "{schema}".{table} AS t'
        )[0]
        for table in ("orders", "reviews", "shipment_deliveries")
    }


def load_tables(env: Env) -> list[str]:
    return [
        name
        for (name,) in env.query(
            "SELECT tablename FROM pg_tables WHERE schemaname = %s AND tablename LIKE '%%\\_\\_load%%'",
            (f"{env.user_id}_staging",),
        )
    ]


def cli(env: Env, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tui.launcher", "--config", str(env.config_path), *args],
        cwd=env.config_path.parent,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )


# --- the whole pipeline ---------------------------------------------------------------------------


def test_exports_are_byte_identical_to_client_mode(make_env, make_aws_s3_database, aws_env, pg_uri, s3):
    client_env = make_mode_env(make_env, make_aws_s3_database(extension=False), pg_uri, "client")

    server = succeeded(run(aws_env))
    succeeded(run(client_env))

    staging = next(s for s in server.stages if s.stage == "staging")
    assert staging.rows == 12
    assert staging_checksum(aws_env) == staging_checksum(client_env)
    for table in ANALYTICS:
        ours = s3.get_object(Bucket=aws_env.bucket, Key=f"analytics_export/{aws_env.user_id}/{table}.csv")
        theirs = s3.get_object(Bucket=client_env.bucket, Key=f"analytics_export/{client_env.user_id}/{table}.csv")
        assert ours["Body"].read() == theirs["Body"].read(), table
    best = s3.get_object(Bucket=aws_env.bucket, Key=f"analytics_export/{aws_env.user_id}/best_performing_product.csv")
    assert '"Gerät, ""groß"""' in best["Body"].read().decode("utf-8")  # quoting and UTF-8 were exercised
    assert load_tables(aws_env) == []
    assert server.log_file is not None
    log = Path(server.log_file).read_text().splitlines()
    assert log[0].endswith("; transfer aws_s3"), log[0]
    assert any("(the warehouse reads it itself: aws_s3.table_import_from_s3)" in line for line in log)
    assert any("(the warehouse writes it itself: aws_s3.query_export_to_s3)" in line for line in log)


# --- bad files ----------------------------------------------------------------------------------------

ORDERS = "order_id,customer_id,order_date,product_id,unit_price,quantity,total_price"
SHIPMENTS = "shipment_id,order_id,shipment_date,delivery_date"


@pytest.fixture(scope="module")
def aws_good_load(make_module_env: Callable[..., Env], pg15: Any, s3_endpoint: str, pg_uri: str) -> SharedLoad:
    """One aws_s3 environment (its own database) for the bad files below: a good load made once, which
    each failed load must leave as it was (the good files are put back before each test)."""
    dsn = pg15.create_database(f"aws_s3_{os.getpid()}_bad_files", s3_endpoint=s3_endpoint)
    return SharedLoad(make_mode_env(make_module_env, dsn, pg_uri, "aws_s3"), put_mode_dataset)


@pytest.fixture
def aws_loaded(aws_good_load: SharedLoad) -> tuple[Env, dict[str, str]]:
    return aws_good_load.fresh()


@pytest.mark.parametrize(
    ("name", "body", "expected"),
    [
        pytest.param(
            "orders.csv",
            f"{ORDERS}\n1,1,2022-01-03,1,100,2,200\n2,2,5 Sep 22,1,1,1,1\n",
            "orders_data/orders.csv: line 3, column order_date (field 3): not an ISO date (YYYY-MM-DD); "
            "value '5 Sep 22'",
            id="non-ISO date",
        ),
        pytest.param(
            "shipment_deliveries.csv",
            f"{SHIPMENTS}\n1,1,,20220905\n",
            "orders_data/shipment_deliveries.csv: line 2, column delivery_date (field 4): not an ISO date "
            "(YYYY-MM-DD, or empty for none); value '20220905'",
            id="non-ISO date, nullable column",
        ),
        pytest.param(
            "orders.csv",
            f"{ORDERS}\n1,1,2022-02-30,1,100,2,200\n",
            "orders_data/orders.csv: line 2, column order_date (field 3): date/time field value out of range; "
            "value '2022-02-30'",
            id="not a real day",
        ),
        pytest.param(
            "shipment_deliveries.csv",
            f"{SHIPMENTS}\n1,1,2022-01-05,2022-01-07\n2,2,2022-01-05,2022-04-31\n",
            "orders_data/shipment_deliveries.csv: line 3, column delivery_date (field 4): date/time field value "
            "out of range; value '2022-04-31'",
            id="not a real day, second date column",
        ),
        pytest.param(
            "orders.csv",
            f"{ORDERS}\n1,1,2022-01-03,1,100,2,200\n2,1,3000-01-01,1,100,2,200\n",
            "orders_data/orders.csv: line 3, column order_date (field 3): value breaks the rule "
            "order_date_in_range; value '3000-01-01'",
            id="date out of the table's range",
        ),
        pytest.param(
            "reviews.csv",
            "review,product_id\n5,1\n7,2\n",
            "orders_data/reviews.csv: line 3, column review (field 1): value breaks the rule review_between_1_and_5",
            id="refused value",
        ),
        pytest.param(
            "orders.csv",
            f"{ORDERS}\n1,1,2022-01-03,1,abc,2,200\n",
            "orders_data/orders.csv: line 2, column unit_price (field 5): invalid input syntax for type "
            "integer; value 'abc'",
            id="not a number",
        ),
        pytest.param(
            "orders.csv",
            f"{ORDERS}\r\n1,1,2022-01-03,1,100,2,200\n",
            "orders_data/orders.csv: line 2: it ends with LF, the header line with CRLF: with [warehouse] "
            'transfer = "aws_s3" the warehouse\'s own COPY reads the file and needs one line ending throughout',
            id="CRLF header, LF data",
        ),
        pytest.param(
            "orders.csv",
            f"{ORDERS}\n1,1,2022-01-03,1,100,2,200\r\n",
            "orders_data/orders.csv: line 2: it ends with CRLF, the header line with LF",
            id="LF header, CRLF data",
        ),
        pytest.param(
            "orders.csv",
            f"{ORDERS}\r\n1,1,2022-01-03,1,100,2,200\r\n2,1,2022-01-03,1,100,2,200\n3,1,2022-01-03,1,100,2,200\r\n",
            "orders_data/orders.csv: line 3: its line ending differs from the header line's",
            id="mixed further on",
        ),
        pytest.param(
            "orders.csv",
            ORDERS.replace("customer_id", "customer") + "\n1,1,2022-01-03,1,1,1,1\n",
            "orders_data/orders.csv: line 1 (header): missing column(s): customer_id; unknown column(s): "
            "'customer' (column 2)",
            id="wrong header",
        ),
        pytest.param("orders.csv", "", "orders_data/orders.csv: the object is empty", id="empty object"),
        pytest.param(
            "orders.csv",
            b"\x1f\x8b\x08\x00" + bytes(40),
            "orders_data/orders.csv: the object is a gzip-compressed file, not CSV text",
            id="gzip",
        ),
        pytest.param(
            "orders.csv",
            f"{ORDERS}\n1,1,,1,100,2,200\n",
            "orders_data/orders.csv: line 2, column order_date (field 3): empty, but the column needs a value",
            id="empty date where one is needed",
        ),
        pytest.param(
            "orders.csv",
            f"{ORDERS}\n1,1,2022-01-03,1,100,2,200\n1,1,2022-01-03,1,100,2,200\n",
            "orders_data/orders.csv: line 3, column order_id (field 1): duplicate key value, first seen on line 2",
            id="duplicate key",
        ),
    ],
)
def test_a_bad_file_is_named_and_leaves_staging_as_it_was(aws_loaded, name, body, expected):
    aws_env, _ = aws_loaded
    before = staging_checksum(aws_env)
    aws_env.put(name, body)

    summary = run(aws_env, ("staging",))

    staging = summary.stages[0]
    assert staging.status == "failed"
    assert expected in (staging.error or ""), staging.error
    if "line 2" in expected or "line 3" in expected:
        assert "Nothing was loaded: " in (staging.error or "")
    assert staging_checksum(aws_env) == before
    assert load_tables(aws_env) == []


# --- preflight ----------------------------------------------------------------------------------------


def test_without_the_extension_a_run_and_a_dry_run_exit_3_saying_what_the_dba_must_run(
    make_env, make_aws_s3_database, pg_uri
):
    dsn = make_aws_s3_database(extension=False)
    env = make_mode_env(make_env, dsn, pg_uri, "aws_s3")
    database = urlparse(dsn).path.lstrip("/")

    for args in (("--run-all",), ("--dry-run",), ("--run-all", "--json")):
        result = cli(env, *args)
        assert result.returncode == 3, (args, result.stderr)
        assert f"the aws_s3 extension is not installed in database '{database}'" in result.stderr
        assert (
            "must run CREATE EXTENSION aws_s3 CASCADE; in that database, then the grants of "
            'sql/bootstrap/aws_s3_extension.sql for role "postgres"' in result.stderr
        )
    assert json.loads(result.stdout)["exit_code"] == 3
    assert env.query("SELECT count(*) FROM pg_namespace WHERE nspname = %s", (f"{env.user_id}_staging",)) == [(0,)]


def test_a_missing_grant_exits_3_naming_the_grant(make_env, aws_s3_dsn, pg_uri):
    role = f"op_{os.getpid()}_{time.monotonic_ns() % 10**6}"
    admin = psycopg2.connect(aws_s3_dsn)
    with admin, admin.cursor() as cur:
        cur.execute(f'CREATE ROLE "{role}" LOGIN NOSUPERUSER')
    admin.close()
    env = make_mode_env(make_env, aws_s3_dsn, pg_uri, "aws_s3")
    env.config_path.write_text(
        env.config_path.read_text().replace(aws_s3_dsn, aws_s3_dsn.replace("postgres@", f"{role}@"))
    )

    result = cli(env, "--dry-run")

    assert result.returncode == 3, result.stderr
    assert (
        f'role "{role}" may not use the schema aws_s3: a DBA must run GRANT USAGE ON SCHEMA aws_s3 TO "{role}";'
        in result.stderr
    )
    assert (
        f'GRANT EXECUTE ON FUNCTION aws_s3.table_import_from_s3(text, text, text, aws_commons._s3_uri_1) TO "{role}";'
    ) in result.stderr


def test_the_dry_run_and_json_show_the_mode(aws_env):
    result = cli(aws_env, "--dry-run")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0].endswith(", transfer aws_s3")

    result = cli(aws_env, "--dry-run", "--json")
    assert json.loads(result.stdout)["transfer"] == "aws_s3"


# --- config -------------------------------------------------------------------------------------------


def test_an_unknown_transfer_mode_exits_2_naming_the_key_and_the_choices(env):
    env.config_path.write_text(env.config_path.read_text().replace("\n[console]", 'transfer = "s3"\n\n[console]'))
    with pytest.raises(ConfigError) as raised:
        load_config(str(env.config_path))
    assert raised.value.key == "warehouse.transfer"
    assert '\'s3\' is not one of "client", "aws_s3"' in str(raised.value)

    result = cli(env, "--run-all")
    assert result.returncode == 2
    assert "[warehouse.transfer] 's3' is not one of" in result.stderr


def test_aws_s3_with_the_embedded_warehouse_exits_2_saying_why(env, tmp_path):
    text = env.config_path.read_text().replace(env.pg_uri, "embedded")
    env.config_path.write_text(text.replace("\n[console]", 'transfer = "aws_s3"\n\n[console]'))
    with pytest.raises(
        ConfigError, match='"aws_s3" needs an RDS or Aurora PostgreSQL warehouse: only those have the aws_s3 extension'
    ):
        load_config(str(env.config_path))

    result = cli(env, "--dry-run")
    assert result.returncode == 2
    assert "[warehouse.transfer]" in result.stderr
    # The warehouse URL given in the environment makes it valid again.
    os.environ["D2B_WAREHOUSE_URL"] = env.pg_uri
    try:
        assert load_config(str(env.config_path)).warehouse.server_side
    finally:
        del os.environ["D2B_WAREHOUSE_URL"]


def test_aws_s3_with_the_embedded_s3_exits_2_saying_why(env, s3_endpoint):
    text = env.config_path.read_text().replace(f'endpoint_url = "{s3_endpoint}"', 'endpoint_url = "embedded"')
    env.config_path.write_text(text.replace("\n[console]", 'transfer = "aws_s3"\n\n[console]'))
    with pytest.raises(ConfigError, match="it cannot reach the embedded S3 on this machine"):
        load_config(str(env.config_path))


def test_client_is_the_default_and_documented(env):
    assert load_config(str(env.config_path)).warehouse.transfer == "client"  # the key left out
    assert load_config(str(REPO / "etl_core" / "default_config.toml")).warehouse.transfer == "client"
    assert "| `warehouse.transfer` | `client` |" in (REPO / "README.md").read_text()


# --- export layout ------------------------------------------------------------------------------------


def test_an_export_split_into_parts_fails_naming_them_and_deletes_them(aws_env, s3, pg15):
    database = urlparse(aws_env.pg_uri).path.lstrip("/")
    succeeded(run(aws_env, ("prepare", "staging", "analytics")))
    admin = psycopg2.connect(aws_env.pg_uri)
    admin.autocommit = True
    with admin.cursor() as cur:  # the double splits at this size (RDS: about 6 GB)
        cur.execute(f'ALTER DATABASE "{database}" SET d2b_test_double.export_max_file_bytes = 40')
    admin.close()

    summary = run(aws_env, ("export",))

    export = summary.stages[0]
    assert export.status == "failed"
    prefix = f"s3://{aws_env.bucket}/analytics_export/{aws_env.user_id}/agg_public_holiday.csv"
    assert f"the warehouse split the export of agg_public_holiday into 2 files ({prefix}, {prefix}_part2)" in (
        export.error or ""
    ), export.error
    assert "they were deleted" in (export.error or "")
    listing = s3.list_objects_v2(Bucket=aws_env.bucket, Prefix=f"analytics_export/{aws_env.user_id}/")
    assert "Contents" not in listing, listing.get("Contents")


# --- cancel -------------------------------------------------------------------------------------------


@pytest.fixture
def proxied_aws_env(make_env, make_aws_s3_database, pg_uri, s3_endpoint) -> Any:
    """An aws_s3 environment whose warehouse reaches S3 through a fault proxy (the console's own
    requests do not)."""
    parsed = urlparse(s3_endpoint)
    proxy = FaultProxy(parsed.hostname, parsed.port)
    yield make_mode_env(make_env, make_aws_s3_database(s3_endpoint=proxy.url), pg_uri, "aws_s3"), proxy
    proxy.close()


def hold_the_orders_import(env: Env, proxy: FaultProxy) -> tuple[dict[str, tuple[int, str]], Rule]:
    """After a good load: staging's checksum, and a hold on the database's read of a 2 MB orders.csv."""
    succeeded(run(env, ("prepare", "staging")))
    before = staging_checksum(env)
    env.put(
        "orders.csv", ORDERS + "\n" + "".join(f"{i},1,2022-01-{i % 28 + 1:02d},1,10,2,20\n" for i in range(1, 60_001))
    )
    return before, proxy.add(
        Rule(match=f"GET /{env.bucket}/orders_data/orders.csv", action="hold", after_bytes=100_000)
    )


def assert_nothing_left_running(env: Env) -> None:
    assert load_tables(env) == []
    assert env.query(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
        "AND query LIKE %s AND pid <> pg_backend_pid()",
        ("%table_import_from_s3%",),
    ) == [(0,)]


def test_a_cancel_during_an_import_ends_the_server_call_and_publishes_nothing(proxied_aws_env, pg15):
    env, proxy = proxied_aws_env
    before, hold = hold_the_orders_import(env, proxy)
    cancel = CancelToken()
    outcome: dict[str, Any] = {}
    worker = threading.Thread(target=lambda: outcome.update(summary=run(env, ("staging",), cancel)), daemon=True)
    worker.start()
    try:
        assert hold.fired.wait(60), "the import never reached the held S3 read"
        started = time.monotonic()
        cancel.cancel()
        worker.join(60)
        assert not worker.is_alive(), "the run did not stop on cancel"
        seconds = time.monotonic() - started
    finally:
        hold.release.set()

    summary = outcome["summary"]
    assert summary.status == "cancelled", [(s.stage, s.error) for s in summary.stages]
    assert seconds < 30
    assert staging_checksum(env) == before
    assert_nothing_left_running(env)
    assert env.query(
        f'SELECT status FROM "{env.user_id}_staging".console_runs WHERE run_id = %s', (summary.run_id,)
    ) == [("cancelled",)]


def test_sigterm_during_an_import_exits_143_and_records_the_run_cancelled(proxied_aws_env, pg15, tmp_path):
    env, proxy = proxied_aws_env
    before, hold = hold_the_orders_import(env, proxy)
    process = CliProcess(env.config_path, "--stage", "staging", "--json", cwd=tmp_path)
    try:
        assert hold.fired.wait(60), "the import never reached the held S3 read"
        process.send(signal.SIGTERM)
        result = process.finish(timeout=60)
    finally:
        hold.release.set()
        process.kill()

    assert result.code == 143, result.stderr
    outcome = json.loads(result.stdout)
    assert outcome["status"] == "cancelled" and outcome["transfer"] == "aws_s3"
    assert staging_checksum(env) == before
    assert_nothing_left_running(env)
