"""What strict ISO dates cost in the aws_s3 transfer mode, measured on the aws_s3 TEST DOUBLE (not a test).

    .venv/bin/python tests/aws_s3_double/measure_strict_dates.py [scale] [repetitions]

Imports the demo dataset's orders.csv and shipment_deliveries.csv (scale 10: 100,000 rows each)
with aws_s3.table_import_from_s3 into fresh staging tables, three ways: `plain` (date columns as
date: no strict check), `iso_regex` (what staging does: the date columns hold a text domain with
the ISO regex during COPY, then one ALTER makes them date and adds their CHECKs back) and
`iso_regex_cast` (the same with a cast to date in the domain's CHECK too). Prints the median
seconds of the two imports together. The double's helper process start is in every figure.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from pathlib import Path
from typing import Final

import boto3
import psycopg2
from moto.server import ThreadedMotoServer

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/, for aws_s3_double

from aws_s3_double.pg15 import start_pg15
from etl_core import demo_data
from etl_core.sql_files import render_sql
from etl_core.transfer_aws_s3 import import_object

REGION: Final = "eu-central-1"
BUCKET = "strict-dates-bench"
ISO = r"VALUE ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}$'"
DOMAINS = {"iso_regex": ISO, "iso_regex_cast": f"VALUE IS NULL OR ({ISO} AND VALUE::date IS NOT NULL)"}
FILES = {
    "orders": (
        ["order_id", "customer_id", "order_date", "product_id", "unit_price", "quantity", "total_price"],
        {"order_date": "order_date_in_range"},
    ),
    "shipment_deliveries": (
        ["shipment_id", "order_id", "shipment_date", "delivery_date"],
        {"shipment_date": "shipment_date_in_range", "delivery_date": "delivery_date_in_range"},
    ),
}


def import_both(cur, conn, variant: str) -> float:
    seconds = 0.0
    for table, (columns, dates) in FILES.items():
        cur.execute(f"DROP TABLE IF EXISTS s.{table}")
        cur.execute(render_sql(f"ddl/staging/{table}.sql", schema="s", table=table))
        saved = []
        if variant != "plain":
            for column, constraint in dates.items():
                cur.execute(
                    "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conname = %s "
                    "AND conrelid = %s::regclass",
                    (constraint, f"s.{table}"),
                )
                saved.append((constraint, cur.fetchone()[0]))
                cur.execute(
                    f"ALTER TABLE s.{table} DROP CONSTRAINT {constraint}, ALTER COLUMN {column} TYPE s.{variant}"
                )
        conn.commit()
        started = time.perf_counter()
        import_object(cur, "s", table, columns, BUCKET, f"p/{table}.csv", REGION)
        if variant != "plain":
            parts = [f"ALTER COLUMN {c} TYPE date USING {c}::date" for c in dates]
            cur.execute(f"ALTER TABLE s.{table} " + ", ".join(parts + [f"ADD CONSTRAINT {n} {d}" for n, d in saved]))
        conn.commit()
        seconds += time.perf_counter() - started
    return seconds


def main() -> None:
    scale = float(sys.argv[1]) if len(sys.argv) > 1 else 10
    repetitions = int(sys.argv[2]) if len(sys.argv) > 2 else 7
    os.environ.update(
        {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": REGION}
    )
    moto = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    moto.start()
    host, port = moto.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    s3 = boto3.client("s3", endpoint_url=endpoint, region_name=REGION)
    s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
    demo_data.upload_demo_dataset(s3, BUCKET, "p/", scale)
    server = start_pg15()
    try:
        conn = psycopg2.connect(server.create_database("strict_dates", s3_endpoint=endpoint))
        cur = conn.cursor()
        cur.execute("SET DateStyle = 'ISO, YMD'; CREATE SCHEMA s")
        for name, check in DOMAINS.items():
            cur.execute(f"CREATE DOMAIN s.{name} AS text CHECK ({check})")
        conn.commit()
        results: dict[str, list[float]] = {}
        for _ in range(repetitions):  # interleaved, so that the machine's load hits every variant alike
            for variant in ("plain", *DOMAINS):
                results.setdefault(variant, []).append(import_both(cur, conn, variant))
        plain = statistics.median(results["plain"])
        for variant, seconds in results.items():
            median = statistics.median(seconds)
            print(
                f"{variant:<15} median {median:.3f}s ({median / plain - 1:+.0%})  runs "
                + " ".join(f"{s:.2f}" for s in seconds)
            )
        conn.close()
    finally:
        server.stop()
        moto.stop()


if __name__ == "__main__":
    main()
