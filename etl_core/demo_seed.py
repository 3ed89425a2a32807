"""The start-up's seeding of the embedded services: the buckets and demo dataset in S3, the demo dimensions.

Each step creates only what is missing, so a start on a seeded state folder changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from etl_core.warehouse import table_exists

if TYPE_CHECKING:
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
