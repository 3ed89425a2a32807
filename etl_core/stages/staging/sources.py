"""The three source files of the data lake: accepted object names, columns, keys, and finding them in S3."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from etl_core.background import BackgroundCall
from etl_core.errors import StageError
from etl_core.s3 import connection_problem, object_info


@dataclass(frozen=True)
class SourceFile:
    table: str
    names: tuple[str, ...]  # accepted object names, preferred first
    columns: tuple[str, ...]
    key: str | None = None  # primary key, built after the COPY
    # Date columns (name -> may be empty) whose text must be exactly YYYY-MM-DD; every other column
    # is an integer that may not be empty, which the date check's proof relies on.
    dates: tuple[tuple[str, bool], ...] = ()


SOURCE_FILES = (
    SourceFile(
        "orders",
        ("orders.csv",),
        ("order_id", "customer_id", "order_date", "product_id", "unit_price", "quantity", "total_price"),
        key="order_id",
        dates=(("order_date", False),),
    ),
    SourceFile("reviews", ("reviews.csv",), ("review", "product_id")),
    # The brief spells it "shipments_deliveries.csv"; the real object is "shipment_deliveries.csv" (it wins).
    SourceFile(
        "shipment_deliveries",
        ("shipment_deliveries.csv", "shipments_deliveries.csv"),
        ("shipment_id", "order_id", "shipment_date", "delivery_date"),
        key="shipment_id",
        dates=(("shipment_date", True), ("delivery_date", True)),
    ),
)
SOURCES_BY_TABLE = {source.table: source for source in SOURCE_FILES}


@dataclass(frozen=True)
class LocatedSource:
    source: SourceFile
    key: str  # the object to load: the first accepted name that exists
    size: int
    ignored: tuple[str, ...]  # other accepted names that exist too, and are not loaded
    etag: str = ""  # the object's ETag before the load: staging's fingerprint (etl_core/lineage.py)


def etags_as_loaded(client: Any, bucket: str, located: list[LocatedSource], run_id: int) -> dict[str, str]:
    """Each loaded object's ETag as read before its load; one of this run's own when the object changed
    since (it may have been replaced mid-load), so that what read staging before is called stale."""
    heads = [BackgroundCall(partial(object_info, client, bucket, found.key), "s3-etag") for found in located]  # at once
    etags = {}
    for found, head in zip(located, heads, strict=True):
        info = head.result()
        now = str(info.get("ETag", "")) if info is not None else ""
        etags[found.key] = found.etag if now == found.etag else f"changed while run #{run_id} loaded it"
    return etags


@contextmanager
def looking_up(bucket: str, key: str, endpoint_label: str = "S3") -> Iterator[None]:
    """S3's errors while looking up s3://bucket/key, as the stage error that says what to check."""
    try:
        yield
    except BotoCoreError as exc:
        if problem := connection_problem(exc, endpoint_label):
            raise StageError(f"{problem} while looking for s3://{bucket}/{key}; check S3, then resume") from None
        raise
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "?")
        raise StageError(
            f"s3://{bucket}/{key} could not be read ({code}); check the credentials, "
            "[source] anonymous and the bucket policy"
        ) from None


def not_found(bucket: str, keys: list[str]) -> StageError:
    """No accepted name of a source file exists (`keys`: each name, with its prefix)."""
    return StageError(
        f"source object s3://{bucket}/{' or '.join(keys)} was not found; upload it, or check [source] bucket and prefix"
    )


def locate_source(
    client: Any, bucket: str, prefix: str, source: SourceFile, endpoint_label: str = "S3"
) -> LocatedSource:
    """The object to load for `source`, its size, and the other accepted spellings that exist (ignored)."""
    found: list[tuple[str, int, str]] = []
    for name in source.names:
        with looking_up(bucket, prefix + name, endpoint_label):
            info = object_info(client, bucket, prefix + name)
        if info is not None:
            found.append((prefix + name, int(info["ContentLength"]), str(info.get("ETag", ""))))
    if not found:
        raise not_found(bucket, [prefix + n for n in source.names])
    (key, size, etag), *others = found
    return LocatedSource(source, key, size, tuple(other for other, _size, _etag in others), etag)
