"""Row-count anomaly checks: each source file's rows against the median of earlier ingestion dates.

The baseline is the last successful run of each of up to `[checks] row_count_anomaly_dates` earlier
ingestion dates (a day rerun counts once); with fewer than `row_count_anomaly_min_dates` of them the
check passes and says so, as Soda's anomaly check does before it has history.
"""

from __future__ import annotations

from datetime import date
from statistics import median
from typing import Any

from etl_core import history
from etl_core.config import Config
from etl_core.events import CheckOutcome


def check_name(table: str) -> str:
    return f"{table}_row_count_anomaly"


def row_count_anomalies(cur: Any, config: Config, rows: dict[str, int]) -> list[CheckOutcome]:
    """One check per loaded table, graded against the history of earlier dates."""
    settings = config.checks
    earlier = history.staging_rows_by_date(
        cur, config, before=config.pipeline.ingestion_date, dates=settings.row_count_anomaly_dates
    )
    return [grade(table, count, earlier.get(table, []), config) for table, count in rows.items()]


def grade(table: str, rows: int, earlier: list[tuple[date, int]], config: Config) -> CheckOutcome:
    settings = config.checks
    name, severity = check_name(table), settings.row_count_anomaly_severity
    if len(earlier) < settings.row_count_anomaly_min_dates:
        detail = f"{table}: not enough history ({len(earlier)} of {settings.row_count_anomaly_min_dates} earlier dates)"
        return CheckOutcome(name, severity, True, detail)
    baseline = median(count for _day, count in earlier)
    low, high = baseline * settings.row_count_anomaly_below, baseline * settings.row_count_anomaly_above
    share = f"{rows / baseline:.0%}" if baseline else "∞"
    span = f"{min(d for d, _ in earlier)} to {max(d for d, _ in earlier)}"
    detail = (
        f"{table}: {rows:,} rows, {share} of the median {baseline:,.0f} of {len(earlier)} earlier dates "
        f"({span}); expected {low:,.0f} to {high:,.0f}"
    )
    return CheckOutcome(name, severity, low <= rows <= high, detail)
