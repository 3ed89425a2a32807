"""The analytics tables: each is computed by `sql/analytics/<table>.sql`, created by
`sql/ddl/analytics_tables.sql`, checked by `<table>_has_run_row` and exported as `<table>.csv`."""

from __future__ import annotations

from typing import Literal, get_args

AnalyticsTable = Literal["agg_public_holiday", "agg_shipments", "best_performing_product"]
ANALYTICS_TABLES: tuple[AnalyticsTable, ...] = get_args(AnalyticsTable)
