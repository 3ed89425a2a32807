"""Data-quality checks between stages. ERROR blocks later stages and export; WARN is reported."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from etl_core.analytics_tables import ANALYTICS_TABLES
from etl_core.config import Config
from etl_core.events import CancelToken, CheckOutcome
from etl_core.kinds import Severity
from etl_core.sql_files import render_sql

if TYPE_CHECKING:
    from etl_core.services import Services


@dataclass(frozen=True)
class Check:
    name: str
    sql_file: str  # under sql/checks/; one file may serve several checks in one scan
    severity: Severity
    description: str
    table: str | None = None
    # The offending rows, from the keys the check returns: what the SQL pane opens for a check that did not pass.
    rows_of: str | None = None


_ORDERS = "SELECT * FROM {staging}.orders WHERE order_id = ANY(%(keys)s::integer[]) ORDER BY order_id"
_SHIPMENTS = "SELECT * FROM {staging}.shipment_deliveries WHERE order_id = ANY(%(keys)s::integer[]) ORDER BY order_id"


@dataclass(frozen=True)
class Found:
    violations: int
    sample: str | None
    keys: tuple[str, ...]
    query: str | None


STAGING_CHECKS = (
    Check("orders_key_unique", "staging_keys.sql", "ERROR", "order_id is unique and not null"),
    Check("shipments_key_unique", "staging_keys.sql", "ERROR", "shipment_id is unique and not null"),
    Check(
        "orders_product_known",
        "staging_orders.sql",
        "WARN",
        "every order's product is in dim_products",
        rows_of=_ORDERS,
    ),
    Check(
        "orders_customer_known",
        "staging_orders.sql",
        "WARN",
        "every order's customer is in dim_customers",
        rows_of=_ORDERS,
    ),
    Check("order_dates_known", "staging_orders.sql", "WARN", "every order date is in dim_dates", rows_of=_ORDERS),
    Check("orders_total_price", "staging_orders.sql", "WARN", "total_price = unit_price * quantity", rows_of=_ORDERS),
    Check(
        "reviews_product_known",
        "staging_reviews.sql",
        "WARN",
        "every reviewed product is in dim_products",
        rows_of="SELECT * FROM {staging}.reviews WHERE product_id = ANY(%(keys)s::integer[]) ORDER BY product_id",
    ),
    Check(
        "shipments_order_known",
        "staging_shipments.sql",
        "WARN",
        "every shipment's order_id has an order",
        rows_of=_SHIPMENTS,
    ),
    Check(
        "shipments_one_per_order", "staging_shipments.sql", "WARN", "at most one shipment per order", rows_of=_SHIPMENTS
    ),
)

ANALYTICS_CHECKS = tuple(
    Check(
        f"{table}_has_run_row",
        "analytics_row_present.sql",
        "ERROR",
        f"{table} has one row for the run's ingestion_date",
        table=table,
    )
    for table in ANALYTICS_TABLES
)


def blocking_failures(outcomes: list[CheckOutcome]) -> str:
    """The failed ERROR checks as one sentence, or "" when nothing blocks."""
    return "; ".join(c.detail for c in outcomes if c.blocking)


def run_checks(cur: Any, config: Config, checks: tuple[Check, ...]) -> list[CheckOutcome]:
    """Run each check file once (it returns rows of name, violations, sample, keys) and grade every check."""
    found: dict[str, Found] = {}
    for query in _check_queries(checks):
        found.update(_run_check_file(cur, config, checks, *query))
    return _grade(checks, found)


def run_checks_concurrently(
    services: Services, config: Config, checks: tuple[Check, ...], cancel: CancelToken
) -> list[CheckOutcome]:
    """Run every check file at once, each on its own connection: the staging checks scan different tables."""

    def run_one(query: tuple[str, str | None, str | None]) -> dict[str, Found]:
        with services.transaction("checks", cancel) as cur:
            return _run_check_file(cur, config, checks, *query)

    queries = _check_queries(checks)
    found: dict[str, Found] = {}
    with ThreadPoolExecutor(max_workers=len(queries), thread_name_prefix="checks") as pool:
        for result in pool.map(run_one, queries):
            found.update(result)
    return _grade(checks, found)


def _check_queries(checks: tuple[Check, ...]) -> list[tuple[str, str | None, str | None]]:
    """(sql file, table, check name) once per query: one file may grade several checks."""
    return list(dict.fromkeys((c.sql_file, c.table, c.name if c.table else None) for c in checks))


def _run_check_file(
    cur: Any, config: Config, checks: tuple[Check, ...], sql_file: str, table: str | None, name: str | None
) -> dict[str, Found]:
    cur.execute(
        render_sql(f"checks/{sql_file}", **config.sql_schemas, **({"table": table} if table else {})),
        {"ingestion_date": config.pipeline.ingestion_date, "staging_schema": config.staging_schema, "check_name": name},
    )
    rows_of = {c.name: c.rows_of for c in checks}
    found = {}
    for check_name, violations, sample, keys in cur.fetchall():
        keys = tuple(keys or ())
        template = rows_of.get(check_name)
        query = None
        if keys and template:  # bound here, so the SQL pane gets a statement it can run as it is
            query = cur.mogrify(template.format(**config.sql_schemas), {"keys": list(keys)}).decode()
        found[check_name] = Found(violations, sample, keys, query)
    return found


def _grade(checks: tuple[Check, ...], found: dict[str, Found]) -> list[CheckOutcome]:
    outcomes = []
    for check in checks:
        result = found[check.name]
        if result.violations:
            detail = f"{check.description}: {result.violations:,} violation(s)"
            detail += f" (e.g. {result.sample[:200]})" if result.sample else ""
        else:
            detail = f"{check.description}: ok"
        outcomes.append(
            CheckOutcome(check.name, check.severity, not result.violations, detail, result.keys, result.query)
        )
    return outcomes
