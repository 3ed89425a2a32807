"""The console's config for the bench's S3 server and Postgres, from a worker's spec."""

from __future__ import annotations

from typing import Any

from bench.settings import AS_OF_DATE, BUCKET, DIMS, INGESTION, PREFIX, REGION, USER_ID
from etl_core.config import Config, parse_config


def bench_config(spec: dict[str, Any]) -> Config:
    """spec: "s3" (endpoint URL), "pg" (Postgres URL), "state_dir", optionally "user_id"."""
    raw = {
        "pipeline": {
            "user_id": spec.get("user_id", USER_ID),
            "as_of_date": AS_OF_DATE,
            "ingestion_date": INGESTION,
            "best_product_by": "review_count",
        },
        "source": {
            "bucket": BUCKET,
            "prefix": PREFIX,
            "region": REGION,
            "endpoint_url": spec["s3"],
            "anonymous": False,
        },
        "export": {"bucket": "", "prefix": "analytics_export/{user_id}/"},
        "warehouse": {"url": spec["pg"], "dims_schema": DIMS},
        "console": {"state_dir": spec["state_dir"], "demo_scale": 1},
    }
    return parse_config(raw, "<bench>")
