"""Load and validate config.toml: every key checked, every error naming the file and the key.

Every key is declared once, as a field of its section's dataclass below (`setting(...)`): its type,
its default (none: the key is required), the check of its value and its line of documentation. The
known keys, the parser and the README check (tests/test_config_reference.py) all read that
declaration; checks that join several keys are the `_rules_*` functions at the end.
"""

from __future__ import annotations

import contextlib
import os
import re
import tomllib
from collections.abc import Callable
from dataclasses import Field, dataclass, field, fields
from datetime import date, datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import Any, ClassVar, Literal, NoReturn, get_args

from etl_core.errors import ConfigError
from etl_core.kinds import Severity
from etl_core.s3_names import bucket_name_problem, endpoint_label, region_problem
from etl_core.warehouse_address import InvalidAddress, warehouse_label

EMBEDDED = "embedded"
WAREHOUSE_URL_ENV = "D2B_WAREHOUSE_URL"
IDENTIFIER_RE = re.compile(r"^[a-z][a-z0-9_]{0,40}$")
BestProductBy = Literal["review_count", "review_points"]
BEST_PRODUCT_CHOICES: tuple[BestProductBy, ...] = get_args(BestProductBy)
ISO_DATE_RE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")  # date.fromisoformat also takes 20220905 and 2022-W36-1
Transfer = Literal["client", "aws_s3"]
CLIENT_TRANSFER: Transfer = "client"
AWS_S3_TRANSFER: Transfer = "aws_s3"
TRANSFER_MODES: tuple[Transfer, ...] = get_args(Transfer)
SHORTEST_WAIT_S = 0.01  # every *_s bound: below it a millisecond timeout on the server could round to 0 (off)
OnUnchanged = Literal["warn", "fail"]
ON_UNCHANGED_CHOICES: tuple[OnUnchanged, ...] = get_args(OnUnchanged)
AS_OF_INGESTION_DATE = "ingestion_date"
_KEY = "d2b_config_key"  # the metadata entry of a dataclass field that is a config key
_TODAY = "today"


@dataclass(frozen=True)
class Key:
    """One config key: how it is read (its type), its default, its check and its README line."""

    doc: str  # the "meaning" cell of the README's configuration reference, verbatim
    read: Callable[[_Reader, str, str, Any], Any]  # (reader, section, key, default) -> a value of the key's type
    default: Any = None  # None: the key is required
    check: Callable[[Any], str | None] | None = None  # the problem with a value of the right type, or None
    convert: Callable[[Any], Any] | None = None  # the checked value -> what the settings hold


def setting(
    read: Callable[[_Reader, str, str, Any], Any],
    doc: str,
    *,
    default: Any = None,
    check: Callable[[Any], str | None] | None = None,
    convert: Callable[[Any], Any] | None = None,
    repr: bool = True,
) -> Any:
    """A dataclass field that declares a config key; the field's default is the key's (converted)."""
    key = Key(doc, read, default, check, convert)
    if default is None:
        return field(repr=repr, metadata={_KEY: key})
    return field(default_factory=lambda: convert(default) if convert else default, repr=repr, metadata={_KEY: key})


def declared_keys(section: type) -> dict[str, Key]:
    """A section's keys in reading order: its fields declared with `setting`, then the ones only a rule reads."""
    keys = {f.name: f.metadata[_KEY] for f in fields(section) if _KEY in f.metadata}
    return keys | {name: f.metadata[_KEY] for name, f in getattr(section, "rule_only_keys", {}).items()}


# --- readers: the type of a key (each fails naming the file and the key) ---


def _text(allow_empty: bool = False) -> Callable[[_Reader, str, str, Any], str]:
    return lambda reader, section, key, default: reader.string(section, key, allow_empty=allow_empty, default=default)


def _bucket(allow_empty: bool = False) -> Callable[[_Reader, str, str, Any], str]:
    return lambda reader, section, key, default: reader.bucket(section, key, allow_empty=allow_empty)


def _flag(reader: _Reader, section: str, key: str, default: Any) -> bool:
    return reader.boolean(section, key, default=default)


def _number(reader: _Reader, section: str, key: str, default: Any) -> float:
    return reader.number(section, key, default=default)


def _iso_date(reader: _Reader, section: str, key: str, default: Any) -> date:
    return reader.iso_date(section, key)


def _iso_date_or_today(reader: _Reader, section: str, key: str, default: Any) -> date:
    value = reader.raw_value(section, key)
    is_today = isinstance(value, str) and value.strip() == _TODAY
    return reader.today if is_today else reader.iso_date(section, key)


def _warehouse_url(reader: _Reader, section: str, key: str, default: Any) -> str:
    """D2B_WAREHOUSE_URL, else [warehouse] url; an address libpq cannot parse is refused here."""
    from_env = os.environ.get(WAREHOUSE_URL_ENV, "").strip()
    url = from_env or reader.string(section, key)
    if url != EMBEDDED:
        try:
            warehouse_label(url)
        except InvalidAddress as exc:
            raise ConfigError(
                reader.path, f"environment {WAREHOUSE_URL_ENV}" if from_env else "warehouse.url", str(exc)
            ) from None
    return url


# --- checks: the problem with a value of the right type, or None ---


def _identifier(value: str) -> str | None:
    if IDENTIFIER_RE.match(value):
        return None
    return (
        f"{value!r} is not a safe identifier: use lowercase letters, digits "
        "and _, starting with a letter (at most 41 characters)"
    )


def _schema_name(value: str) -> str | None:
    return None if IDENTIFIER_RE.match(value) else f"{value!r} is not a safe identifier"


def _best_product_by(value: str) -> str | None:
    return None if value in BEST_PRODUCT_CHOICES else f"{value!r} is not one of {', '.join(BEST_PRODUCT_CHOICES)}"


def _endpoint_url(value: str) -> str | None:
    if value in ("", EMBEDDED) or re.match(r"^https?://[^\s/]+", value):
        return None
    return f"{value!r} is not 'embedded', empty (AWS) or an http(s):// URL"


def _transfer(value: str) -> str | None:
    if value in TRANSFER_MODES:
        return None
    allowed = ", ".join(f'"{mode}"' for mode in TRANSFER_MODES)
    return (
        f'{value!r} is not one of {allowed} ("client": through the console, '
        'the default; "aws_s3": the RDS/Aurora warehouse reads and writes S3 itself)'
    )


def _between(low_excluded: float, high: float, problem: str) -> Callable[[float], str | None]:
    return lambda value: None if low_excluded < value <= high else problem


def _seconds(high: float, out_of_range: Callable[[float], str]) -> Callable[[float], str | None]:
    """A wait in seconds: above 0, at most `high`, and long enough for the server to honour it."""

    def check(value: float) -> str | None:
        if not 0 < value <= high:
            return out_of_range(value)
        if value < SHORTEST_WAIT_S:
            return (
                f"{value!r} is too short to be a bound: the warehouse counts lock_timeout and statement_timeout "
                f"in whole milliseconds and one that rounds to 0 switches the timeout off, so a wait must be at "
                f"least {SHORTEST_WAIT_S:g} s"
            )
        return None

    return check


_network_wait = _seconds(3600, lambda value: f"{value!r} must be a number of seconds above 0 and at most 3600")


def _whole(low: int, high: int) -> Callable[[float], str | None]:
    def check(value: float) -> str | None:
        return (
            None
            if isinstance(value, int) and low <= value <= high
            else f"{value!r} must be a whole number from {low} to {high}"
        )

    return check


def _as_prefix(prefix: str) -> str:
    prefix = prefix.strip().lstrip("/")
    return prefix if not prefix or prefix.endswith("/") else prefix + "/"


def _dated_prefix(value: str) -> str | None:
    """A source prefix may hold `{date}` (the ingestion date) and no other placeholder."""
    rest = value.replace("{date}", "")
    if "{" in rest or "}" in rest:
        return f"{value!r}: the only placeholder allowed is {{date}} (the ingestion date, YYYY-MM-DD)"
    return None


def _on_unchanged(value: str) -> str | None:
    return None if value in ON_UNCHANGED_CHOICES else f"{value!r} is not one of {', '.join(ON_UNCHANGED_CHOICES)}"


def _deadline(value: str) -> str | None:
    if value == "" or re.fullmatch(r"([01][0-9]|2[0-3]):[0-5][0-9]", value):
        return None
    return f'{value!r} is not a time of day "HH:MM" (24-hour, local time), or "" for none'


def _as_of_date(reader: _Reader, section: str, key: str, default: Any) -> date | None:
    """An ISO date, or None for "ingestion_date": each run's own ingestion date (set by _rules_pipeline)."""
    value = reader.raw_value(section, key)
    if isinstance(value, str) and value.strip() == AS_OF_INGESTION_DATE:
        return None
    return reader.iso_date(section, key)


def _state_dir(value: str) -> Path:
    return Path(value).expanduser().absolute()


def _optional_path(value: str) -> Path | None:
    return Path(value).expanduser().absolute() if value else None


def _choices(allowed: tuple[str, ...]) -> Callable[[_Reader, str, str, Any], tuple[str, ...]]:
    """A list of strings, each one of `allowed`, without repeats (order kept)."""

    def read(reader: _Reader, section: str, key: str, default: Any) -> tuple[str, ...]:
        value = reader._get(section, key, default)
        if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
            reader.fail(section, key, f"must be a list of strings, like {list(default)!r}")
        if unknown := [v for v in value if v not in allowed]:
            reader.fail(section, key, f"{unknown[0]!r} is not one of {', '.join(allowed)}")
        return tuple(dict.fromkeys(value))

    return read


# --- the declaration. To add a key: add a `setting(...)` field to its section (its reader, its README
# line, its default if it may be left out, its check), then its row to the README's configuration
# reference; tests/test_config_reference.py prints the row it expects. kw_only: fields in any order.


@dataclass(frozen=True, kw_only=True)
class PipelineSettings:
    user_id: str = setting(
        _text(),
        "operator id: schemas `{user_id}_staging` and `{user_id}_analytics`; lowercase letters, digits, `_`, "
        "starting with a letter, at most 41 characters",
        check=_identifier,
    )
    as_of_date: date = setting(
        _as_of_date,
        'the business "current date" of every rule; a quoted ISO date string (`"YYYY-MM-DD"`: a TOML date '
        'literal is refused), kept for every date a backfill runs; or `"ingestion_date"`: each run\'s own '
        "ingestion date",
    )
    ingestion_date: date = setting(
        _iso_date_or_today,
        "the run date (primary key of the analytics tables), or an ISO date string for reproducible runs; "
        "more than a day in the future is refused",
    )
    best_product_by: BestProductBy = setting(
        _text(), "or `review_points` (see the decisions below)", check=_best_product_by
    )
    deadline: str = setting(
        _text(allow_empty=True),
        '`"HH:MM"` (local time): `--status` exits 1 when today\'s date has not succeeded by then; `""`: no '
        "deadline (it exits 1 when the last run failed)",
        default="",
        check=_deadline,
    )
    as_of_follows_ingestion: bool = False  # not a key: as_of_date = "ingestion_date" (set by _rules_pipeline)
    # Keys that only a rule reads: declared the same way, never kept on the settings.
    rule_only_keys: ClassVar[dict[str, Field[Any]]] = {
        "allow_future_ingestion_date": setting(
            _flag, "`true` accepts an `ingestion_date` more than a day ahead", default=False
        ),
    }


@dataclass(frozen=True, kw_only=True)
class SourceSettings:
    bucket: str = setting(
        _bucket(),
        "the data-lake bucket; S3's naming rules are checked at start (3-63 characters, lowercase letters, "
        "digits, `.` and `-`, beginning and ending with a letter or digit, no `..`, not an IP address, no "
        "reserved prefix or suffix)",
    )
    endpoint_url: str = setting(  # "embedded", "" (AWS) or a URL
        _text(allow_empty=True),
        '`embedded`: the built-in S3; `""`: AWS; else any S3-compatible `http://` or `https://` URL',
        check=_endpoint_url,
    )
    region: str = setting(  # checked by _rules_source: the rule depends on endpoint_url
        _text(), 'lowercase letters, digits and `-`; on AWS (`endpoint_url = ""`) a region name like `eu-central-1`'
    )
    prefix: str = setting(
        _text(allow_empty=True),
        "where the three files land; may hold `{date}`, the ingestion date as `YYYY-MM-DD` "
        "(`orders_data/dt={date}/`): each date then reads its own folder",
        check=_dated_prefix,
        convert=_as_prefix,
    )
    anonymous: bool = setting(
        _flag, "unsigned requests (the original bucket is public); local AWS credentials are then never read"
    )
    allow_empty_files: bool = setting(
        _flag,
        "`true`: a source file with no data rows (a header only) loads zero rows; by default it fails the "
        "blocking check `<table>_has_rows`, so analytics and export never report an empty day of zeros",
        default=False,
    )
    on_unchanged: OnUnchanged = setting(
        _text(),
        '`"warn"`: a run whose source objects are the ones the previous date\'s successful run loaded says so '
        '("no new files since run #N"); `"fail"`: it fails staging instead, before anything is loaded',
        default="warn",
        check=_on_unchanged,
    )
    max_age_hours: float = setting(
        _number,
        "`0`: off; else a source object last modified longer ago (counted to the end of the ingestion date, or "
        "now if earlier) fails the blocking check `source_fresh`, naming the object and its age",
        default=0,
        check=_between(-1e-9, 1e6, "must be a number of hours, 0 (off) or more"),
        convert=float,
    )
    archive_prefix: str = setting(
        _text(allow_empty=True),
        '`""`: off; else each source object is copied there (server-side, same bucket) before it is loaded, '
        'e.g. `"archive/dt={date}/"`; an archived object is never overwritten by a different one',
        default="",
        check=_dated_prefix,
        convert=_as_prefix,
    )


@dataclass(frozen=True, kw_only=True)
class ExportSettings:
    bucket: str = setting(  # resolved by _rules_export: never empty
        _bucket(allow_empty=True),
        '`""`: the source bucket; else checked like `source.bucket` at start, so a bad name fails before staging runs',
    )
    prefix: str = setting(  # resolved by _rules_export: {user_id} substituted, ends with "/"
        _text(allow_empty=True),
        "at the bucket root; must contain `{user_id}` (the only placeholder allowed) as a folder of its own in "
        "the prefix as written (`.../{user_id}/...`), and no `.`, `..` or empty folder (`a//b`) nor `\\`, so two "
        "operators never write (or clean up) the same keys, even on an S3 server that normalises paths",
    )


@dataclass(frozen=True, kw_only=True)
class WarehouseSettings:
    url: str = setting(  # "embedded", a postgresql:// URL or a keyword DSN (may hold a password)
        _warehouse_url,
        "`embedded`: the built-in Postgres; else `postgresql://user@host:5432/db` or a keyword DSN "
        "(`host=... dbname=... user=...`), checked with libpq's own parser when the config loads",
        repr=False,
    )
    dims_schema: str = setting(
        _text(), "the read-only dimension tables; a schema name checked like `user_id`", check=_schema_name
    )
    # "client": every byte passes through the console (COPY FROM STDIN / TO STDOUT); "aws_s3": the
    # warehouse (RDS/Aurora PostgreSQL) reads and writes S3 itself with its aws_s3 extension.
    transfer: Transfer = setting(
        _text(),
        "`client`: every byte passes through the console (`COPY ... FROM STDIN` / `TO STDOUT`); `aws_s3`: an "
        "RDS or Aurora PostgreSQL warehouse reads and writes S3 itself (see below); anything else is refused "
        "(exit 2), and so is `aws_s3` with the embedded warehouse (unless the warehouse URL is given) or the "
        "embedded S3",
        default=CLIENT_TRANSFER,
        check=_transfer,
    )
    label: str = "embedded Postgres"  # not a key: what messages and screens show, built from libpq's parts

    @property
    def embedded(self) -> bool:
        return self.url == EMBEDDED

    @property
    def server_side(self) -> bool:
        return self.transfer == AWS_S3_TRANSFER


@dataclass(frozen=True, kw_only=True)
class ConsoleSettings:
    demo_scale: float = setting(
        _number,
        "size of the demo dataset seeded into an empty embedded bucket; above 0 and at most 1000",
        default=1,
        check=_between(0, 1000, "must be a number between 0 (excluded) and 1000"),
        convert=float,
    )
    query_timeout_s: float = setting(
        _number,
        "statement timeout (seconds) of the `:` SQL pane, table previews and profiles; from 0.01 to 86400",
        default=30,
        check=_seconds(86400, lambda value: "must be a number of seconds between 0 (excluded) and 86400"),
        convert=float,
    )
    state_dir: Path = setting(
        _text(),
        "embedded services' data, run logs, lock (relative to the current folder)",
        default=".d2b-state",
        convert=_state_dir,
    )


@dataclass(frozen=True, kw_only=True)
class TimeoutSettings:
    """Bounds of every network wait (seconds); see the README's configuration reference."""

    connect_s: float = setting(
        _number, "seconds to connect to the warehouse or to S3", default=10, check=_network_wait, convert=float
    )
    s3_read_s: float = setting(
        _number,
        "an S3 request or object read that receives nothing this long fails (a stalled read ends the stage)",
        default=20,
        check=_network_wait,
        convert=float,
    )
    s3_attempts: int = setting(
        _number,
        "tries in all of one S3 request on a transient error (5xx, dropped connection); a whole number from 1 to 10",
        default=3,
        check=_whole(1, 10),
    )
    warehouse_stall_s: float = setting(
        _number,
        "a warehouse call that makes no progress this long, while the server is not working on it, ends the stage",
        default=60,
        check=_network_wait,
        convert=float,
    )
    lock_wait_s: float = setting(
        _number,
        "how long each of the 3 attempts of a publication waits for its table locks",
        default=5,
        check=_network_wait,
        convert=float,
    )


def _severity(value: str) -> str | None:
    return None if value in get_args(Severity) else f"{value!r} is not WARN or ERROR"


@dataclass(frozen=True, kw_only=True)
class CheckSettings:
    row_count_anomaly_below: float = setting(
        _number,
        "`<table>_row_count_anomaly` does not pass when a file's rows are below this share of the median of "
        "earlier dates (0.5: under half); above 0 and below 1",
        default=0.5,
        check=lambda v: None if 0 < v < 1 else f"{v!r} must be a share above 0 and below 1",
        convert=float,
    )
    row_count_anomaly_above: float = setting(
        _number,
        "... or above this multiple of it (2: over double); above 1 and at most 1000",
        default=2,
        check=lambda v: None if 1 < v <= 1000 else f"{v!r} must be a multiple above 1 and at most 1000",
        convert=float,
    )
    row_count_anomaly_severity: Severity = setting(
        _text(),
        "`WARN` reports it; `ERROR` makes it block: nothing is published, analytics and export are skipped",
        default="WARN",
        check=_severity,
    )
    row_count_anomaly_dates: int = setting(
        _number,
        "the baseline: the last successful run of each of up to this many earlier ingestion dates; 1 to 365",
        default=7,
        check=_whole(1, 365),
    )
    row_count_anomaly_min_dates: int = setting(
        _number,
        'with fewer earlier dates than this the check passes, saying "not enough history (N of M)"; 1 to 365',
        default=4,
        check=_whole(1, 365),
    )


NotifyOn = Literal["failure", "warning", "stale"]


@dataclass(frozen=True, kw_only=True)
class NotifySettings:
    on: tuple[NotifyOn, ...] = setting(
        _choices(get_args(NotifyOn)),
        "what posts to the webhook in the environment variable `D2B_NOTIFY_URL` (none set: nothing is sent): "
        '`"failure"` a failed run, `"warning"` a run whose WARN check did not pass, `"stale"` `--status` '
        "finding today not done by `[pipeline] deadline`",
        default=("failure",),
    )


@dataclass(frozen=True, kw_only=True)
class MetricsSettings:
    textfile: Path | None = setting(
        _text(allow_empty=True),
        '`""`: none; else a `.prom` file rewritten after every run in the Prometheus text format, for '
        "node_exporter's textfile collector (see docs/scheduling.md)",
        default="",
        convert=_optional_path,
    )


@dataclass(frozen=True)
class Config:
    path: str
    pipeline: PipelineSettings
    source: SourceSettings
    export: ExportSettings
    warehouse: WarehouseSettings
    console: ConsoleSettings
    warnings: tuple[str, ...] = field(default=())
    timeouts: TimeoutSettings = field(default_factory=TimeoutSettings)
    notify: NotifySettings = field(default_factory=NotifySettings)
    checks: CheckSettings = field(default_factory=CheckSettings)
    metrics: MetricsSettings = field(default_factory=MetricsSettings)

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


# The config file's sections, in reading order: each [section] is the Config field of that name.
SECTIONS: dict[str, type] = {
    "pipeline": PipelineSettings,
    "source": SourceSettings,
    "export": ExportSettings,
    "warehouse": WarehouseSettings,
    "console": ConsoleSettings,
    "timeouts": TimeoutSettings,
    "notify": NotifySettings,
    "checks": CheckSettings,
    "metrics": MetricsSettings,
}
_KNOWN_KEYS: dict[str, set[str]] = {section: set(declared_keys(cls)) for section, cls in SECTIONS.items()}


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
    reader = _Reader(raw, path, today or date.today())
    warnings = reader.unknown_keys()
    try:
        return _parse(reader, path, warnings)
    except ConfigError as exc:
        exc.warnings = warnings
        raise


def _parse(reader: _Reader, path: str, warnings: list[str]) -> Config:
    values: dict[str, dict[str, Any]] = {}
    for section, cls in SECTIONS.items():
        values[section] = reader.section(section, declared_keys(cls))
        for rule in _RULES.get(section, ()):
            rule(reader, values)
    settings = {
        section: cls(**{f.name: values[section][f.name] for f in fields(cls) if f.name in values[section]})
        for section, cls in SECTIONS.items()
    }
    return Config(path=path, warnings=tuple(warnings), **settings)


# --- rules: the checks that join several keys, run once their section is read ---


def _rules_pipeline(reader: _Reader, values: dict[str, dict[str, Any]]) -> None:
    pipeline = values["pipeline"]
    ingestion = pipeline["ingestion_date"]
    if pipeline["as_of_date"] is None:  # "ingestion_date": every run's business date is its own date
        pipeline["as_of_date"], pipeline["as_of_follows_ingestion"] = ingestion, True
    if ingestion > reader.today + timedelta(days=1) and not pipeline["allow_future_ingestion_date"]:
        reader.fail(
            "pipeline",
            "ingestion_date",
            f"{ingestion} is more than a day in the future (today is {reader.today}); "
            "fix it, or set allow_future_ingestion_date = true in [pipeline] if that is intended",
        )


def _rules_source(reader: _Reader, values: dict[str, dict[str, Any]]) -> None:
    region, endpoint = values["source"]["region"], values["source"]["endpoint_url"]
    endpoint_label(endpoint)  # registers a secret in the URL's userinfo, so no message shows it
    if problem := region_problem(region, aws=endpoint == ""):
        reader.fail("source", "region", f"{region!r} {problem}")


def _rules_export(reader: _Reader, values: dict[str, dict[str, Any]]) -> None:
    export = values["export"]
    export["bucket"] = export["bucket"] or values["source"]["bucket"]
    template = export["prefix"]
    if "{user_id}" not in template:
        # Two operators exporting the same table must never write (or sweep) the same keys.
        reader.fail(
            "export",
            "prefix",
            f"{template!r} must contain {{user_id}}, so that every "
            'operator writes its own keys (e.g. "analytics_export/{user_id}/")',
        )
    user_id = values["pipeline"]["user_id"]
    try:
        written = _as_prefix(template.format(user_id=user_id))
    except (KeyError, IndexError, ValueError):
        reader.fail("export", "prefix", "only the placeholder {user_id} is allowed")
    if problem := _export_prefix_problem(written, user_id):
        reader.fail("export", "prefix", f"{template!r} would write under {written!r}: {problem}")
    export["prefix"] = written


def _export_prefix_problem(written: str, user_id: str) -> str | None:
    """Why the prefix as written could hold another operator's keys, or None.

    An S3 server that normalises paths would store `a/{user_id}/../u1/` over u1's exports, and with
    the user_id not a folder of its own (`shared{user_id}`, or `{{user_id}}`, a literal) one
    operator's prefix can equal another's."""
    segments = written.removesuffix("/").split("/")  # _as_prefix added one "/" at most
    if "\\" in written:
        return "a backslash is a folder separator to some S3 servers; use / only"
    if odd := [segment for segment in segments if segment in ("", ".", "..")]:
        name = "an empty folder (//)" if odd[0] == "" else f"a {odd[0]!r} folder"
        return (
            f"{name} is normalised away by some S3 servers, which would then write somewhere else "
            '(possibly over another operator\'s exports); write a plain path like "analytics_export/{user_id}/"'
        )
    if user_id not in segments:
        return (
            f"the user_id {user_id!r} must be a folder of its own ({{user_id}} alone between slashes, "
            'e.g. "analytics_export/{user_id}/"), so that no other operator\'s prefix can be the same'
        )
    return None


def _rules_warehouse(reader: _Reader, values: dict[str, dict[str, Any]]) -> None:
    warehouse = values["warehouse"]
    url, transfer = warehouse["url"], warehouse["transfer"]
    if url != EMBEDDED:
        warehouse["label"] = warehouse_label(url)  # parsed once already by _warehouse_url
    if transfer == AWS_S3_TRANSFER and url == EMBEDDED:
        reader.fail(
            "warehouse",
            "transfer",
            '"aws_s3" needs an RDS or Aurora PostgreSQL warehouse: only those have '
            "the aws_s3 extension, and the embedded Postgres is neither. Give the warehouse URL ([warehouse] "
            f'url or {WAREHOUSE_URL_ENV}), or use transfer = "client"',
        )
    if transfer == AWS_S3_TRANSFER and values["source"]["endpoint_url"] == EMBEDDED:
        reader.fail(
            "warehouse",
            "transfer",
            '"aws_s3" has the warehouse read and write S3 itself, and it cannot '
            'reach the embedded S3 on this machine: set [source] endpoint_url = "" (AWS S3), or use '
            'transfer = "client"',
        )


def _rules_checks(reader: _Reader, values: dict[str, dict[str, Any]]) -> None:
    checks = values["checks"]
    if checks["row_count_anomaly_min_dates"] > checks["row_count_anomaly_dates"]:
        reader.fail(
            "checks",
            "row_count_anomaly_min_dates",
            f"{checks['row_count_anomaly_min_dates']} is more than row_count_anomaly_dates "
            f"({checks['row_count_anomaly_dates']}): the check could never judge",
        )


_RULES: dict[str, tuple[Callable[[_Reader, dict[str, dict[str, Any]]], None], ...]] = {
    "pipeline": (_rules_pipeline,),
    "source": (_rules_source,),
    "export": (_rules_export,),
    "warehouse": (_rules_warehouse,),
    "checks": (_rules_checks,),
}


class _Reader:
    """Typed access to the raw TOML tables that fails with the file and the key."""

    def __init__(self, raw: dict[str, Any], path: str, today: date):
        self.raw, self.path, self.today = raw, path, today

    def fail(self, section: str, key: str, problem: str) -> NoReturn:
        raise ConfigError(self.path, f"{section}.{key}", problem)

    def section(self, section: str, keys: dict[str, Key]) -> dict[str, Any]:
        """Every declared key of a section: read as its type, checked, converted."""
        values = {}
        for name, key in keys.items():
            value = key.read(self, section, name, key.default)
            if key.check is not None and (problem := key.check(value)):
                self.fail(section, name, problem)
            values[name] = key.convert(value) if key.convert is not None else value
        return values

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
