"""Load and validate config.toml: every key checked, every error naming the file and the key."""

from __future__ import annotations

import contextlib
import os
import re
import tomllib
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import Any, NoReturn

from etl_core.errors import ConfigError
from etl_core.s3_names import bucket_name_problem, region_problem
from etl_core.warehouse_address import InvalidAddress, warehouse_label

EMBEDDED = "embedded"
WAREHOUSE_URL_ENV = "D2B_WAREHOUSE_URL"
IDENTIFIER_RE = re.compile(r"^[a-z][a-z0-9_]{0,40}$")
BEST_PRODUCT_CHOICES = ("review_count", "review_points")
ISO_DATE_RE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")  # date.fromisoformat also takes 20220905 and 2022-W36-1
CLIENT_TRANSFER, AWS_S3_TRANSFER = "client", "aws_s3"
TRANSFER_MODES = (CLIENT_TRANSFER, AWS_S3_TRANSFER)


@dataclass(frozen=True)
class PipelineSettings:
    user_id: str
    as_of_date: date
    ingestion_date: date
    best_product_by: str
    allow_future_ingestion_date: bool = False


@dataclass(frozen=True)
class SourceSettings:
    bucket: str
    prefix: str
    region: str
    endpoint_url: str  # "embedded", "" (AWS) or a URL
    anonymous: bool
    allow_empty_files: bool = False  # True: a source file with no data rows does not fail the run


@dataclass(frozen=True)
class ExportSettings:
    bucket: str  # resolved: never empty
    prefix: str  # resolved: {user_id} substituted, ends with "/"


@dataclass(frozen=True)
class WarehouseSettings:
    url: str = field(repr=False)  # "embedded", a postgresql:// URL or a keyword DSN (may hold a password)
    dims_schema: str
    label: str = "embedded Postgres"  # what messages and screens show, built from libpq's parts
    # "client": every byte passes through the console (COPY FROM STDIN / TO STDOUT); "aws_s3": the
    # warehouse (RDS/Aurora PostgreSQL) reads and writes S3 itself with its aws_s3 extension.
    transfer: str = CLIENT_TRANSFER

    @property
    def embedded(self) -> bool:
        return self.url == EMBEDDED

    @property
    def server_side(self) -> bool:
        return self.transfer == AWS_S3_TRANSFER


@dataclass(frozen=True)
class ConsoleSettings:
    state_dir: Path
    demo_scale: float
    query_timeout_s: float = 30.0  # statement timeout of the SQL pane, previews and profiles


@dataclass(frozen=True)
class TimeoutSettings:
    """Bounds of every network wait (seconds); see the README's configuration reference."""

    connect_s: float = 10.0  # connecting to the warehouse or to S3
    s3_read_s: float = 20.0  # an S3 request or object read that receives nothing this long fails
    s3_attempts: int = 3  # tries of one S3 request on a transient error (botocore's retries)
    warehouse_stall_s: float = 60.0  # a warehouse call that makes no progress this long ends the stage
    lock_wait_s: float = 5.0  # each attempt of a publication waits at most this long for its locks


@dataclass(frozen=True)
class Config:
    path: str
    pipeline: PipelineSettings
    source: SourceSettings
    export: ExportSettings
    warehouse: WarehouseSettings
    console: ConsoleSettings
    warnings: tuple[str, ...] = field(default=())
    timeouts: TimeoutSettings = field(default=TimeoutSettings())

    @property
    def staging_schema(self) -> str:
        return f"{self.pipeline.user_id}_staging"

    @property
    def analytics_schema(self) -> str:
        return f"{self.pipeline.user_id}_analytics"

    @property
    def sql_schemas(self) -> dict[str, str]:
        """The schema names the `{staging}`, `{analytics}` and `{dims}` placeholders of sql/ stand for."""
        return {"staging": self.staging_schema, "analytics": self.analytics_schema, "dims": self.warehouse.dims_schema}

    @property
    def source_embedded(self) -> bool:
        return self.source.endpoint_url == EMBEDDED

    @property
    def needs_embedded(self) -> bool:
        return self.source_embedded or self.warehouse.embedded


# One key per line, so that keys added by separate changes merge without conflicts.
_KNOWN_KEYS: dict[str, set[str]] = {
    "pipeline": {
        "user_id",
        "as_of_date",
        "ingestion_date",
        "best_product_by",
        "allow_future_ingestion_date",
    },
    "source": {
        "bucket",
        "prefix",
        "region",
        "endpoint_url",
        "anonymous",
        "allow_empty_files",
    },
    "export": {
        "bucket",
        "prefix",
    },
    "warehouse": {
        "url",
        "dims_schema",
        "transfer",
    },
    "console": {
        "state_dir",
        "demo_scale",
        "query_timeout_s",
    },
    "timeouts": {
        "connect_s",
        "s3_read_s",
        "s3_attempts",
        "warehouse_stall_s",
        "lock_wait_s",
    },
}


def default_config_path() -> str:
    """./config.toml when present, else the default shipped inside the package."""
    local = Path("config.toml")
    if local.is_file():
        return str(local)
    return str(resources.files("etl_core").joinpath("default_config.toml"))


def load_config(path: str | None = None, *, today: date | None = None) -> Config:
    """Read, validate and resolve a config file; raises ConfigError naming the file and key."""
    path = path or default_config_path()
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(
            path, "-", "the config file does not exist; pass --config PATH or create ./config.toml"
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(path, "-", f"cannot read the file ({exc.__class__.__name__}: {exc})") from None
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(path, "-", f"not valid TOML: {exc}") from None
    return parse_config(raw, path, today=today)


def parse_config(raw: dict[str, Any], path: str, *, today: date | None = None) -> Config:
    reader = _Reader(raw, path)
    warnings = reader.unknown_keys()
    try:
        return _parse(reader, path, warnings, today)
    except ConfigError as exc:
        exc.warnings = warnings
        raise


def _parse(reader: _Reader, path: str, warnings: list[str], today: date | None) -> Config:
    user_id = reader.string("pipeline", "user_id")
    if not IDENTIFIER_RE.match(user_id):
        reader.fail(
            "pipeline",
            "user_id",
            f"{user_id!r} is not a safe identifier: use lowercase letters, digits "
            "and _, starting with a letter (at most 41 characters)",
        )
    as_of = reader.iso_date("pipeline", "as_of_date")
    today = today or date.today()
    ingestion_text = reader.raw_value("pipeline", "ingestion_date")
    is_today = isinstance(ingestion_text, str) and ingestion_text.strip() == "today"
    ingestion = today if is_today else reader.iso_date("pipeline", "ingestion_date")
    allow_future = reader.boolean("pipeline", "allow_future_ingestion_date", default=False)
    if ingestion > today + timedelta(days=1) and not allow_future:
        reader.fail(
            "pipeline",
            "ingestion_date",
            f"{ingestion} is more than a day in the future (today is {today}); "
            "fix it, or set allow_future_ingestion_date = true in [pipeline] if that is intended",
        )
    best_by = reader.string("pipeline", "best_product_by")
    if best_by not in BEST_PRODUCT_CHOICES:
        reader.fail("pipeline", "best_product_by", f"{best_by!r} is not one of {', '.join(BEST_PRODUCT_CHOICES)}")

    bucket = reader.bucket("source", "bucket")
    endpoint = reader.string("source", "endpoint_url", allow_empty=True)
    if endpoint not in ("", EMBEDDED) and not re.match(r"^https?://[^\s/]+", endpoint):
        reader.fail("source", "endpoint_url", f"{endpoint!r} is not 'embedded', empty (AWS) or an http(s):// URL")
    region = reader.string("source", "region")
    if problem := region_problem(region, aws=endpoint == ""):
        reader.fail("source", "region", f"{region!r} {problem}")
    source = SourceSettings(
        bucket=bucket,
        prefix=_as_prefix(reader.string("source", "prefix", allow_empty=True)),
        region=region,
        endpoint_url=endpoint,
        anonymous=reader.boolean("source", "anonymous"),
        allow_empty_files=reader.boolean("source", "allow_empty_files", default=False),
    )

    export_bucket = reader.bucket("export", "bucket", allow_empty=True) or bucket
    export_prefix_template = reader.string("export", "prefix", allow_empty=True)
    if "{user_id}" not in export_prefix_template:
        # Two operators exporting the same table must never write (or sweep) the same keys.
        reader.fail(
            "export",
            "prefix",
            f"{export_prefix_template!r} must contain {{user_id}}, so that every "
            'operator writes its own keys (e.g. "analytics_export/{user_id}/")',
        )
    try:
        export_prefix = _as_prefix(export_prefix_template.format(user_id=user_id))
    except (KeyError, IndexError, ValueError):
        reader.fail("export", "prefix", "only the placeholder {user_id} is allowed")

    from_env = os.environ.get(WAREHOUSE_URL_ENV, "").strip()
    url = from_env or reader.string("warehouse", "url")
    url_key = f"environment {WAREHOUSE_URL_ENV}" if from_env else "warehouse.url"
    label = WarehouseSettings.label
    if url != EMBEDDED:
        try:
            label = warehouse_label(url)
        except InvalidAddress as exc:
            raise ConfigError(path, url_key, str(exc)) from None
    dims = reader.string("warehouse", "dims_schema")
    if not IDENTIFIER_RE.match(dims):
        reader.fail("warehouse", "dims_schema", f"{dims!r} is not a safe identifier")
    transfer = _transfer_mode(reader, url, endpoint)

    scale = reader.number("console", "demo_scale", default=1)
    if not 0 < scale <= 1000:
        reader.fail("console", "demo_scale", "must be a number between 0 (excluded) and 1000")
    query_timeout = reader.number("console", "query_timeout_s", default=30)
    if not 0 < query_timeout <= 86400:
        reader.fail("console", "query_timeout_s", "must be a number of seconds between 0 (excluded) and 86400")
    console = ConsoleSettings(
        state_dir=Path(reader.string("console", "state_dir", default=".d2b-state")).expanduser().absolute(),
        demo_scale=float(scale),
        query_timeout_s=float(query_timeout),
    )
    return Config(
        path=path,
        pipeline=PipelineSettings(user_id, as_of, ingestion, best_by, allow_future),
        source=source,
        export=ExportSettings(export_bucket, export_prefix),
        warehouse=WarehouseSettings(url, dims, label, transfer),
        console=console,
        warnings=tuple(warnings),
        timeouts=_timeouts(reader),
    )


def _transfer_mode(reader: _Reader, url: str, s3_endpoint: str) -> str:
    transfer = reader.string("warehouse", "transfer", default=CLIENT_TRANSFER)
    if transfer not in TRANSFER_MODES:
        allowed = ", ".join(f'"{mode}"' for mode in TRANSFER_MODES)
        reader.fail(
            "warehouse",
            "transfer",
            f'{transfer!r} is not one of {allowed} ("client": through the console, '
            'the default; "aws_s3": the RDS/Aurora warehouse reads and writes S3 itself)',
        )
    if transfer == AWS_S3_TRANSFER and url == EMBEDDED:
        reader.fail(
            "warehouse",
            "transfer",
            '"aws_s3" needs an RDS or Aurora PostgreSQL warehouse: only those have '
            "the aws_s3 extension, and the embedded Postgres is neither. Give the warehouse URL ([warehouse] "
            f'url or {WAREHOUSE_URL_ENV}), or use transfer = "client"',
        )
    if transfer == AWS_S3_TRANSFER and s3_endpoint == EMBEDDED:
        reader.fail(
            "warehouse",
            "transfer",
            '"aws_s3" has the warehouse read and write S3 itself, and it cannot '
            'reach the embedded S3 on this machine: set [source] endpoint_url = "" (AWS S3), or use '
            'transfer = "client"',
        )
    return transfer


def _timeouts(reader: _Reader) -> TimeoutSettings:
    defaults = TimeoutSettings()
    seconds = {
        key: reader.number("timeouts", key, default=getattr(defaults, key))
        for key in ("connect_s", "s3_read_s", "warehouse_stall_s", "lock_wait_s")
    }
    for key, value in seconds.items():
        if not 0 < value <= 3600:
            reader.fail("timeouts", key, f"{value!r} must be a number of seconds above 0 and at most 3600")
    attempts = reader.number("timeouts", "s3_attempts", default=defaults.s3_attempts)
    if not isinstance(attempts, int) or not 1 <= attempts <= 10:
        reader.fail("timeouts", "s3_attempts", f"{attempts!r} must be a whole number from 1 to 10")
    return TimeoutSettings(**{key: float(value) for key, value in seconds.items()}, s3_attempts=attempts)


def _as_prefix(prefix: str) -> str:
    prefix = prefix.strip().lstrip("/")
    return prefix if not prefix or prefix.endswith("/") else prefix + "/"


class _Reader:
    """Typed access to the raw TOML tables that fails with the file and the key."""

    def __init__(self, raw: dict[str, Any], path: str):
        self.raw, self.path = raw, path

    def fail(self, section: str, key: str, problem: str) -> NoReturn:
        raise ConfigError(self.path, f"{section}.{key}", problem)

    def unknown_keys(self) -> list[str]:
        warnings = []
        for section, values in self.raw.items():
            if section not in _KNOWN_KEYS:
                warnings.append(f"{self.path}: unknown section [{section}] is ignored")
                continue
            if not isinstance(values, dict):
                raise ConfigError(self.path, section, "must be a table like [section]")
            for key in values:
                if key not in _KNOWN_KEYS[section]:
                    warnings.append(f"{self.path}: unknown key {section}.{key} is ignored")
        return warnings

    def _get(self, section: str, key: str, default: Any = None) -> Any:
        table = self.raw.get(section)
        if not isinstance(table, dict) or key not in table:
            if default is not None:
                return default
            self.fail(section, key, "is missing")
        return table[key]

    def string(self, section: str, key: str, *, allow_empty: bool = False, default: str | None = None) -> str:
        value = self._get(section, key, default)
        if not isinstance(value, str):
            self.fail(section, key, f"must be a string, not {type(value).__name__}")
        value = value.strip()
        if not value and not allow_empty:
            self.fail(section, key, "must not be empty")
        return value

    def raw_value(self, section: str, key: str) -> Any:
        return self._get(section, key)

    def bucket(self, section: str, key: str, *, allow_empty: bool = False) -> str:
        name = self.string(section, key, allow_empty=allow_empty)
        if name and (problem := bucket_name_problem(name)):
            self.fail(section, key, f"{name!r} is not a valid S3 bucket name: it {problem}")
        return name

    def boolean(self, section: str, key: str, *, default: bool | None = None) -> bool:
        value = self._get(section, key, default)
        if not isinstance(value, bool):
            self.fail(section, key, "must be true or false")
        return value

    def number(self, section: str, key: str, *, default: float) -> float:
        value = self._get(section, key, default)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            self.fail(section, key, "must be a number")
        return value

    def iso_date(self, section: str, key: str) -> date:
        value = self._get(section, key)
        if isinstance(value, date):  # tomllib reads an unquoted 2022-09-05 (or a datetime) as a date
            literal = "datetime" if isinstance(value, datetime) else "date"
            self.fail(
                section,
                key,
                f"is a TOML {literal} literal ({value.isoformat()}); write the day as a quoted "
                f'ISO date string, like {key} = "{value.isoformat()[:10]}"',
            )
        if not isinstance(value, str):
            self.fail(section, key, f'must be an ISO date string like "2022-09-05", not {type(value).__name__}')
        text = value.strip()
        if ISO_DATE_RE.fullmatch(text):
            with contextlib.suppress(ValueError):  # 2022-02-30: refused below
                return date.fromisoformat(text)
        self.fail(section, key, f"{value!r} is not an ISO date (YYYY-MM-DD, a real day)")
