"""A day's inputs: which object (and which version of it) each source file is, for one ingestion date.

Three ways to find them (`InputsMode`):
- "dated": the prefix holds `{date}`: the day's own folder (`orders_data/dt=2022-09-05/`);
- "versioned": no `{date}`, a versioned bucket: the newest version of each key last modified on or
  before the end of that day (UTC), read by its version id;
- "latest": no `{date}`, the objects as they are now (what a single run of today loads).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from functools import partial
from typing import TYPE_CHECKING, Any, Literal

from botocore.exceptions import ClientError

from etl_core.background import BackgroundCall
from etl_core.s3 import object_info
from etl_core.stages.staging.sources import SOURCE_FILES, SourceFile, looking_up, not_found

if TYPE_CHECKING:
    from etl_core.stages.context import StageContext

InputsMode = Literal["dated", "versioned", "latest"]
DATE_PLACEHOLDER = "{date}"


@dataclass(frozen=True)
class SourceInput:
    """One source object a run loads, as S3 described it when the run found it."""

    table: str
    key: str
    version_id: str | None  # None: a bucket that does not say (never versioned); "null": written before versioning
    etag: str
    size: int
    last_modified: datetime
    ignored: tuple[str, ...] = ()  # other accepted names that exist too, and are not loaded

    def as_json(self) -> dict[str, Any]:
        found = {name: value for name, value in asdict(self).items() if name != "ignored"}
        return found | {"last_modified": self.last_modified.isoformat()}

    @property
    def label(self) -> str:
        version = f" version {self.version_id}" if self.version_id else ""
        return f"{self.key}{version} ({self.size:,} bytes, modified {self.last_modified:%Y-%m-%d %H:%M:%S} UTC)"


@dataclass(frozen=True)
class DayInputs:
    """What a date would load: every source file's input, or why the date cannot run."""

    day: date
    inputs: tuple[SourceInput, ...] = ()
    missing: str | None = None  # why the date is skipped (a file absent), or None


def dated_prefix(prefix: str, day: date) -> str:
    """The prefix of `day`'s files: `{date}` replaced by the ISO date (a prefix without it is returned as is)."""
    return prefix.replace(DATE_PLACEHOLDER, day.isoformat())


def end_of_day(day: date) -> datetime:
    """The last instant of `day` in UTC: a version modified up to then belongs to that day."""
    return datetime.combine(day + timedelta(days=1), time(), UTC) - timedelta(microseconds=1)


def bucket_versioning(client: Any, bucket: str) -> str:
    """ "Enabled", "Suspended" or "" (never versioned, or not allowed to ask)."""
    try:
        return str(client.get_bucket_versioning(Bucket=bucket).get("Status", ""))
    except ClientError:
        return ""


def inputs_mode(prefix: str, versioning: str) -> InputsMode | None:
    """How a past date's inputs are found, or None when they cannot be (a backfill is then refused)."""
    if DATE_PLACEHOLDER in prefix:
        return "dated"
    return "versioned" if versioning in ("Enabled", "Suspended") else None


def locate_day(
    client: Any, bucket: str, prefix: str, day: date, mode: InputsMode, endpoint_label: str = "S3"
) -> DayInputs:
    """Every source file's input for `day`; a missing file makes the date's `missing` reason (never raises for it)."""
    found: list[SourceInput] = []
    absent: list[str] = []
    for source in SOURCE_FILES:
        located = locate_input(client, bucket, prefix, day, mode, source, endpoint_label)
        if located is None:
            absent.append(" or ".join(dated_prefix(prefix, day) + name for name in source.names))
        else:
            found.append(located)
    if absent:
        when = f" last modified by the end of {day} (UTC)" if mode == "versioned" else ""
        return DayInputs(day, tuple(found), f"no {'; no '.join(absent)}{when} in s3://{bucket}")
    return DayInputs(day, tuple(found))


def locate_input(
    client: Any, bucket: str, prefix: str, day: date, mode: InputsMode, source: SourceFile, endpoint_label: str = "S3"
) -> SourceInput | None:
    """The object to load for `source` on `day` (the first accepted name that exists), or None."""
    folder = dated_prefix(prefix, day)
    found = [
        located
        for name in source.names
        if (located := _find(client, bucket, folder + name, day, mode, source.table, endpoint_label)) is not None
    ]
    if not found:
        return None
    first, *others = found
    return replace(first, ignored=tuple(other.key for other in others))


def _find(
    client: Any, bucket: str, key: str, day: date, mode: InputsMode, table: str, endpoint_label: str
) -> SourceInput | None:
    with looking_up(bucket, key, endpoint_label):
        if mode == "versioned":
            return _version_at(client, bucket, key, end_of_day(day), table)
        info = object_info(client, bucket, key)
    if info is None:
        return None
    return SourceInput(
        table,
        key,
        info.get("VersionId") or None,
        str(info.get("ETag", "")).strip('"'),
        int(info["ContentLength"]),
        _utc(info["LastModified"]),
    )


def _version_at(client: Any, bucket: str, key: str, cutoff: datetime, table: str) -> SourceInput | None:
    """The newest version of `key` last modified by `cutoff`; None when there is none, or it is a deletion."""
    newest: tuple[datetime, dict[str, Any], bool] | None = None
    paginator = client.get_paginator("list_object_versions")
    for page in paginator.paginate(Bucket=bucket, Prefix=key):
        listed = [(v, False) for v in page.get("Versions", [])] + [(m, True) for m in page.get("DeleteMarkers", [])]
        for version, deleted in listed:
            modified = _utc(version["LastModified"])
            # S3 lists a key's versions newest first: on equal times the first one listed is the newer.
            if version["Key"] == key and modified <= cutoff and (newest is None or modified > newest[0]):
                newest = (modified, version, deleted)
    if newest is None or newest[2]:
        return None
    modified, version, _deleted = newest
    return SourceInput(
        table,
        key,
        version.get("VersionId") or None,
        str(version.get("ETag", "")).strip('"'),
        int(version["Size"]),
        modified,
    )


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def locate_for_run(ctx: StageContext) -> tuple[SourceInput, ...]:
    """The objects a run of the configured ingestion date loads: its dated folder, else the objects as they are now.

    A missing file fails the stage (StageError) before anything is replaced."""
    client, bucket, prefix = ctx.services.s3(), ctx.config.source.bucket, ctx.config.source.prefix
    day = ctx.config.pipeline.ingestion_date
    mode: InputsMode = "dated" if DATE_PLACEHOLDER in prefix else "latest"
    ctx.cancel.raise_if_cancelled()
    # The lookups run at once (four HEAD requests, each a round trip to S3); their answers are taken
    # in file order, so the first missing file is the one named.
    lookups = [
        BackgroundCall(partial(locate_input, client, bucket, prefix, day, mode, source, ctx.services.s3_label))
        for source in SOURCE_FILES
    ]
    found: list[SourceInput] = []
    for source, lookup in zip(SOURCE_FILES, lookups, strict=True):
        located = lookup.result(ctx.cancel)
        if located is None:
            raise not_found(bucket, [dated_prefix(prefix, day) + name for name in source.names])
        found.append(located)
    return tuple(found)


def read_version(ctx: StageContext, key: str) -> dict[str, str]:
    """The `VersionId` argument of a GET of `key`: the version the run recorded, when it recorded one."""
    version = ctx.versions.get(key)
    return {"VersionId": version} if version else {}
