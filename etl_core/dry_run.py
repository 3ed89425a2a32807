"""`--dry-run`: check the config, reach what exists, and say what a run would do or create; change nothing.

On a fresh embedded state folder nothing is started (starting would create the Postgres data
folder, the S3 store, the buckets, the demo data and the dimensions): the plan says what the first
run will create. Otherwise the services are reached without seeding anything.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from etl_core.config import Config
from etl_core.demo_seed import seeding_described, still_to_seed
from etl_core.dimension_provenance import describe_dimensions
from etl_core.dimensions import require_dimensions
from etl_core.embedded.state_folder import check_state_folder
from etl_core.embedded.supervisor import EmbeddedServices
from etl_core.errors import EXIT_OK, StageError
from etl_core.pipeline import STAGES
from etl_core.s3_names import endpoint_label
from etl_core.services import Services, open_services
from etl_core.stages.export import export_targets
from etl_core.stages.staging.inputs import dated_prefix
from etl_core.stages.staging.sources import SOURCE_FILES, locate_source
from etl_core.transfer_aws_s3 import require_ready
from etl_core.warehouse import schema_exists, table_exists


def dry_run_plan(config: Config, log: Callable[[str], None], demo_scale: float | None) -> dict[str, Any]:
    """What a run of every stage would read, write and create; a JSON-ready dict."""
    plan: dict[str, Any] = {
        "status": "dry run",
        "exit_code": EXIT_OK,
        "stages": list(STAGES),
        "warehouse": config.warehouse.label,
        "s3": "embedded S3"
        if config.source_embedded
        else (endpoint_label(config.source.endpoint_url) or f"AWS S3 ({config.source.region})"),
        "transfer": config.warehouse.transfer,
        "schemas": [config.staging_schema, config.analytics_schema, config.warehouse.dims_schema],
        "exports": [t.uri for t in export_targets(config)],
    }
    check_state_folder(config.console.state_dir)  # a run would need it: the same refusal (exit 2) as a run
    fresh = _embedded_parts_to_create(config)
    if fresh:  # nothing exists to reach yet: the plan comes from the config alone
        plan["sources"] = (
            [{"table": s.table, "key": config.source.prefix + s.names[0], "bytes": None} for s in SOURCE_FILES]
            if config.source_embedded
            else []
        )
        plan["would_create"] = fresh + seeding_described(
            config, demo_scale, buckets=True, data=config.source_embedded, dims=config.warehouse.embedded
        )
        return plan
    with open_services(config, log=log, demo_scale=demo_scale, seed=False) as services:
        plan["warehouse"], plan["s3"] = services.warehouse_label, services.s3_label
        if config.warehouse.server_side:
            with services.transaction("dry run") as cur:
                require_ready(cur, services.warehouse_label)
        _require_dimensions(services)
        plan["sources"] = _sources(services)
        plan["dimensions"] = describe_dimensions(services)
        plan["would_create"] = _missing(services, demo_scale)
    return plan


def print_plan(plan: dict[str, Any], config: Config) -> None:
    print(f"warehouse {plan['warehouse']}, S3 {plan['s3']}, transfer {plan['transfer']}")
    for s in plan["sources"]:
        size = f" ({s['bytes']:,} bytes)" if s["bytes"] is not None else " (to be generated)"
        print(
            f"  source {s['table']:<20} " + (f"s3://{config.source.bucket}/{s['key']}{size}" if s["key"] else "MISSING")
        )
    for uri in plan["exports"]:
        print(f"  export {uri}")
    if dimensions := plan.get("dimensions"):
        print(f"  dimensions: {dimensions['text']}")
    for thing in plan["would_create"]:
        print(f"  would create {thing}")


def _embedded_parts_to_create(config: Config) -> list[str]:
    if not config.needs_embedded:
        return []
    return EmbeddedServices.for_config(config).not_created()


def _require_dimensions(services: Services) -> None:
    """What a run reads in the dimension schema (exit 3 when missing); the embedded one is seeded by a run."""
    config = services.config
    with services.transaction("dry run") as cur:
        if config.warehouse.embedded and not table_exists(cur, config.warehouse.dims_schema, "dim_dates"):
            return  # the first run seeds the demo dimensions: the plan says so
        require_dimensions(cur, config.warehouse.dims_schema, services.warehouse_label)


def _sources(services: Services) -> list[dict[str, Any]]:
    config, client = services.config, services.s3()
    sources = []
    for source in SOURCE_FILES:
        try:
            prefix = dated_prefix(config.source.prefix, config.pipeline.ingestion_date)
            found = locate_source(client, config.source.bucket, prefix, source)
            sources.append({"table": source.table, "key": found.key, "bytes": found.size, "ignored": found.ignored})
        except StageError:
            sources.append({"table": source.table, "key": None, "bytes": None})
    return sources


def _missing(services: Services, demo_scale: float | None) -> list[str]:
    """What the services' start or the first run would create that is not there yet."""
    config = services.config
    things = still_to_seed(services, demo_scale)
    with services.transaction("dry run") as cur:
        things += [
            f"the schema {schema} and its tables (prepare stage)"
            for schema in (config.staging_schema, config.analytics_schema)
            if not schema_exists(cur, schema)
        ]
    return things
