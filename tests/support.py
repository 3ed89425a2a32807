"""Helpers shared by the tests: a test's own slice of the services (Env), its config, hand-made data.

Tests import these from here (`from support import ...`), never from conftest.py, whose module
name is not unique once tests/tui/conftest.py is loaded too.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import psycopg2

from etl_core.config import Config, load_config
from etl_core.services import Services, open_services
from faultproxy import FaultProxy, Rule

REPO = Path(__file__).resolve().parents[1]
REGION = "eu-central-1"
INGESTION_DATE = date(2022, 9, 6)


def config_text(
    *,
    user_id: str,
    bucket: str,
    endpoint: str,
    warehouse_url: str,
    state_dir: Path,
    dims_schema: str = "if_common",
    best_product_by: str = "review_count",
    as_of_date: str = "2022-09-05",
    ingestion_date: str = INGESTION_DATE.isoformat(),
    export_bucket: str = "",
    anonymous: bool = False,
    allow_empty_files: bool = True,
) -> str:
    # Empty files are allowed by default: hand-made datasets often have no shipments on purpose; the
    # check that refuses them (the shipped default) has its own tests.
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
allow_empty_files = {str(allow_empty_files).lower()}

[export]
bucket = "{export_bucket}"
prefix = "analytics_export/{{user_id}}/"

[warehouse]
url = "{warehouse_url}"
dims_schema = "{dims_schema}"

[console]
state_dir = "{state_dir}"
"""


def shipped_config(folder: Path, *changes: tuple[str, str]) -> str:
    """The repository's config.toml with each (old, new) text replaced, written as `folder`/config.toml."""
    text = (REPO / "config.toml").read_text()
    for old, new in changes:
        assert old in text, old
        text = text.replace(old, new)
    path = folder / "config.toml"
    path.write_text(text)
    return str(path)


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

    def query(self, statement: str, params: Any = None) -> list[tuple[Any, ...]]:
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

    def set_timeouts(self, **seconds: float) -> None:
        """Write a [timeouts] section (short bounds for a test), replacing any earlier one."""
        text = self.config_path.read_text().split("\n[timeouts]\n")[0]
        self.config_path.write_text(text + "\n[timeouts]\n" + "".join(f"{k} = {v}\n" for k, v in seconds.items()))

    def rewrite_config(self, **changes: Any) -> None:
        text = self.config_path.read_text()
        for key, value in changes.items():
            lines = [
                (f'{key} = "{value}"' if line.split("=")[0].strip() == key else line) for line in text.splitlines()
            ]
            text = "\n".join(lines) + "\n"
        self.config_path.write_text(text)


def create_dims(
    env: Env,
    *,
    holidays: tuple[str, ...] = (),
    products: dict[int, str] | None = None,
    first: str = "2020-01-01",
    last: str = "2023-12-31",
) -> None:
    """Hand-made dimensions: every day in [first, last], weekends and `holidays` not working days."""
    products = products or {p: f"product {p}" for p in range(1, 26)}
    schema = env.dims_schema
    env.execute(
        f"""
        DROP SCHEMA IF EXISTS "{schema}" CASCADE;
        CREATE SCHEMA "{schema}";
        CREATE TABLE "{schema}".dim_dates (calendar_dt date PRIMARY KEY, year_num int, month_of_the_year_num int,
            day_of_the_month_num int, day_of_the_week_num int, working_day bool);
        INSERT INTO "{schema}".dim_dates
        SELECT d::date, extract(year FROM d), extract(month FROM d), extract(day FROM d), extract(isodow FROM d),
               extract(isodow FROM d) < 6 AND NOT (d::date = ANY(%(holidays)s::date[]))
        FROM generate_series(%(first)s::date, %(last)s::date, interval '1 day') AS d;
        CREATE TABLE "{schema}".dim_products (product_id int PRIMARY KEY, product_category varchar,
            product_name varchar);
        CREATE TABLE "{schema}".dim_customers (customer_id int PRIMARY KEY, customer_name varchar, postal_code int);
        CREATE TABLE "{schema}".dim_addresses (postal_code int PRIMARY KEY, country varchar, region varchar,
            state varchar, address varchar);
        INSERT INTO "{schema}".dim_customers SELECT c, 'customer ' || c, 100000 + c FROM generate_series(1, 25) c;
    """,
        {"holidays": list(holidays), "first": first, "last": last},
    )
    for product_id, name in products.items():
        env.execute(f'INSERT INTO "{schema}".dim_products VALUES (%s, %s, %s)', (product_id, "category", name))


ORDERS_HEADER = "order_id,customer_id,order_date,product_id,unit_price,quantity,total_price\n"
BIG_ORDERS_ROWS = 60_000  # about 2 MB: several COPY chunks, so a fault lands mid-transfer
REVIEWS_HEADER = "review,product_id\n"
SHIPMENTS_HEADER = "shipment_id,order_id,shipment_date,delivery_date\n"


def put_dataset(
    env: Env, orders: list[tuple[Any, ...]], reviews: list[tuple[Any, ...]], shipments: list[tuple[Any, ...]]
) -> None:
    """Upload the three files from tuples: orders (id, customer, date, product, price, qty),
    reviews (stars, product), shipments (id, order_id, shipment_date or None, delivery_date or None)."""
    env.put("orders.csv", ORDERS_HEADER + "".join(f"{o},{c},{d},{p},{u},{q},{u * q}\n" for o, c, d, p, u, q in orders))
    env.put("reviews.csv", REVIEWS_HEADER + "".join(f"{r},{p}\n" for r, p in reviews))
    env.put(
        "shipment_deliveries.csv",
        SHIPMENTS_HEADER + "".join(f"{s},{o},{sd or ''},{dd or ''}\n" for s, o, sd, dd in shipments),
    )


def put_small_dataset(env: Env) -> None:
    """Dimensions and the three files of a small valid dataset (what the `env` fixture holds)."""
    create_dims(env, holidays=("2022-01-03", "2022-05-02"))
    put_dataset(
        env,
        orders=[(1, 1, "2022-01-03", 1, 100, 2), (2, 2, "2022-05-02", 2, 50, 1), (3, 3, "2022-06-01", 1, 10, 3)],
        reviews=[(5, 1), (4, 1), (3, 2)],
        shipments=[(1, 1, "2022-01-05", "2022-01-07"), (2, 2, None, None), (3, 3, "2022-06-08", None)],
    )


# Python code that makes pandas and numpy unimportable, as on the lean default install (they are extras).
REFUSE_PANDAS = (
    "import importlib.abc, sys\n"
    "class Refuse(importlib.abc.MetaPathFinder):\n"
    "    def find_spec(self, name, path=None, target=None):\n"
    "        if name.split('.')[0] in ('pandas', 'numpy'):\n"
    "            raise ModuleNotFoundError(f'No module named {name!r}')\n"
    "sys.meta_path.insert(0, Refuse())\n"
)


def run_without_pandas(code: str, cwd: Path, timeout: float) -> subprocess.CompletedProcess[str]:
    """Run `code` in a fresh interpreter where pandas and numpy cannot be imported."""
    return subprocess.run(
        [sys.executable, "-c", REFUSE_PANDAS + code], cwd=cwd, capture_output=True, text=True, timeout=timeout
    )


def big_orders(rows: int = BIG_ORDERS_ROWS) -> str:
    """A valid orders.csv of `rows` rows (2 MB by default), for faults that must land mid-transfer."""
    return ORDERS_HEADER + "".join(f"{i},1,2022-01-{i % 28 + 1:02d},{i % 3 + 1},10,2,20\n" for i in range(1, rows + 1))


def orders_count(env: Env) -> int:
    count: int = env.query(f'SELECT count(*) FROM "{env.user_id}_staging".orders')[0][0]
    return count


def tcp_url(port: int, user: str = "postgres") -> str:
    """The PostgreSQL 15 test server's `postgres` database on 127.0.0.1 (no SSL: a fault proxy in
    between then sees the startup packet, with the application name, first)."""
    return f"postgresql://{user}@127.0.0.1:{port}/postgres?sslmode=disable"


def write_dimension_files(folder: Path, *, bad: dict[str, str] | None = None) -> Path:
    """The four dimension CSVs of create_dims' defaults (dates 2020-2023, products and customers 1-25), header
    in a shuffled order; `bad` appends raw lines to a file (table -> text)."""
    from datetime import date, timedelta

    folder.mkdir(parents=True, exist_ok=True)
    days = [date(2020, 1, 1) + timedelta(days=n) for n in range((date(2023, 12, 31) - date(2020, 1, 1)).days + 1)]
    files = {
        "dim_dates": "working_day,calendar_dt,year_num,month_of_the_year_num,day_of_the_month_num,day_of_the_week_num\n"
        + "".join(
            f"{'true' if d.isoweekday() < 6 else 'false'},{d},{d.year},{d.month},{d.day},{d.isoweekday()}\n"
            for d in days
        ),
        "dim_products": "product_id,product_name,product_category\n"
        + "".join(f"{p},product {p},category\n" for p in range(1, 26)),
        "dim_customers": "customer_id,customer_name,postal_code\n"
        + "".join(f"{c},customer {c},{100000 + c}\n" for c in range(1, 26)),
        "dim_addresses": "postal_code,country,region,state,address\n"
        + "".join(f"{100000 + c},Nigeria,South West,Lagos,{c} Market Street\n" for c in range(1, 26)),
    }
    for table, text in files.items():
        (folder / f"{table}.csv").write_text(text + (bad or {}).get(table, ""), encoding="utf-8")
    return folder


# Dated sources (issue 22): three files per ingestion date under orders_data/dt={date}/.
DATED = "orders_data/dt={date}/"


def day_files(n: int) -> dict[str, str]:
    """Day n's three files: different orders, reviews and shipments every day."""
    orders = [(10 * n + i, i, f"2022-0{i}-0{n}", i, 100 + n, i) for i in range(1, 5)]
    return {
        "orders.csv": ORDERS_HEADER + "".join(f"{o},{c},{d},{p},{u},{q},{u * q}\n" for o, c, d, p, u, q in orders),
        "reviews.csv": REVIEWS_HEADER + "".join(f"{1 + (n + i) % 5},{i}\n" for i in range(1, 4 + n)),
        "shipment_deliveries.csv": SHIPMENTS_HEADER
        + "".join(f"{o},{o},2022-0{i}-1{n},2022-0{i}-2{n}\n" for i, (o, *_rest) in enumerate(orders[:n], start=1)),
    }


def dated_env(make_env: Callable[..., Env], **overrides: Any) -> Env:
    env = make_env(**overrides)
    text = env.config_path.read_text().replace('prefix = "orders_data/"', f'prefix = "{DATED}"')
    env.config_path.write_text(text)
    create_dims(env, holidays=("2022-01-05", "2022-02-06"))
    return env


def put_day(env: Env, day: str, n: int, skip: tuple[str, ...] = ()) -> None:
    for name, text in day_files(n).items():
        if name not in skip:
            env.s3.put_object(Bucket=env.bucket, Key=DATED.replace("{date}", day) + name, Body=text.encode())


@contextmanager
def dated_orders_held(env: Env, s3_endpoint: str, day: str) -> Iterator[Rule]:
    """`day`'s orders.csv made 2 MB, and its read held mid-object by a fault proxy the env's S3 now goes through
    (the rule's `fired` is set once it holds; set its `release` to let the read go on)."""
    env.s3.put_object(Bucket=env.bucket, Key=DATED.replace("{date}", day) + "orders.csv", Body=big_orders().encode())
    parsed = urlparse(s3_endpoint)
    proxy = FaultProxy(parsed.hostname or "127.0.0.1", parsed.port or 80)
    env.config_path.write_text(env.config_path.read_text().replace(s3_endpoint, proxy.url))
    try:
        hold = proxy.add(
            Rule(match=f"GET /{env.bucket}/orders_data/dt%3D{day}/orders.csv", action="hold", after_bytes=300_000)
        )
        yield hold
    finally:
        hold.release.set()
        proxy.close()
