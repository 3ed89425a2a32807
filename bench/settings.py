"""What every part of the benchmark agrees on: names, binaries, and the targets of issue #5."""

from __future__ import annotations

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
BUCKET = "d2b-internal-assessment-bucket"
PREFIX = "orders_data/"
REGION = "eu-central-1"
USER_ID = "bench"
STAGING_SCHEMA = f"{USER_ID}_staging"
ANALYTICS_SCHEMA = f"{USER_ID}_analytics"
DIMS = "if_common"
AS_OF_DATE = "2022-09-05"
INGESTION = "2022-09-06"
# The one-million-row export runs with this user id, so its analytics schema holds the big table.
BIG_EXPORT_USER_ID = "bench_big"
BIG_EXPORT_SCHEMA = f"{BIG_EXPORT_USER_ID}_analytics"
CONTENDER_SCHEMAS = ("bench_psql", "bench_pandas", "bench_pandas_multi", BIG_EXPORT_SCHEMA)
CANDIDATE_INDEXES = (("orders", "product_id"), ("shipment_deliveries", "order_id"))

_PG_BIN = (
    Path(sys.prefix)
    / "lib"
    / f"python{sys.version_info.major}.{sys.version_info.minor}"
    / "site-packages"
    / "pgserver"
    / "pginstall"
    / "bin"
)
PSQL = str(_PG_BIN / "psql") if (_PG_BIN / "psql").exists() else "psql"
TIME = "/usr/bin/time"  # GNU time (apt-get install time)
AWS_ENV = {"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench", "AWS_DEFAULT_REGION": REGION}

TARGETS = {
    "staging_vs_psql": 1.1,
    "refused_vs_clean": 3.0,  # a file with 1% bad records fully reported, against the clean staging
    "staging_vs_pandas": 20.0,
    "export_vs_psql": 1.3,
    "runall_rss_mb": 200.0,
    "runall_rss_growth": 1.2,
    "tui_first_paint_s": 0.5,  # from the command typed in a terminal to the pipeline drawn
    "tui_stall_ms": 100.0,
    "tui_trends_ms": 50.0,  # the history's trends, 365 dates (median of the rounds)
}
