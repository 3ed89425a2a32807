"""The start-up's seeding of the embedded services: the buckets and demo dataset in S3, the demo dimensions.

Each step creates only what is missing, so a start on a seeded state folder changes nothing. What
the seeding would create is said here too (`still_to_seed`, `seeding_described`), for the dry run.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from etl_core.warehouse import table_exists

if TYPE_CHECKING:
    from etl_core.config import Config
    from etl_core.services import Services


def seed_demo_bucket(services: Services, scale: float, log: Callable[[str], None]) -> None:
    """The source and export buckets, and the demo dataset when the source prefix is empty."""
    config, client = services.config, services.s3()
    existing = {b["Name"] for b in client.list_buckets().get("Buckets", [])}
    for bucket in {config.source.bucket, config.export.bucket} - existing:
        client.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": config.source.region})
    # A dated prefix ({date}) is seeded for the configured ingestion date only.
    prefix = config.source.prefix.replace("{date}", config.pipeline.ingestion_date.isoformat())
    listing = client.list_objects_v2(Bucket=config.source.bucket, Prefix=prefix, MaxKeys=1)
    if listing.get("KeyCount", 0) == 0:
        from etl_core import demo_data  # loaded only when a dataset is generated

        log(f"embedded S3 is empty: generating the demo dataset at scale {scale:g}")
        demo_data.upload_demo_dataset(
            client, config.source.bucket, prefix, scale, log, record_in=config.console.state_dir
        )


def seed_demo_dimensions(services: Services, log: Callable[[str], None]) -> None:
    """The demo dimension tables, when the embedded warehouse has none."""
    dims = services.config.warehouse.dims_schema
    with services.transaction("setup") as cur:  # one transaction: all four tables or none
        if not table_exists(cur, dims, "dim_dates"):
            from etl_core import demo_data

            log(f"embedded warehouse: creating demo dimensions in {dims}")
            demo_data.create_demo_dimensions(cur, dims)


def still_to_seed(services: Services, demo_scale: float | None) -> list[str]:
    """What the seeding would create on these services now, in words (read only: the dry run)."""
    config = services.config
    things = []
    if config.source_embedded:
        client = services.s3()
        existing = {b["Name"] for b in client.list_buckets().get("Buckets", [])}
        missing_buckets = sorted({config.source.bucket, config.export.bucket} - existing)
        if missing_buckets:
            things.append(f"the bucket(s) {', '.join(missing_buckets)} in the embedded S3")
        empty = config.source.bucket in missing_buckets or _is_empty(client, config)
        things += seeding_described(config, demo_scale, buckets=False, data=empty, dims=False)
    if config.warehouse.embedded:
        with services.transaction("dry run") as cur:
            if not table_exists(cur, config.warehouse.dims_schema, "dim_dates"):
                things += seeding_described(config, demo_scale, buckets=False, data=False, dims=True)
    return things


def seeding_described(config: Config, demo_scale: float | None, *, buckets: bool, data: bool, dims: bool) -> list[str]:
    """What the embedded services' start would seed, in words."""
    things = []
    if buckets:
        names = sorted({config.source.bucket, config.export.bucket})
        things.append(f"the bucket(s) {', '.join(names)} in the embedded S3")
    if data:
        things.append(
            f"the demo dataset at scale {demo_scale or config.console.demo_scale:g} under "
            f"s3://{config.source.bucket}/{config.source.prefix}"
        )
    if dims:
        things.append(f"the demo dimensions in {config.warehouse.dims_schema}")
    return things


def _is_empty(client: Any, config: Config) -> bool:
    try:
        listing = client.list_objects_v2(Bucket=config.source.bucket, Prefix=config.source.prefix, MaxKeys=1)
    except ClientError:
        return True
    count: int = listing.get("KeyCount", 0)
    return count == 0
