"""A deterministic demo dataset shaped like the real data lake (docs/DATA.md, "Source files"), and demo dimensions.

Scale 1 is the real size (10,000 orders, about 7,200 reviews); scale 100 is one million orders.
Rows are generated in chunks and streamed into S3 multipart uploads, so memory stays flat. Plain
Python (a seeded `random.Random`): the embedded default needs no numpy or pandas, 157 MB of a
fresh install.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import random
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any, Protocol

from etl_core.s3 import PART_SIZE, MultipartWriter, object_info
from etl_core.stages.staging.sources import SOURCE_FILES

FIRST_ORDER_DATE = date(2021, 1, 1)
LAST_ORDER_DATE = date(2022, 9, 5)
CUSTOMERS = 25
PRODUCTS = 25
ORDERS_AT_SCALE_1 = 10_000
REVIEWS_AT_SCALE_1 = 7_200
CHUNK_ROWS = 10_000  # rows generated at a time: one scale-1 file fits in one chunk, so memory is flat
DIM_DATES_FROM = date(2020, 1, 1)
DIM_DATES_TO = date(2023, 12, 31)
SHIPPED_SHARE = 1 / 3  # of orders; a third of them ship, three quarters of those are delivered
DELIVERED_SHARE = 0.75
REVIEW_WEIGHTS = {1: 0.1, 2: 0.1, 3: 0.2, 4: 0.3, 5: 0.3}

# Fixed-date public holidays (month, day) plus movable ones; some fall on weekends, as in real calendars.
FIXED_HOLIDAYS = [(1, 1), (5, 1), (6, 12), (10, 1), (12, 25), (12, 26)]
MOVABLE_HOLIDAYS = [
    date(2020, 4, 10),
    date(2020, 4, 13),
    date(2020, 5, 24),
    date(2020, 7, 31),
    date(2021, 4, 2),
    date(2021, 4, 5),
    date(2021, 5, 13),
    date(2021, 7, 20),
    date(2021, 12, 27),
    date(2021, 12, 28),
    date(2022, 1, 3),
    date(2022, 4, 15),
    date(2022, 4, 18),
    date(2022, 5, 2),
    date(2022, 5, 3),
    date(2022, 6, 13),
    date(2022, 7, 11),
    date(2023, 4, 7),
    date(2023, 4, 10),
    date(2023, 4, 21),
    date(2023, 6, 28),
]


@dataclass(frozen=True)
class DemoFile:
    key_name: str
    rows: int


def orders_count(scale: float) -> int:
    return max(1, round(ORDERS_AT_SCALE_1 * scale))


def reviews_count(scale: float) -> int:
    return max(1, round(REVIEWS_AT_SCALE_1 * scale))


def _product_weights(rng: random.Random) -> list[float]:
    """Some products sell (or are reviewed) up to three times as often as others."""
    return [rng.uniform(0.5, 1.5) for _ in range(PRODUCTS)]


def order_and_shipment_chunks(scale: float, seed: int = 42) -> Iterator[tuple[str, str]]:
    """CSV text of the orders and of their shipments, chunk by chunk: one shipment row per order."""
    total = orders_count(scale)
    span = (LAST_ORDER_DATE - FIRST_ORDER_DATE).days + 1
    # Shipments and deliveries come up to 6 + 3 days after the last order date.
    iso = [(FIRST_ORDER_DATE + timedelta(days=d)).isoformat() for d in range(span + 10)]
    rng = random.Random(seed)
    products = range(1, PRODUCTS + 1)
    weights = _product_weights(rng)
    for start in range(0, total, CHUNK_ROWS):
        n = min(CHUNK_ROWS, total - start)
        days = rng.choices(range(span), k=n)
        customers = rng.choices(range(1, CUSTOMERS + 1), k=n)
        chosen = rng.choices(products, weights, k=n)
        prices = rng.choices(range(50, 1001), k=n)
        quantities = rng.choices(range(1, 11), k=n)
        orders, shipments = [], []
        for i in range(n):
            order_id, day, price, quantity = start + i + 1, days[i], prices[i], quantities[i]
            orders.append(f"{order_id},{customers[i]},{iso[day]},{chosen[i]},{price},{quantity},{price * quantity}\n")
            shipped_on = delivered_on = ""
            if rng.random() < SHIPPED_SHARE:
                ship_day = day + rng.randint(1, 6)
                shipped_on = iso[ship_day]
                if rng.random() < DELIVERED_SHARE:
                    delivered_on = iso[ship_day + rng.randint(1, 3)]
            shipments.append(f"{order_id},{order_id},{shipped_on},{delivered_on}\n")
        yield "".join(orders), "".join(shipments)


def review_chunks(scale: float, seed: int = 7) -> Iterator[str]:
    """CSV text of the reviews, chunk by chunk."""
    total = reviews_count(scale)
    rng = random.Random(seed)
    weights = _product_weights(rng)
    for start in range(0, total, CHUNK_ROWS):
        n = min(CHUNK_ROWS, total - start)
        reviews = rng.choices(list(REVIEW_WEIGHTS), list(REVIEW_WEIGHTS.values()), k=n)
        chosen = rng.choices(range(1, PRODUCTS + 1), weights, k=n)
        yield "".join(f"{review},{product}\n" for review, product in zip(reviews, chosen, strict=True))


def upload_demo_dataset(
    client: Any,
    bucket: str,
    prefix: str,
    scale: float,
    log: Callable[[str], None] = lambda _m: None,
    record_in: Path | None = None,
) -> list[DemoFile]:
    """Generate the three source files at `scale` and upload them under `prefix`.

    With `record_in` (a state folder), the objects written are recorded there (key, ETag, size), so the
    demo dimensions are later used with these objects only (`etl_core.dimension_provenance`).
    """
    sources = {source.table: source for source in SOURCE_FILES}
    writers = {table: MultipartWriter(client, bucket, prefix + source.names[0]) for table, source in sources.items()}
    try:
        _write_dataset(writers, scale)
        for writer in writers.values():
            writer.complete()
    except BaseException:
        for writer in writers.values():
            writer.abort()
        raise
    rows = {"orders": orders_count(scale), "reviews": reviews_count(scale), "shipment_deliveries": orders_count(scale)}
    files = [DemoFile(sources[table].names[0], rows[table]) for table in sources]
    for file in files:
        log(f"demo data: wrote s3://{bucket}/{prefix}{file.key_name} ({file.rows:,} rows)")
    if record_in is not None:
        record_demo_objects(client, bucket, [prefix + file.key_name for file in files], record_in)
    return files


class _Sink(Protocol):
    def write(self, data: str) -> int: ...


def _write_dataset(sinks: Mapping[str, _Sink], scale: float) -> None:
    """The three files' text at `scale`, written chunk by chunk to each table's sink (always the same writes)."""
    for source in SOURCE_FILES:
        sinks[source.table].write(",".join(source.columns) + "\n")
    orders, shipments, reviews = sinks["orders"], sinks["shipment_deliveries"], sinks["reviews"]
    for order_text, shipment_text in order_and_shipment_chunks(scale):
        orders.write(order_text)
        shipments.write(shipment_text)
    for review_text in review_chunks(scale):
        reviews.write(review_text)


class _ETagSink:
    """What MultipartWriter makes of the same writes, without uploading: the object's size and S3 ETag
    (the MD5 of a single PUT; of a multipart upload, the MD5 of its parts' MD5s and the part count)."""

    def __init__(self) -> None:
        self._buffer = bytearray()
        self._parts: list[bytes] = []
        self.size = 0

    def write(self, data: str) -> int:
        encoded = data.encode("utf-8")
        self._buffer += encoded
        self.size += len(encoded)
        if len(self._buffer) >= PART_SIZE:  # where MultipartWriter cuts a part
            self._parts.append(hashlib.md5(self._buffer).digest())
            self._buffer = bytearray()
        return len(encoded)

    @property
    def etag(self) -> str:
        if not self._parts:
            return f'"{hashlib.md5(self._buffer).hexdigest()}"'
        parts = self._parts + ([hashlib.md5(self._buffer).digest()] if self._buffer else [])
        return f'"{hashlib.md5(b"".join(parts)).hexdigest()}-{len(parts)}"'


def generated_objects(scale: float) -> dict[str, tuple[str, int]]:
    """The ETag and size the demo dataset's files get at `scale` (by file name), computed, not uploaded."""
    sinks = {source.table: _ETagSink() for source in SOURCE_FILES}
    _write_dataset(sinks, scale)
    return {source.names[0]: (sinks[source.table].etag, sinks[source.table].size) for source in SOURCE_FILES}


def recognise_demo_dataset(client: Any, bucket: str, prefix: str, scale: float, state_dir: Path) -> bool:
    """A state folder made before the console recorded its demo data: whether the objects under `prefix`
    are the demo dataset it generates at `scale` (the same ETags and sizes); if so, record them now."""
    expected = generated_objects(scale)
    for name, (etag, size) in expected.items():
        info = object_info(client, bucket, prefix + name)
        if info is None or (info["ETag"], int(info["ContentLength"])) != (etag, size):
            return False
    record_demo_objects(client, bucket, [prefix + name for name in expected], state_dir)
    return True


DEMO_RECORD = "demo_dataset.json"  # in the state folder: the objects the console generated itself


def record_demo_objects(client: Any, bucket: str, keys: list[str], state_dir: Path) -> None:
    """Write the generated objects' keys, ETags and sizes (atomically) to the state folder."""
    objects = {}
    for key in keys:
        head = client.head_object(Bucket=bucket, Key=key)
        objects[key] = {"etag": head["ETag"], "size": int(head["ContentLength"])}
    path = state_dir / DEMO_RECORD
    partial = path.with_suffix(".json.partial")
    partial.write_text(json.dumps({"bucket": bucket, "objects": objects}, indent=2) + "\n", encoding="utf-8")
    os.replace(partial, path)


def demo_objects(state_dir: Path) -> dict[str, Any] | None:
    """The record of the generated objects, or None when the console generated none here."""
    try:
        record: dict[str, Any] = json.loads((state_dir / DEMO_RECORD).read_text(encoding="utf-8"))
        return record
    except (OSError, ValueError):
        return None


def is_public_holiday_date(day: date) -> bool:
    return (day.month, day.day) in FIXED_HOLIDAYS or day in MOVABLE_HOLIDAYS


def dim_dates_rows(first: date = DIM_DATES_FROM, last: date = DIM_DATES_TO) -> Iterator[tuple[Any, ...]]:
    day = first
    while day <= last:
        weekday = day.isoweekday()
        working = weekday <= 5 and not is_public_holiday_date(day)
        yield (day.isoformat(), day.year, day.month, day.day, weekday, working)
        day += timedelta(days=1)


CATEGORIES = ["electronics", "books", "kitchen", "toys", "garden"]
REGIONS = [
    ("Nigeria", "South West", "Lagos"),
    ("Nigeria", "North Central", "Abuja"),
    ("Ghana", "Greater Accra", "Accra"),
    ("Kenya", "Nairobi", "Nairobi"),
    ("Nigeria", "South South", "Rivers"),
]


def create_demo_dimensions(cur: Any, dims_schema: str) -> None:
    """Create and fill the demo dimension tables in the caller's transaction. Embedded warehouse only."""
    from psycopg2 import sql

    from etl_core.sql_files import render_sql, safe_identifier

    cur.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(safe_identifier(dims_schema)))
    cur.execute(render_sql("ddl/demo_dimensions.sql", dims=dims_schema))
    tables = {
        "dim_dates": list(dim_dates_rows()),
        "dim_products": [(p, CATEGORIES[p % len(CATEGORIES)], f"product {p:02d}") for p in range(1, PRODUCTS + 1)],
        "dim_addresses": [
            (100000 + c, *REGIONS[c % len(REGIONS)], f"{c} Market Street") for c in range(1, CUSTOMERS + 1)
        ],
        "dim_customers": [(c, f"customer {c:02d}", 100000 + c) for c in range(1, CUSTOMERS + 1)],
    }
    for table, rows in tables.items():
        buffer = io.StringIO("".join("\t".join(str(v) for v in row) + "\n" for row in rows))
        copy = sql.SQL("COPY {}.{} FROM STDIN").format(safe_identifier(dims_schema), safe_identifier(table))
        cur.copy_expert(copy.as_string(cur), buffer)
