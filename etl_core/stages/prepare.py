"""Prepare: the operator's schemas (only when missing) and every staging and analytics table."""

from __future__ import annotations

from typing import Any

from psycopg2 import sql

from etl_core.sql_files import render_sql, safe_identifier
from etl_core.stages.context import StageContext, StageOutput
from etl_core.stages.staging.sources import SOURCE_FILES
from etl_core.stages.staging.tables import add_primary_key, create_staging_table
from etl_core.warehouse import schema_exists, table_exists


def ensure_schemas(cur: Any, schemas: list[str]) -> list[str]:
    """Create the schemas that are missing; a real warehouse user may lack the right to create them."""
    created = []
    for schema in schemas:
        if not schema_exists(cur, schema):
            cur.execute(sql.SQL("CREATE SCHEMA {}").format(safe_identifier(schema)))
            created.append(schema)
    return created


def run_prepare(ctx: StageContext) -> StageOutput:
    config = ctx.config
    output = StageOutput()
    with ctx.services.transaction("prepare") as cur:
        created = ensure_schemas(cur, [config.staging_schema, config.analytics_schema])
        for schema in created:
            ctx.log(f"created schema {schema}")
        new_tables = []
        for source in SOURCE_FILES:
            if not table_exists(cur, config.staging_schema, source.table):
                create_staging_table(cur, config.staging_schema, source, source.table)
                add_primary_key(cur, config.staging_schema, source, source.table)
                new_tables.append(f"{config.staging_schema}.{source.table}")
        cur.execute(render_sql("ddl/analytics_tables.sql", analytics=config.analytics_schema))
        if not schema_exists(cur, config.warehouse.dims_schema):
            ctx.warn(
                f"dimension schema {config.warehouse.dims_schema} does not exist; "
                "the analytics stage needs its dim_dates and dim_products tables"
            )
    for table in new_tables:
        ctx.log(f"created table {table}")
    output.details = {"schemas_created": created, "tables_created": new_tables}
    ctx.log(f"schemas {config.staging_schema} and {config.analytics_schema} are ready")
    return output
