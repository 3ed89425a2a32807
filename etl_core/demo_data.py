"""A deterministic demo dataset shaped like the real data lake (PIPELINE.md section 2), and demo dimensions.

Scale 1 is the real size (10,000 orders, about 7,200 reviews); scale 100 is one million orders.
Files are generated in chunks and streamed into S3 multipart uploads, so memory stays flat.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import numpy as np
import pandas as pd

from etl_core.s3 import MultipartWriter

FIRST_ORDER_DATE = date(2021, 1, 1)
LAST_ORDER_DATE = date(2022, 9, 5)
CUSTOMERS = 25
PRODUCTS = 25
ORDERS_AT_SCALE_1 = 10_000
REVIEWS_AT_SCALE_1 = 7_200
CHUNK_ROWS = 10_000  # rows generated at a time: one scale-1 file fits in one chunk, so memory is flat
DIM_DATES_FROM = date(2020, 1, 1)
DIM_DATES_TO = date(2023, 12, 31)

# Fixed-date public holidays (month, day) plus movable ones; some fall on weekends, as in real calendars.
FIXED_HOLIDAYS = [(1, 1), (5, 1), (6, 12), (10, 1), (12, 25), (12, 26)]
MOVABLE_HOLIDAYS = [
    date(2020, 4, 10), date(2020, 4, 13), date(2020, 5, 24), date(2020, 7, 31),
    date(2021, 4, 2), date(2021, 4, 5), date(2021, 5, 13), date(2021, 7, 20), date(2021, 12, 27), date(2021, 12, 28),
    date(2022, 1, 3), date(2022, 4, 15), date(2022, 4, 18), date(2022, 5, 2), date(2022, 5, 3), date(2022, 6, 13),
    date(2022, 7, 11), date(2023, 4, 7), date(2023, 4, 10), date(2023, 4, 21), date(2023, 6, 28),
]


@dataclass(frozen=True)
class DemoFile:
    key_name: str
    rows: int


def orders_count(scale: float) -> int:
    return max(1, round(ORDERS_AT_SCALE_1 * scale))


def _iso(days: np.ndarray) -> np.ndarray:
    """Day offsets from FIRST_ORDER_DATE as ISO strings."""
    return (np.datetime64(FIRST_ORDER_DATE) + days.astype("timedelta64[D]")).astype(str)


def order_chunks(scale: float, seed: int = 42) -> Iterator[pd.DataFrame]:
    """Orders in chunks, with the shipment columns each order will get (kept aligned by order_id)."""
    total = orders_count(scale)
    span = (LAST_ORDER_DATE - FIRST_ORDER_DATE).days + 1
    rng = np.random.default_rng(seed)
    product_weights = rng.uniform(0.5, 1.5, PRODUCTS)
    product_weights /= product_weights.sum()
    for start in range(0, total, CHUNK_ROWS):
        n = min(CHUNK_ROWS, total - start)
        days = rng.integers(0, span, n)
        unit_price = rng.integers(50, 1001, n)
        quantity = rng.integers(1, 11, n)
        shipped = rng.random(n) < 1 / 3
        ship_days = days + rng.integers(1, 7, n)
        delivered = shipped & (rng.random(n) < 0.75)
        delivery_days = ship_days + rng.integers(1, 4, n)
        yield pd.DataFrame({
            "order_id": np.arange(start + 1, start + n + 1),
            "customer_id": rng.integers(1, CUSTOMERS + 1, n),
            "order_date": _iso(days),
            "product_id": rng.choice(np.arange(1, PRODUCTS + 1), n, p=product_weights),
            "unit_price": unit_price,
            "quantity": quantity,
            "total_price": unit_price * quantity,
            "shipment_date": np.where(shipped, _iso(ship_days), ""),
            "delivery_date": np.where(delivered, _iso(delivery_days), ""),
        })


def review_chunks(scale: float, seed: int = 7) -> Iterator[pd.DataFrame]:
    total = max(1, round(REVIEWS_AT_SCALE_1 * scale))
    rng = np.random.default_rng(seed)
    product_weights = rng.uniform(0.5, 1.5, PRODUCTS)
    product_weights /= product_weights.sum()
    for start in range(0, total, CHUNK_ROWS):
        n = min(CHUNK_ROWS, total - start)
        yield pd.DataFrame({
            "review": rng.choice([1, 2, 3, 4, 5], n, p=[0.1, 0.1, 0.2, 0.3, 0.3]),
            "product_id": rng.choice(np.arange(1, PRODUCTS + 1), n, p=product_weights),
        })


def _write_csv(writer: MultipartWriter, frames: Iterator[pd.DataFrame], columns: list[str]) -> int:
    rows = 0
    for i, frame in enumerate(frames):
        text = frame[columns].to_csv(index=False, header=(i == 0), lineterminator="\n")
        writer.write(text.encode("utf-8"))
        rows += len(frame)
    return rows


def upload_demo_dataset(client: Any, bucket: str, prefix: str, scale: float,
                        log: Callable[[str], None] = lambda _m: None) -> list[DemoFile]:
    """Generate the three source files at `scale` and upload them under `prefix`."""
    files = []
    jobs = [
        ("orders.csv", order_chunks(scale),
         ["order_id", "customer_id", "order_date", "product_id", "unit_price", "quantity", "total_price"]),
        ("reviews.csv", review_chunks(scale), ["review", "product_id"]),
        # Generated from the same seeded orders, so each order gets exactly one shipment row.
        ("shipment_deliveries.csv", (f.assign(shipment_id=f["order_id"]) for f in order_chunks(scale)),
         ["shipment_id", "order_id", "shipment_date", "delivery_date"]),
    ]
    for name, frames, columns in jobs:
        writer = MultipartWriter(client, bucket, prefix + name)
        try:
            rows = _write_csv(writer, frames, columns)
            writer.complete()
        except BaseException:
            writer.abort()
            raise
        log(f"demo data: wrote s3://{bucket}/{prefix}{name} ({rows:,} rows)")
        files.append(DemoFile(name, rows))
    return files


def is_public_holiday_date(day: date) -> bool:
    return (day.month, day.day) in FIXED_HOLIDAYS or day in MOVABLE_HOLIDAYS


def dim_dates_rows(first: date = DIM_DATES_FROM, last: date = DIM_DATES_TO) -> Iterator[tuple]:
    day = first
    while day <= last:
        weekday = day.isoweekday()
        working = weekday <= 5 and not is_public_holiday_date(day)
        yield (day.isoformat(), day.year, day.month, day.day, weekday, working)
        day += timedelta(days=1)


CATEGORIES = ["electronics", "books", "kitchen", "toys", "garden"]
REGIONS = [("Nigeria", "South West", "Lagos"), ("Nigeria", "North Central", "Abuja"),
           ("Ghana", "Greater Accra", "Accra"), ("Kenya", "Nairobi", "Nairobi"), ("Nigeria", "South South", "Rivers")]


def create_demo_dimensions(cur: Any, dims_schema: str) -> None:
    """Create and fill the demo dimension tables in the caller's transaction. Embedded warehouse only."""
    from psycopg2 import sql

    from etl_core.sql_files import render_sql, safe_identifier

    cur.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(safe_identifier(dims_schema)))
    cur.execute(render_sql("ddl/demo_dimensions.sql", dims=dims_schema))
    tables = {
        "dim_dates": list(dim_dates_rows()),
        "dim_products": [(p, CATEGORIES[p % len(CATEGORIES)], f"product {p:02d}") for p in range(1, PRODUCTS + 1)],
        "dim_addresses": [(100000 + c, *REGIONS[c % len(REGIONS)], f"{c} Market Street")
                          for c in range(1, CUSTOMERS + 1)],
        "dim_customers": [(c, f"customer {c:02d}", 100000 + c) for c in range(1, CUSTOMERS + 1)],
    }
    for table, rows in tables.items():
        buffer = io.StringIO("".join("\t".join(str(v) for v in row) + "\n" for row in rows))
        copy = sql.SQL("COPY {}.{} FROM STDIN").format(safe_identifier(dims_schema), safe_identifier(table))
        cur.copy_expert(copy.as_string(cur), buffer)
