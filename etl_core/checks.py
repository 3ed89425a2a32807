"""Data-quality checks between stages. ERROR blocks later stages and export; WARN is reported."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from etl_core.config import Config
from etl_core.events import CheckOutcome
from etl_core.sql_files import render_sql

ANALYTICS_TABLES = ("agg_public_holiday", "agg_shipments", "best_performing_product")


@dataclass(frozen=True)
class Check:
    name: str
    sql_file: str  # under sql/checks/; returns (violations bigint, sample text)
    severity: str
    description: str
    table: str | None = None


STAGING_CHECKS = (
    Check("orders_key_unique", "orders_key_unique.sql", "ERROR", "order_id is unique and not null"),
    Check("shipments_key_unique", "shipments_key_unique.sql", "ERROR", "shipment_id is unique and not null"),
    Check("orders_product_known", "orders_product_known.sql", "WARN", "every order's product is in dim_products"),
    Check("orders_customer_known", "orders_customer_known.sql", "WARN", "every order's customer is in dim_customers"),
    Check("reviews_product_known", "reviews_product_known.sql", "WARN", "every reviewed product is in dim_products"),
    Check("order_dates_known", "order_dates_known.sql", "WARN", "every order date is in dim_dates"),
    Check("shipments_order_known", "shipments_order_known.sql", "WARN", "every shipment's order_id has an order"),
    Check("shipments_one_per_order", "shipments_one_per_order.sql", "WARN", "at most one shipment per order"),
    Check("orders_total_price", "orders_total_price.sql", "WARN", "total_price = unit_price * quantity"),
)

ANALYTICS_CHECKS = tuple(
    Check(f"{table}_has_run_row", "analytics_row_present.sql", "ERROR",
          f"{table} has one row for the run's ingestion_date", table=table)
    for table in ANALYTICS_TABLES
)


def run_checks(cur: Any, config: Config, checks: tuple[Check, ...]) -> list[CheckOutcome]:
    """Run each check's SQL and turn its violation count into an outcome."""
    outcomes = []
    for check in checks:
        identifiers = {
            "staging": config.staging_schema,
            "analytics": config.analytics_schema,
            "dims": config.warehouse.dims_schema,
        }
        if check.table:
            identifiers["table"] = check.table
        cur.execute(render_sql(f"checks/{check.sql_file}", **identifiers),
                    {"ingestion_date": config.pipeline.ingestion_date})
        violations, sample = cur.fetchone()
        if violations:
            detail = f"{check.description}: {violations:,} violation(s)" + (f" (e.g. {sample[:200]})" if sample else "")
        else:
            detail = f"{check.description}: ok"
        outcomes.append(CheckOutcome(check.name, check.severity, not violations, detail))
    return outcomes
