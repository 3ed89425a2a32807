"""etl_core.transfer_aws_s3 against the aws_s3 TEST DOUBLE (Debian PostgreSQL 15 + moto S3).

The double implements the documented SQL API of the RDS/Aurora extension (see
tests/aws_s3_double/); these tests exercise the console's side: preflight, import, export, cancel.
"""

from __future__ import annotations

import io
import itertools
import os
import threading
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlparse

import psycopg2
import pytest

from etl_core.copy_format import CSV_EXPORT_OPTIONS, CSV_IMPORT_OPTIONS
from etl_core.errors import Cancelled
from etl_core.sql_files import render_sql
from etl_core.stages import export as client_export
from etl_core.transfer_aws_s3 import ExportReport, ImportDataError, export_query, import_object, preflight
from faultproxy import FaultProxy, Rule
from support import REGION

pytest_plugins = ["aws_s3_double.fixtures"]

_buckets = itertools.count(1)
SHIPMENT_COLUMNS_IN_FILE = ["order_id", "shipment_id", "delivery_date", "shipment_date"]


@pytest.fixture
def bucket(s3: Any) -> str:
    name = f"aws-s3-{os.getpid()}-{next(_buckets)}"
    s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": REGION})
    return name


def connect(dsn: str) -> Any:
    conn = psycopg2.connect(dsn)
    with conn, conn.cursor() as cur:  # the console's session settings (etl_core.warehouse.connect)
        cur.execute("SET DateStyle = 'ISO, YMD'; SET TimeZone = 'UTC'")
    return conn


def create_shipments_table(dsn: str, table: str = "shipment_deliveries", rows: str = "") -> None:
    conn = connect(dsn)
    with conn, conn.cursor() as cur:
        cur.execute("CREATE SCHEMA IF NOT EXISTS staging")
        cur.execute(render_sql("ddl/staging/shipment_deliveries.sql", schema="staging", table=table))
        if rows:
            cur.execute(f"INSERT INTO staging.{table} VALUES {rows}")
    conn.close()


def table_rows(dsn: str, table: str = "shipment_deliveries") -> list[tuple[Any, ...]]:
    conn = connect(dsn)
    with conn, conn.cursor() as cur:
        cur.execute(
            f"SELECT shipment_id, order_id, shipment_date::text, delivery_date::text "
            f"FROM staging.{table} ORDER BY shipment_id"
        )
        rows: list[tuple[Any, ...]] = cur.fetchall()
    conn.close()
    return rows


# --- preflight ----------------------------------------------------------------------------------------


def test_preflight_without_the_extension_names_create_extension(make_aws_s3_database):
    dsn = make_aws_s3_database(extension=False)
    conn = connect(dsn)
    with conn.cursor() as cur:
        problems = preflight(cur)
    conn.close()
    database = urlparse(dsn).path.lstrip("/")
    assert len(problems) == 1
    assert f"the aws_s3 extension is not installed in database '{database}'" in problems[0]
    assert "a DBA (on RDS the master user) must run CREATE EXTENSION aws_s3 CASCADE; in that database" in problems[0]
    assert 'the grants of sql/bootstrap/aws_s3_extension.sql for role "postgres"' in problems[0]


def test_preflight_passes_for_a_superuser_and_names_a_missing_function_form(aws_s3_dsn):
    conn = connect(aws_s3_dsn)
    with conn, conn.cursor() as cur:
        assert preflight(cur) == []
        # An older extension without the documented export form (RDS before 10.14, 11.9, 12.4, 13.1).
        export_form = "aws_s3.query_export_to_s3(text, aws_commons._s3_uri_1, text, text)"
        cur.execute(f"ALTER EXTENSION aws_s3 DROP FUNCTION {export_form}")
        cur.execute(f"DROP FUNCTION {export_form}")
        assert preflight(cur) == [
            (
                f"the aws_s3 extension 1.1 in database '{urlparse(aws_s3_dsn).path.lstrip('/')}' has no "
                "aws_s3.query_export_to_s3 of the documented form (needed to export): a DBA must run "
                "ALTER EXTENSION aws_s3 UPDATE; (exports need RDS for PostgreSQL 10.14, 11.9, 12.4, 13.1 or later)"
            ),
        ]
    conn.close()


def test_preflight_names_each_missing_grant_and_the_bootstrap_grants_exactly_those(aws_s3_dsn, bucket, s3):
    role = f"op_{os.getpid()}_{next(_buckets)}"
    admin = connect(aws_s3_dsn)
    with admin, admin.cursor() as cur:
        cur.execute(f'CREATE ROLE "{role}" LOGIN NOSUPERUSER')
        cur.execute("CREATE SCHEMA staging")
        cur.execute(f'GRANT USAGE, CREATE ON SCHEMA staging TO "{role}"')
    operator_dsn = aws_s3_dsn.replace("postgres@", f"{role}@")
    conn = connect(operator_dsn)
    with conn.cursor() as cur:
        assert preflight(cur) == [
            (
                f'role "{role}" may not use the schema aws_commons: a DBA must run '
                f'GRANT USAGE ON SCHEMA aws_commons TO "{role}";'
            ),
            f'role "{role}" may not use the schema aws_s3: a DBA must run GRANT USAGE ON SCHEMA aws_s3 TO "{role}";',
            (
                f'role "{role}" may not execute aws_commons.create_s3_uri (needed to name the S3 objects): '
                f'a DBA must run GRANT EXECUTE ON FUNCTION aws_commons.create_s3_uri(text, text, text) TO "{role}";'
            ),
            (
                f'role "{role}" may not execute aws_s3.table_import_from_s3 (needed to import): a DBA must run '
                f"GRANT EXECUTE ON FUNCTION aws_s3.table_import_from_s3(text, text, text, aws_commons._s3_uri_1) "
                f'TO "{role}";'
            ),
            (
                f'role "{role}" may not execute aws_s3.query_export_to_s3 (needed to export): a DBA must run '
                f"GRANT EXECUTE ON FUNCTION aws_s3.query_export_to_s3(text, aws_commons._s3_uri_1, text, text) "
                f'TO "{role}";'
            ),
        ]
        conn.rollback()
        with pytest.raises(Exception, match="permission denied for schema aws_"):
            export_query(cur, "SELECT 1 AS one", bucket, "denied.csv", REGION)
    conn.rollback()

    with admin, admin.cursor() as cur:
        cur.execute(render_sql("bootstrap/aws_s3_extension.sql", operator_role=role))
        cur.execute(render_sql("bootstrap/aws_s3_extension.sql", operator_role=role))  # idempotent
    admin.close()
    with conn, conn.cursor() as cur:
        assert preflight(cur) == []
        # The bootstrap is enough to work: import into the operator's own table, export it back.
        cur.execute(render_sql("ddl/staging/shipment_deliveries.sql", schema="staging", table="mine"))
    s3.put_object(Bucket=bucket, Key="in.csv", Body=b"order_id,shipment_id,delivery_date,shipment_date\n7,1,,\n")
    with conn, conn.cursor() as cur:
        assert import_object(cur, "staging", "mine", SHIPMENT_COLUMNS_IN_FILE, bucket, "in.csv", REGION) == 1
        report = export_query(cur, "SELECT shipment_id, order_id FROM staging.mine", bucket, "out.csv", REGION)
    conn.close()
    assert report == ExportReport(rows=1, files=1, bytes=len(b"shipment_id,order_id\n1,7\n"))
    assert s3.get_object(Bucket=bucket, Key="out.csv")["Body"].read() == b"shipment_id,order_id\n1,7\n"


# --- import -------------------------------------------------------------------------------------------


def test_import_reads_what_client_mode_reads(aws_s3_dsn, bucket, s3):
    # Columns in another order than the table's, a UTF-8 BOM, CRLF line ends, quoted fields, empty dates.
    data = (
        b"order_id,shipment_id,delivery_date,shipment_date\r\n"
        b'10,1,2022-01-07,2022-01-05\r\n"11",2,,\r\n12,3,,"2022-06-08"\r\n'
    )
    s3.put_object(Bucket=bucket, Key="orders_data/shipment_deliveries.csv", Body=b"\xef\xbb\xbf" + data)
    create_shipments_table(aws_s3_dsn)
    create_shipments_table(aws_s3_dsn, "client_mode")

    conn = connect(aws_s3_dsn)
    with conn, conn.cursor() as cur:
        rows = import_object(
            cur,
            "staging",
            "shipment_deliveries",
            SHIPMENT_COLUMNS_IN_FILE,
            bucket,
            "orders_data/shipment_deliveries.csv",
            REGION,
        )
        # Client mode: the console strips the header line and streams the rest into COPY FROM STDIN.
        cur.copy_expert(
            f"COPY staging.client_mode ({', '.join(SHIPMENT_COLUMNS_IN_FILE)}) FROM STDIN WITH ({CSV_IMPORT_OPTIONS})",
            io.BytesIO(data.split(b"\n", 1)[1]),
        )
    conn.close()

    assert rows == 3
    assert table_rows(aws_s3_dsn) == [
        (1, 10, "2022-01-05", "2022-01-07"),
        (2, 11, None, None),
        (3, 12, "2022-06-08", None),
    ]
    assert table_rows(aws_s3_dsn, "client_mode") == table_rows(aws_s3_dsn)


def test_a_bad_value_names_key_line_column_and_value_and_changes_nothing(aws_s3_dsn, bucket, s3):
    s3.put_object(
        Bucket=bucket,
        Key="orders_data/shipment_deliveries.csv",
        Body=b"order_id,shipment_id,delivery_date,shipment_date\n10,1,,2022-01-05\n11,2,,2022-13-45\n",
    )
    create_shipments_table(aws_s3_dsn, rows="(99, 9, NULL, NULL)")

    conn = connect(aws_s3_dsn)
    with pytest.raises(ImportDataError) as raised, conn.cursor() as cur:
        import_object(
            cur,
            "staging",
            "shipment_deliveries",
            SHIPMENT_COLUMNS_IN_FILE,
            bucket,
            "orders_data/shipment_deliveries.csv",
            REGION,
        )
    conn.rollback()
    conn.close()

    error = raised.value
    assert (error.key, error.line, error.column, error.value) == (
        "orders_data/shipment_deliveries.csv",
        3,
        "shipment_date",
        "2022-13-45",
    )
    assert str(error) == (
        "orders_data/shipment_deliveries.csv: line 3, column shipment_date: "
        "date/time field value out of range: \"2022-13-45\"; value '2022-13-45'"
    )
    assert table_rows(aws_s3_dsn) == [(99, 9, None, None)]


def test_a_missing_object_is_a_stage_error_naming_it(aws_s3_dsn, bucket):
    create_shipments_table(aws_s3_dsn)
    conn = connect(aws_s3_dsn)
    with pytest.raises(Exception) as raised, conn.cursor() as cur:
        import_object(cur, "staging", "shipment_deliveries", SHIPMENT_COLUMNS_IN_FILE, bucket, "nope.csv", REGION)
    conn.close()
    assert type(raised.value).__name__ == "StageError"
    assert str(raised.value).startswith(
        f"s3://{bucket}/nope.csv could not be imported into staging.shipment_deliveries by "
        "aws_s3.table_import_from_s3: "
    )
    assert "NoSuchKey" in str(raised.value)


# --- export -------------------------------------------------------------------------------------------


def test_export_is_byte_identical_to_client_mode(aws_s3_dsn, bucket, s3):
    conn = connect(aws_s3_dsn)
    with conn, conn.cursor() as cur:
        cur.execute("CREATE SCHEMA analytics")
        cur.execute("""CREATE TABLE analytics.report (ingestion_date date PRIMARY KEY, product_name varchar,
                       is_public_holiday boolean, pct numeric(5, 2), points bigint, note text)""")
        cur.execute("""INSERT INTO analytics.report VALUES
            ('2022-09-06', 'plain', true, 12.5, 10, NULL),
            ('2022-09-05', 'comma, "quote" and
newline', false, 0, 0, ''),
            ('2022-09-07', 'ünïcødé ✓', NULL, 100.00, NULL, 'x')""")
    with conn, conn.cursor() as cur:
        query = client_export.export_query(cur, "analytics", "report")  # client mode's own query
        client_csv = io.BytesIO()
        cur.copy_expert(f"COPY ({query.as_string(cur)}) TO STDOUT WITH ({CSV_EXPORT_OPTIONS})", client_csv)
        report = export_query(cur, query, bucket, "analytics_export/op/report.csv", REGION)
    conn.close()

    exported = s3.get_object(Bucket=bucket, Key="analytics_export/op/report.csv")["Body"].read()
    assert exported == client_csv.getvalue()
    assert exported.startswith(b"ingestion_date,product_name,is_public_holiday,pct,points,note\n2022-09-05,")
    assert report == ExportReport(rows=3, files=1, bytes=len(exported))
    assert report.object_keys("k.csv") == ["k.csv"]


# --- cancel -------------------------------------------------------------------------------------------


@pytest.fixture
def proxied_database(make_aws_s3_database, s3_endpoint) -> Any:
    """A database whose double reaches moto through the fault proxy."""
    parsed = urlparse(s3_endpoint)
    proxy = FaultProxy(parsed.hostname, parsed.port)
    yield make_aws_s3_database(s3_endpoint=proxy.url), proxy
    proxy.close()


def _backend_of(conn: Any) -> int:
    with conn.cursor() as cur:
        cur.execute("SELECT pg_backend_pid()")
        return int(cur.fetchone()[0])


def _run_in_thread(work: Callable[[], Any]) -> tuple[threading.Thread, dict[str, Any]]:
    outcome: dict[str, Any] = {}

    def target() -> None:
        try:
            outcome["result"] = work()
        except BaseException as exc:  # noqa: BLE001 - the test inspects it
            outcome["error"] = exc

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    return thread, outcome


def _helpers_running(pg15: Any) -> list[str]:
    """Command lines of the double's S3 helpers still running on this server."""
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as handle:
                command = handle.read().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if f"{pg15.root}/s3_pipe.py" in command:
            found.append(command)
    return found


def _cancel(dsn: str, conn: Any, backend: int, how: str) -> None:
    """Cancel what `conn` runs: as a DBA would (pg_cancel_backend), or as the console does (a cancel request)."""
    if how == "cancel request":
        conn.cancel()
        return
    admin = connect(dsn)
    with admin, admin.cursor() as cur:
        cur.execute("SELECT pg_cancel_backend(%s)", (backend,))
        assert cur.fetchone()[0] is True
    admin.close()


def _assert_no_helper_left(pg15: Any) -> None:
    deadline = time.monotonic() + 10  # the helper exits on the same SIGINT as the backend's statement
    while _helpers_running(pg15) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _helpers_running(pg15) == []


def _cancel_while_held(dsn: str, hold: Rule, how: str, work: Callable[[Any], Any]) -> dict[str, Any]:
    """Run work(cursor) in a transaction on its own connection; once S3 holds it, cancel it `how`."""
    conn = connect(dsn)
    backend = _backend_of(conn)

    def transaction() -> Any:
        with conn, conn.cursor() as cur:
            return work(cur)

    thread, outcome = _run_in_thread(transaction)
    try:
        assert hold.fired.wait(60), "the transfer never reached the held S3 request"
        assert thread.is_alive()
        _cancel(dsn, conn, backend, how)
        thread.join(60)
        assert not thread.is_alive(), "the transfer did not stop on cancel"
    finally:
        hold.release.set()
    conn.close()
    return outcome


@pytest.mark.parametrize("how", ["pg_cancel_backend", "cancel request"])
def test_cancel_stops_an_import_held_by_s3(proxied_database, bucket, s3, pg15, how):
    dsn, proxy = proxied_database
    body = b"order_id,shipment_id,delivery_date,shipment_date\n" + b"".join(
        b"%d,%d,,2022-01-05\n" % (n, n) for n in range(1, 20001)
    )
    s3.put_object(Bucket=bucket, Key="big.csv", Body=body)
    create_shipments_table(dsn, rows="(99, 9, NULL, NULL)")
    hold = proxy.add(Rule(match=f"GET /{bucket}/big.csv", action="hold", after_bytes=100_000))

    outcome = _cancel_while_held(
        dsn,
        hold,
        how,
        lambda cur: import_object(
            cur, "staging", "shipment_deliveries", SHIPMENT_COLUMNS_IN_FILE, bucket, "big.csv", REGION
        ),
    )

    assert isinstance(outcome.get("error"), Cancelled), outcome
    assert table_rows(dsn) == [(99, 9, None, None)]
    _assert_no_helper_left(pg15)


@pytest.mark.parametrize("how", ["pg_cancel_backend", "cancel request"])
def test_cancel_stops_an_export_held_by_s3_and_leaves_no_object(proxied_database, bucket, s3, pg15, how):
    dsn, proxy = proxied_database
    # About 24 MB of CSV: a multipart upload of 8 MB parts, held on the second part.
    query = "SELECT n, repeat('x', 40) AS filler FROM generate_series(1, 500000) AS n"
    hold = proxy.add(Rule(match="&partNumber=2 HTTP/1.1", action="hold", after_bytes=0))

    outcome = _cancel_while_held(dsn, hold, how, lambda cur: export_query(cur, query, bucket, "big.csv", REGION))

    assert isinstance(outcome.get("error"), Cancelled), outcome
    assert "Contents" not in s3.list_objects_v2(Bucket=bucket)
    assert "Uploads" not in s3.list_multipart_uploads(Bucket=bucket)  # the helper aborted it
    _assert_no_helper_left(pg15)
