"""Real services for the tests: a PostgreSQL server (pgserver) and moto's S3 HTTP server.

Every test gets its own user_id (so its own schemas), its own bucket and its own state folder,
so tests share the two servers without sharing data.
"""

from __future__ import annotations

import itertools
import logging
import os
import tempfile
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, Callable, Iterator

import boto3
import psycopg2
import pytest

from etl_core.config import Config, load_config
from etl_core.services import Services, open_services

os.environ.setdefault("XDG_RUNTIME_DIR", tempfile.mkdtemp(prefix="d2b-test-runtime-"))
# Fake credentials for moto; real ones must never be used by the tests.
os.environ.update({"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                   "AWS_SESSION_TOKEN": "testing", "AWS_DEFAULT_REGION": "eu-central-1"})
os.environ.pop("D2B_WAREHOUSE_URL", None)
logging.getLogger("werkzeug").setLevel(logging.ERROR)

REGION = "eu-central-1"
INGESTION_DATE = date(2022, 9, 6)
_counter = itertools.count(1)


@pytest.fixture(scope="session")
def pg_uri(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    import pgserver

    server = pgserver.get_server(tmp_path_factory.mktemp("pg") / "data", cleanup_mode="stop")
    yield server.get_uri()
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


def config_text(*, user_id: str, bucket: str, endpoint: str, warehouse_url: str, state_dir: Path,
                dims_schema: str = "if_common", best_product_by: str = "review_count",
                as_of_date: str = "2022-09-05", ingestion_date: str = INGESTION_DATE.isoformat(),
                export_bucket: str = "", anonymous: bool = False) -> str:
    return f"""
[pipeline]
user_id = "{user_id}"
as_of_date = "{as_of_date}"
ingestion_date = "{ingestion_date}"
best_product_by = "{best_product_by}"

[source]
bucket = "{bucket}"
prefix = "orders_data/"
region = "{REGION}"
endpoint_url = "{endpoint}"
anonymous = {str(anonymous).lower()}

[export]
bucket = "{export_bucket}"
prefix = "analytics_export/{{user_id}}/"

[warehouse]
url = "{warehouse_url}"
dims_schema = "{dims_schema}"

[console]
state_dir = "{state_dir}"
"""


@dataclass
class Env:
    """One test's slice of the shared services: its config file, bucket, schemas and helpers."""

    config_path: Path
    user_id: str
    bucket: str
    dims_schema: str
    pg_uri: str
    s3: Any

    @property
    def config(self) -> Config:
        return load_config(str(self.config_path))

    def put(self, name: str, text: str | bytes) -> None:
        body = text.encode("utf-8") if isinstance(text, str) else text
        self.s3.put_object(Bucket=self.bucket, Key=f"orders_data/{name}", Body=body)

    def query(self, statement: str, params: Any = None) -> list[tuple]:
        conn = psycopg2.connect(self.pg_uri)
        try:
            with conn, conn.cursor() as cur:
                cur.execute(statement, params)
                return cur.fetchall() if cur.description else []
        finally:
            conn.close()

    def execute(self, statement: str, params: Any = None) -> None:
        self.query(statement, params)

    def open(self) -> Services:
        return open_services(self.config)

    def rewrite_config(self, **changes: Any) -> None:
        text = self.config_path.read_text()
        for key, value in changes.items():
            lines = [(f'{key} = "{value}"' if line.split("=")[0].strip() == key else line) for line in text.splitlines()]
            text = "\n".join(lines) + "\n"
        self.config_path.write_text(text)


@pytest.fixture
def make_env(pg_uri: str, s3_endpoint: str, s3: Any, tmp_path: Path) -> Callable[..., Env]:
    """Build an isolated environment; dimension tables are created with `create_dims`."""

    def make(**overrides: Any) -> Env:
        n = next(_counter)
        user_id = overrides.pop("user_id", f"t{os.getpid()}_{n}")
        bucket = overrides.pop("bucket", f"lake-{os.getpid()}-{n}")
        dims_schema = overrides.pop("dims_schema", f"{user_id}_dims")
        create_bucket = overrides.pop("create_bucket", True)
        if create_bucket:
            s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION})
        folder = tmp_path / f"env{n}"
        folder.mkdir()
        path = folder / "config.toml"
        path.write_text(config_text(user_id=user_id, bucket=bucket, endpoint=s3_endpoint, warehouse_url=pg_uri,
                                    state_dir=folder / "state", dims_schema=dims_schema, **overrides))
        return Env(path, user_id, bucket, dims_schema, pg_uri, s3)

    return make


def create_dims(env: Env, *, holidays: tuple[str, ...] = (), products: dict[int, str] | None = None,
                first: str = "2020-01-01", last: str = "2023-12-31") -> None:
    """Hand-made dimensions: every day in [first, last], weekends and `holidays` not working days."""
    products = products or {p: f"product {p}" for p in range(1, 26)}
    schema = env.dims_schema
    env.execute(f"""
        DROP SCHEMA IF EXISTS "{schema}" CASCADE;
        CREATE SCHEMA "{schema}";
        CREATE TABLE "{schema}".dim_dates (calendar_dt date PRIMARY KEY, year_num int, month_of_the_year_num int,
            day_of_the_month_num int, day_of_the_week_num int, working_day bool);
        INSERT INTO "{schema}".dim_dates
        SELECT d::date, extract(year FROM d), extract(month FROM d), extract(day FROM d), extract(isodow FROM d),
               extract(isodow FROM d) < 6 AND NOT (d::date = ANY(%(holidays)s::date[]))
        FROM generate_series(%(first)s::date, %(last)s::date, interval '1 day') AS d;
        CREATE TABLE "{schema}".dim_products (product_id int PRIMARY KEY, product_category varchar, product_name varchar);
        CREATE TABLE "{schema}".dim_customers (customer_id int PRIMARY KEY, customer_name varchar, postal_code int);
        CREATE TABLE "{schema}".dim_addresses (postal_code int PRIMARY KEY, country varchar, region varchar,
            state varchar, address varchar);
        INSERT INTO "{schema}".dim_customers SELECT c, 'customer ' || c, 100000 + c FROM generate_series(1, 25) c;
    """, {"holidays": list(holidays), "first": first, "last": last})
    for product_id, name in products.items():
        env.execute(f'INSERT INTO "{schema}".dim_products VALUES (%s, %s, %s)', (product_id, "category", name))


ORDERS_HEADER = "order_id,customer_id,order_date,product_id,unit_price,quantity,total_price\n"
REVIEWS_HEADER = "review,product_id\n"
SHIPMENTS_HEADER = "shipment_id,order_id,shipment_date,delivery_date\n"


def put_dataset(env: Env, orders: list[tuple], reviews: list[tuple], shipments: list[tuple]) -> None:
    """Upload the three files from tuples: orders (id, customer, date, product, price, qty),
    reviews (stars, product), shipments (id, order_id, shipment_date or None, delivery_date or None)."""
    env.put("orders.csv", ORDERS_HEADER + "".join(
        f"{o},{c},{d},{p},{u},{q},{u * q}\n" for o, c, d, p, u, q in orders))
    env.put("reviews.csv", REVIEWS_HEADER + "".join(f"{r},{p}\n" for r, p in reviews))
    env.put("shipment_deliveries.csv", SHIPMENTS_HEADER + "".join(
        f"{s},{o},{sd or ''},{dd or ''}\n" for s, o, sd, dd in shipments))


@pytest.fixture
def env(make_env: Callable[..., Env]) -> Env:
    """An environment with dimensions and a small valid dataset already in the bucket."""
    e = make_env()
    create_dims(e, holidays=("2022-01-03", "2022-05-02"))
    put_dataset(
        e,
        orders=[(1, 1, "2022-01-03", 1, 100, 2), (2, 2, "2022-05-02", 2, 50, 1), (3, 3, "2022-06-01", 1, 10, 3)],
        reviews=[(5, 1), (4, 1), (3, 2)],
        shipments=[(1, 1, "2022-01-05", "2022-01-07"), (2, 2, None, None), (3, 3, "2022-06-08", None)],
    )
    return e
