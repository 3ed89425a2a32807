"""The aws_s3 TEST DOUBLE itself: the documented API of the RDS/Aurora extension, as the docs state it.

If the double drifts from the documentation, the tests of etl_core.transfer_aws_s3 prove nothing,
so its signatures, return values, COPY behaviour and export naming are pinned here.
"""

from __future__ import annotations

import gzip
import itertools
import os
from datetime import date, timedelta
from typing import Any

import psycopg2
import pytest

from support import REGION

pytest_plugins = ["aws_s3_double.fixtures"]

_buckets = itertools.count(1)


@pytest.fixture
def bucket(s3: Any) -> str:
    name = f"double-{os.getpid()}-{next(_buckets)}"
    s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": REGION})
    return name


@pytest.fixture
def cur(aws_s3_dsn: str) -> Any:
    conn = psycopg2.connect(aws_s3_dsn)
    with conn.cursor() as cursor:
        cursor.execute("CREATE TABLE t (a int, b date, c text)")
        conn.commit()
        yield cursor
    conn.close()


def test_the_documented_functions_and_types_exist_with_their_signatures(cur):
    cur.execute("""
        SELECT n.nspname || '.' || p.proname || '(' || pg_get_function_arguments(p.oid) || ') -> '
               || pg_get_function_result(p.oid)
        FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
        WHERE n.nspname IN ('aws_s3', 'aws_commons') AND p.proname NOT LIKE '\\_%' ORDER BY 1""")
    assert [row[0] for row in cur.fetchall()] == [
        (
            "aws_commons.create_aws_credentials(access_key text, secret_key text, "
            "session_token text DEFAULT NULL::text) -> aws_commons._aws_credentials_1"
        ),
        "aws_commons.create_s3_uri(bucket text, file_path text, region text) -> aws_commons._s3_uri_1",
        (
            "aws_s3.query_export_to_s3(query text, bucket text, file_path text, region text DEFAULT NULL::text, "
            "options text DEFAULT NULL::text, kms_key text DEFAULT NULL::text, OUT rows_uploaded bigint, "
            "OUT files_uploaded bigint, OUT bytes_uploaded bigint) -> record"
        ),
        (
            "aws_s3.query_export_to_s3(query text, s3_info aws_commons._s3_uri_1, options text DEFAULT NULL::text, "
            "kms_key text DEFAULT NULL::text, OUT rows_uploaded bigint, OUT files_uploaded bigint, "
            "OUT bytes_uploaded bigint) -> record"
        ),
        (
            "aws_s3.table_import_from_s3(table_name text, column_list text, options text, bucket text, "
            "file_path text, region text) -> text"
        ),
        (
            "aws_s3.table_import_from_s3(table_name text, column_list text, options text, bucket text, "
            "file_path text, region text, access_key text, secret_key text, session_token text) -> text"
        ),
        (
            "aws_s3.table_import_from_s3(table_name text, column_list text, options text, "
            "s3_info aws_commons._s3_uri_1) -> text"
        ),
        (
            "aws_s3.table_import_from_s3(table_name text, column_list text, options text, "
            "s3_info aws_commons._s3_uri_1, credentials aws_commons._aws_credentials_1) -> text"
        ),
    ]
    cur.execute("SELECT (aws_commons.create_s3_uri('b', 'k', 'r')).*, (aws_commons.create_aws_credentials('a', 's')).*")
    assert cur.fetchone() == ("b", "k", "r", "a", "s", None)
    cur.execute("SELECT extname, extversion FROM pg_extension WHERE extname LIKE 'aws%' ORDER BY 1")
    assert cur.fetchall() == [("aws_commons", "1.2"), ("aws_s3", "1.1")]


@pytest.mark.parametrize(
    "arguments",
    [
        "'(format csv, header true)', aws_commons.create_s3_uri(%(b)s, 'in.csv', 'eu-central-1')",
        (
            "'format csv, header true', aws_commons.create_s3_uri(%(b)s, 'in.csv', 'eu-central-1'), "
            "aws_commons.create_aws_credentials('k', 's', '')"
        ),
        "'FORMAT csv, HEADER true', %(b)s, 'in.csv', 'eu-central-1'",
        "'format csv, header true', %(b)s, 'in.csv', 'eu-central-1', 'k', 's', 't'",
    ],
    ids=["s3_info", "s3_info and credentials", "bucket, file_path, region", "bucket ... session_token"],
)
def test_every_import_form_copies_into_the_callers_transaction_and_reports_as_rds(cur, bucket, s3, arguments):
    body = b'c,a,b\nx,1,2022-01-05\n"y, z",2,\n'
    s3.put_object(Bucket=bucket, Key="in.csv", Body=body)
    cur.execute(f"SELECT aws_s3.table_import_from_s3('t', 'c,a,b', {arguments})", {"b": bucket})
    assert cur.fetchone()[0] == f'2 rows imported into relation "t" from file in.csv of {len(body)} bytes'
    cur.execute("SELECT a, b::text, c FROM t ORDER BY a")
    assert cur.fetchall() == [(1, "2022-01-05", "x"), (2, None, "y, z")]
    cur.connection.rollback()
    cur.execute("SELECT count(*) FROM t")
    assert cur.fetchone()[0] == 0


def test_a_bad_value_fails_with_postgres_own_error_and_copy_context(cur, bucket, s3):
    s3.put_object(Bucket=bucket, Key="bad.csv", Body=b"a,b\n1,2022-01-05\n2,not a date\n")
    with pytest.raises(psycopg2.errors.InvalidDatetimeFormat) as raised:
        cur.execute(
            "SELECT aws_s3.table_import_from_s3('t', 'a,b', 'format csv, header true', %s, 'bad.csv', %s)",
            (bucket, REGION),
        )
    assert raised.value.diag.message_primary == 'invalid input syntax for type date: "not a date"'
    assert (raised.value.diag.context or "").startswith('COPY t, line 3, column b: "not a date"\n')


def test_a_gzip_object_is_decompressed(cur, bucket, s3):
    s3.put_object(Bucket=bucket, Key="in.csv.gz", Body=gzip.compress(b"1,2022-01-05,x\n"), ContentEncoding="gzip")
    cur.execute("SELECT aws_s3.table_import_from_s3('t', '', '(format csv)', %s, 'in.csv.gz', %s)", (bucket, REGION))
    assert cur.fetchone()[0].startswith("1 rows imported")


def test_a_missing_object_fails_naming_it(cur, bucket):
    with pytest.raises(psycopg2.Error, match=f"could not read s3://{bucket}/missing.csv: HTTP 404 NoSuchKey"):
        cur.execute(
            "SELECT aws_s3.table_import_from_s3('t', '', '(format csv)', %s, 'missing.csv', %s)", (bucket, REGION)
        )


def test_options_cannot_leave_the_with_clause(cur, bucket):
    with pytest.raises(psycopg2.Error, match="options must be COPY options"):
        cur.execute(
            "SELECT aws_s3.table_import_from_s3('t', '', 'format csv); DROP TABLE t; --', %s, 'k', %s)",
            (bucket, REGION),
        )


def test_export_returns_rows_files_bytes_and_splits_large_outputs_into_part_files(cur, bucket, s3):
    cur.execute("INSERT INTO t SELECT n, DATE '2022-01-01' + n, 'row ' || n FROM generate_series(1, 300) n")
    cur.execute("SET d2b_test_double.export_max_file_bytes = 2000")
    cur.execute(
        "SELECT * FROM aws_s3.query_export_to_s3('SELECT * FROM t ORDER BY a', "
        "aws_commons.create_s3_uri(%s, 'out/t', %s), options := 'format csv, header true')",
        (bucket, REGION),
    )
    rows, files, size = cur.fetchone()
    keys = ["out/t"] + [f"out/t_part{n}" for n in range(2, files + 1)]
    parts = [s3.get_object(Bucket=bucket, Key=key)["Body"].read() for key in keys]
    lines = (f"{n},{date(2022, 1, 1) + timedelta(days=n)},row {n}\n" for n in range(1, 301))
    whole = b"a,b,c\n" + "".join(lines).encode()
    assert (rows, size) == (300, len(whole))
    assert files == len(whole) // 2000 + 1 and files > 1
    assert b"".join(parts) == whole
    assert all(part.endswith(b"\n") for part in parts)  # split between lines
    assert sorted(o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]) == sorted(keys)


def test_a_failing_export_query_leaves_no_object(cur, bucket, s3):
    with pytest.raises(psycopg2.errors.DivisionByZero):
        cur.execute(
            "SELECT * FROM aws_s3.query_export_to_s3("
            "'SELECT n, 1 / (n - 50000) FROM generate_series(1, 100000) n', %s, 'never.csv')",
            (bucket,),
        )
    assert "Contents" not in s3.list_objects_v2(Bucket=bucket)
    assert "Uploads" not in s3.list_multipart_uploads(Bucket=bucket)


def test_without_the_endpoint_setting_the_double_refuses_to_run(make_aws_s3_database, bucket):
    conn = psycopg2.connect(make_aws_s3_database(s3_endpoint=None))
    with conn.cursor() as cur, pytest.raises(psycopg2.Error, match="d2b_test_double.s3_endpoint is not set"):
        cur.execute("SELECT * FROM aws_s3.query_export_to_s3('SELECT 1', %s, 'k.csv')", (bucket,))
    conn.close()
