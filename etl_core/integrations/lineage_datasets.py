"""The datasets each stage reads and writes, named as OpenLineage names them, with their facets.

S3 objects: namespace `s3://<bucket>`, name the key. Warehouse tables: namespace
`postgres://<host>:<port>`, name `<database>.<schema>.<table>`. Table schemas come from the DDL the
pipeline itself runs (sql/ddl), so they cannot drift from the warehouse.
"""

from __future__ import annotations

import re
from functools import cache
from typing import TYPE_CHECKING, Any

from psycopg2.extensions import parse_dsn

from etl_core.analytics_tables import ANALYTICS_TABLES
from etl_core.config import Config
from etl_core.events import StageResult
from etl_core.sql_files import load_sql
from etl_core.stages.staging.sources import SOURCE_FILES

if TYPE_CHECKING:
    from openlineage.client.event_v2 import InputDataset, OutputDataset

_COLUMN = re.compile(r"^\s+([a-z_][a-z0-9_]*)\s+([a-z]+(?: precision)?)\b", re.MULTILINE)
_TABLE = re.compile(r"CREATE TABLE[^(]*?\.\{?(\w+)\}? \((.*?)\n\);", re.DOTALL)

# Which warehouse columns feed each analytics column (read from sql/analytics/*.sql; ingestion_date is the
# run's parameter, not a column). Keys of the inner dicts: "staging" or "dims" table, then its columns.
ANALYTICS_COLUMN_SOURCES: dict[str, dict[str, dict[str, tuple[str, ...]]]] = {
    "agg_public_holiday": {
        f"tt_order_hol_{month}": {
            "staging.orders": ("order_date",),
            "dims.dim_dates": ("calendar_dt", "day_of_the_week_num", "working_day"),
        }
        for month in ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
    },
    "agg_shipments": {
        column: {
            "staging.shipment_deliveries": ("order_id", "shipment_date", "delivery_date"),
            "staging.orders": ("order_id", "order_date"),
        }
        for column in ("tt_late_shipments", "tt_undelivered_items")
    },
    "best_performing_product": {
        "product_name": {"staging.reviews": ("review", "product_id"), "dims.dim_products": ("product_name",)},
        "most_ordered_day": {"staging.reviews": ("review", "product_id"), "staging.orders": ("order_date",)},
        "is_public_holiday": {
            "staging.orders": ("order_date",),
            "dims.dim_dates": ("day_of_the_week_num", "working_day"),
        },
        "tt_review_points": {"staging.reviews": ("review", "product_id")},
        **{
            f"pct_{stars}_star_review": {"staging.reviews": ("review", "product_id")}
            for stars in ("one", "two", "three", "four", "five")
        },
        **{
            f"pct_{kind}_shipments": {
                "staging.shipment_deliveries": ("order_id", "shipment_date", "delivery_date"),
                "staging.orders": ("order_id", "order_date", "product_id"),
            }
            for kind in ("early", "late")
        },
    },
}


@cache
def ddl_columns() -> dict[str, tuple[tuple[str, str], ...]]:
    """(column, type) of every staging and analytics table, from the DDL files the pipeline runs."""
    texts = [load_sql(f"ddl/staging/{s.table}.sql") for s in SOURCE_FILES] + [load_sql("ddl/analytics_tables.sql")]
    tables: dict[str, tuple[tuple[str, str], ...]] = {}
    for text, source in zip(texts, [*(s.table for s in SOURCE_FILES), None], strict=True):
        for name, body in _TABLE.findall(text):
            tables[source or name] = tuple(
                (col, typ) for col, typ in _COLUMN.findall(body) if col not in ("constraint", "primary")
            )
    return tables


def warehouse_namespace(dsn: str) -> tuple[str, str]:
    """(`postgres://host:port`, database) from a libpq DSN; a socket folder is `localhost`."""
    parts = parse_dsn(dsn)
    host = parts.get("host", "localhost").split(",")[0]
    host = "localhost" if not host or host.startswith("/") else host
    port = parts.get("port", "5432").split(",")[0] or "5432"
    return f"postgres://{host}:{port}", parts.get("dbname") or parts.get("user") or "postgres"


class Datasets:
    def __init__(self, config: Config, warehouse_dsn: str):
        self.config = config
        self.pg_namespace, self.database = warehouse_namespace(warehouse_dsn)

    def table_name(self, schema: str, table: str) -> str:
        return f"{self.database}.{schema}.{table}"

    def _schemas(self) -> dict[str, str]:
        return {"staging": self.config.staging_schema, "dims": self.config.warehouse.dims_schema}

    def for_stage(self, result: StageResult) -> tuple[list[InputDataset], list[OutputDataset]]:
        """What a succeeded stage read and wrote, from its result's details."""
        if result.stage == "staging":
            return self._staging(result.details)
        if result.stage == "analytics":
            return self._analytics(result.details)
        if result.stage == "export":
            return self._export(result.details)
        return [], []

    def analytics_sql(self) -> str:
        schemas = {**self._schemas(), "analytics": self.config.analytics_schema}
        return "\n\n".join(
            load_sql(f"analytics/{table}.sql")
            .replace("{staging}", schemas["staging"])
            .replace("{dims}", schemas["dims"])
            for table in ANALYTICS_TABLES
        )

    def _staging(self, details: dict[str, Any]) -> tuple[list[InputDataset], list[OutputDataset]]:
        from openlineage.client.event_v2 import InputDataset, OutputDataset
        from openlineage.client.facet_v2 import data_quality_metrics_input_dataset as dq

        inputs, outputs = [], []
        for source in SOURCE_FILES:
            loaded = details.get(source.table)
            if not isinstance(loaded, dict):
                continue
            inputs.append(
                InputDataset(
                    namespace=f"s3://{self.config.source.bucket}",
                    name=str(loaded["key"]),
                    facets={"schema": _schema_facet([(c, "string") for c in source.columns])},
                    inputFacets={
                        "dataQualityMetrics": dq.DataQualityMetricsInputDatasetFacet(
                            columnMetrics={}, rowCount=int(loaded["rows"]), bytes=int(loaded["bytes"])
                        )
                    },
                )
            )
            outputs.append(
                OutputDataset(
                    namespace=self.pg_namespace,
                    name=self.table_name(self.config.staging_schema, source.table),
                    facets={"schema": _schema_facet(ddl_columns()[source.table])},
                    outputFacets={"outputStatistics": _statistics(int(loaded["rows"]))},
                )
            )
        return inputs, outputs

    def _analytics(self, details: dict[str, Any]) -> tuple[list[InputDataset], list[OutputDataset]]:
        from openlineage.client.event_v2 import InputDataset, OutputDataset
        from openlineage.client.facet_v2 import column_lineage_dataset as cl

        schemas = self._schemas()
        read = sorted({src for table in ANALYTICS_COLUMN_SOURCES.values() for cols in table.values() for src in cols})
        inputs = [
            InputDataset(namespace=self.pg_namespace, name=self.table_name(schemas[kind], table))
            for kind, table in (src.split(".") for src in read)
        ]
        outputs = []
        for table in ANALYTICS_TABLES:
            fields = {
                column: cl.Fields(
                    inputFields=[
                        cl.InputField(namespace=self.pg_namespace, name=self.table_name(schemas[kind], src), field=col)
                        for kind_src, cols in sources.items()
                        for kind, src in [kind_src.split(".")]
                        for col in cols
                    ]
                )
                for column, sources in ANALYTICS_COLUMN_SOURCES[table].items()
            }
            outputs.append(
                OutputDataset(
                    namespace=self.pg_namespace,
                    name=self.table_name(self.config.analytics_schema, table),
                    facets={
                        "schema": _schema_facet(ddl_columns()[table]),
                        "columnLineage": cl.ColumnLineageDatasetFacet(fields=fields),
                    },
                    outputFacets={"outputStatistics": _statistics(1 if table in details else 0)},
                )
            )
        return inputs, outputs

    def _export(self, details: dict[str, Any]) -> tuple[list[InputDataset], list[OutputDataset]]:
        from openlineage.client.event_v2 import InputDataset, OutputDataset

        inputs, outputs = [], []
        for table in ANALYTICS_TABLES:
            written = details.get(table)
            if not isinstance(written, dict):
                continue
            inputs.append(
                InputDataset(namespace=self.pg_namespace, name=self.table_name(self.config.analytics_schema, table))
            )
            outputs.append(
                OutputDataset(
                    namespace=f"s3://{self.config.export.bucket}",
                    name=str(written["key"]),
                    facets={"schema": _schema_facet(ddl_columns()[table])},
                    outputFacets={"outputStatistics": _statistics(int(written["rows"]), int(written["bytes"]))},
                )
            )
        return inputs, outputs


def _schema_facet(columns: Any) -> Any:
    from openlineage.client.facet_v2 import schema_dataset

    return schema_dataset.SchemaDatasetFacet(
        fields=[schema_dataset.SchemaDatasetFacetFields(name=name, type=typ) for name, typ in columns]
    )


def _statistics(rows: int, size: int | None = None) -> Any:
    from openlineage.client.facet_v2 import output_statistics_output_dataset as stats

    return stats.OutputStatisticsOutputDatasetFacet(rowCount=rows, size=size)
