"""Which dimensions a run computes on, and whether they fit its source files.

The embedded warehouse starts with generated demo dimensions, made for the demo dataset the console
generates itself (recorded in the state folder: key, ETag, size of each object). Any other source
files meeting those demo dimensions would give invented holidays, products and customers, so a
blocking check stops the run before analytics. `d2b-console --load-dimensions DIR` replaces them and
records where they came from in `{dims}.d2b_dimensions` (embedded warehouse only). An external
warehouse's dimension schema belongs to its owner: its dimensions are "the warehouse's own".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import psycopg2
from psycopg2 import sql

from etl_core.config import Config
from etl_core.demo_data import demo_objects, recognise_demo_dataset
from etl_core.errors import D2BError
from etl_core.events import CheckOutcome
from etl_core.s3 import object_info
from etl_core.sql_files import safe_identifier
from etl_core.stages.staging.inputs import dated_prefix
from etl_core.stages.staging.sources import SOURCE_FILES
from etl_core.warehouse import table_exists

if TYPE_CHECKING:
    from etl_core.services import Services

PROVENANCE_TABLE = "d2b_dimensions"
CHECK_NAME = "dimensions_fit_sources"
LOAD_COMMAND = "d2b-console --load-dimensions DIR"
Kind = Literal["demo", "loaded", "owner"]


@dataclass(frozen=True)
class DimensionsInUse:
    kind: Kind
    schema: str
    folder: str | None = None
    loaded_at: datetime | None = None
    rows: dict[str, int] = field(default_factory=dict)

    def text(self) -> str:
        if self.kind == "owner":
            return f"the warehouse's own dimensions ({self.schema})"
        if self.kind == "demo":
            return f"generated demo dimensions ({self.schema}; only for the demo dataset)"
        when = f"{self.loaded_at:%Y-%m-%d %H:%M %Z}".strip() if self.loaded_at else "?"
        counts = ", ".join(f"{table} {n:,}" for table, n in sorted(self.rows.items()))
        return f"dimensions loaded from {self.folder} on {when} ({counts})"

    def as_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "schema": self.schema,
            "folder": self.folder,
            "loaded_at": self.loaded_at.isoformat() if self.loaded_at else None,
            "rows": self.rows,
            "text": self.text(),
        }


def dimensions_in_use(cur: Any, config: Config) -> DimensionsInUse:
    """What the run's dimension schema holds: the owner's, the generated demo ones, or loaded ones."""
    schema = config.warehouse.dims_schema
    if not config.warehouse.embedded:
        return DimensionsInUse("owner", schema)
    if not table_exists(cur, schema, PROVENANCE_TABLE):
        return DimensionsInUse("demo", schema)
    cur.execute(
        sql.SQL("SELECT folder, loaded_at, row_counts FROM {}.{} ORDER BY loaded_at DESC LIMIT 1").format(
            safe_identifier(schema), safe_identifier(PROVENANCE_TABLE)
        )
    )
    found = cur.fetchone()
    if found is None:
        return DimensionsInUse("demo", schema)
    folder, loaded_at, rows = found
    return DimensionsInUse("loaded", schema, folder, loaded_at, {str(k): int(v) for k, v in dict(rows).items()})


def sources_fit_dimensions(client: Any, config: Config, in_use: DimensionsInUse) -> CheckOutcome:
    """An ERROR check: demo dimensions go only with the demo objects the console generated here."""
    if in_use.kind != "demo":
        return CheckOutcome(CHECK_NAME, "ERROR", True, f"analytics computes on {in_use.text()}")
    record = demo_objects(config.console.state_dir)
    unrecorded = False  # demo data an older version generated, without a record, and not recognised
    if record is None and config.source_embedded:
        if _recognised_old_demo_data(client, config):
            record = demo_objects(config.console.state_dir)
        else:
            unrecorded = True
    record = record or {}
    generated = record.get("objects", {}) if record.get("bucket") == config.source.bucket else {}
    # The run's own folder; the demo dataset is the same bytes in every date's folder, so a file is known by name.
    prefix = dated_prefix(config.source.prefix, config.pipeline.ingestion_date)
    by_name = {key.rsplit("/", 1)[-1]: found for key, found in generated.items()}
    foreign = []
    for source in SOURCE_FILES:
        name = next((n for n in source.names if prefix + n in generated or n in by_name), source.names[0])
        key = prefix + name
        info = object_info(client, config.source.bucket, key)
        known = generated.get(key) or by_name.get(name)
        if (
            info is None
            or known is None
            or (info["ETag"], int(info["ContentLength"])) != (known["etag"], known["size"])
        ):
            foreign.append(f"s3://{config.source.bucket}/{key}")
    if not foreign:
        return CheckOutcome(CHECK_NAME, "ERROR", True, f"the demo dataset with {in_use.text()}")
    return CheckOutcome(
        CHECK_NAME,
        "ERROR",
        False,
        f"the dimensions in {in_use.schema} (dim_dates, dim_products, dim_addresses, dim_customers) are the "
        f"generated demo dimensions, made for the demo dataset only, and {', '.join(foreign)} "
        f"{'is' if len(foreign) == 1 else 'are'} not the demo data the console generated: analytics would count "
        "invented holidays, products and customers, so nothing is computed or exported. Load the real "
        f"dimensions: {LOAD_COMMAND} (a folder holding dim_dates.csv, dim_products.csv, dim_addresses.csv and "
        "dim_customers.csv), then run again"
        + (_NO_RECORD.format(state=config.console.state_dir) if unrecorded else ""),
    )


# A state folder made before the console recorded the demo data it generates, whose data is not recognised.
_NO_RECORD = (
    ". This state folder has no record of the demo data the console generated ({state}/demo_dataset.json; "
    "older versions kept none) and these files are not the demo dataset it generates now: if they are demo "
    "data an older version generated, delete the state folder {state} (its warehouse and run history go "
    "with it) and the console generates the demo data again, with its record"
)


def _recognised_old_demo_data(client: Any, config: Config) -> bool:
    """Demo data generated before the console kept its record: the same ETags and sizes as the demo
    dataset generated now at the configured scale (deterministic); recorded when recognised."""
    prefix = dated_prefix(config.source.prefix, config.pipeline.ingestion_date)
    return recognise_demo_dataset(
        client, config.source.bucket, prefix, config.console.demo_scale, config.console.state_dir
    )


def dimensions_check(services: Services, config: Config) -> CheckOutcome:
    """The blocking check `dimensions_fit_sources` of the run's source files (its date's, `config`) and dimensions."""
    with services.transaction("dimensions") as cur:
        in_use = dimensions_in_use(cur, config)
    return sources_fit_dimensions(services.s3(), config, in_use)


def describe_dimensions(services: Services) -> dict[str, Any] | None:
    """`dimensions_in_use` for --json, the run log and --dry-run; None when the warehouse cannot say."""
    try:
        with services.transaction("dimensions") as cur:
            return dimensions_in_use(cur, services.config).as_json()
    except (psycopg2.Error, D2BError):
        return None


def dimensions_fact(described: dict[str, Any] | None) -> str:
    """The few words of the console's title: "DEMO dimensions", "dimensions from <folder>", or "" (the owner's)."""
    if not described or described["kind"] == "owner":
        return ""
    if described["kind"] == "demo":
        return "DEMO dimensions"
    return f"dimensions from {Path(described['folder'] or '?').name}"
