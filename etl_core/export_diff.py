"""What an export changes at its destination: rows added, removed and changed, keyed by ingestion_date.

The old side is the object now at the export key (our own CSV format: a header, one row per
ingestion date); the new side is the exact CSV the export is about to write. Values are compared
as the CSV text, so a change shown is a change in the file.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from etl_core.background import call_interruptibly
from etl_core.events import CancelToken

KEY_COLUMN = "ingestion_date"
MAX_OLD_BYTES = 16 * 1024 * 1024  # an export is one row per date: anything larger is not ours to diff
SHOWN = 20  # changed rows listed in a log line or a preview; the JSON has them all


@dataclass(frozen=True)
class RowChange:
    ingestion_date: str
    columns: dict[str, tuple[str | None, str | None]]  # column -> (old, new)

    def as_json(self) -> dict[str, dict[str, str | None]]:
        return {column: {"old": old, "new": new} for column, (old, new) in self.columns.items()}

    def describe(self, table: str) -> str:
        moves = ", ".join(f"{c} {old or '∅'} → {new or '∅'}" for c, (old, new) in self.columns.items())
        return f"{table} {self.ingestion_date}: {moves}"


@dataclass(frozen=True)
class TableChanges:
    table: str
    key: str
    existed: bool  # False: the first export to this key; every row is added
    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    changed: tuple[RowChange, ...] = ()
    unknown: str | None = None  # why the old side could not be compared (it is then not diffed)
    unchanged: int = 0

    @property
    def summary(self) -> str:
        if self.unknown:
            return f"{self.table}: changes unknown ({self.unknown})"
        if not self.existed:
            return f"{self.table}: a new object, {len(self.added)} row(s)"
        if not (self.added or self.removed or self.changed):
            return f"{self.table}: no change ({self.unchanged} row(s) as they are)"
        return (
            f"{self.table}: {len(self.added)} row(s) added, {len(self.removed)} removed, "
            f"{len(self.changed)} changed, {self.unchanged} unchanged"
        )

    def lines(self) -> list[str]:
        """The summary, then each added, removed or changed row (at most SHOWN of each)."""
        lines = [self.summary]
        lines += [f"{self.table} {d}: added" for d in self.added[:SHOWN]]
        lines += [f"{self.table} {d}: removed" for d in self.removed[:SHOWN]]
        lines += [change.describe(self.table) for change in self.changed[:SHOWN]]
        return lines

    def as_json(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "existed": self.existed,
            "added": list(self.added),
            "removed": list(self.removed),
            "changed": [
                {
                    "ingestion_date": c.ingestion_date,
                    "columns": {k: {"old": o, "new": n} for k, (o, n) in c.columns.items()},
                }
                for c in self.changed
            ],
            "unchanged": self.unchanged,
            "unknown": self.unknown,
        }


def diff_csv(table: str, key: str, old: str | None, new: str) -> TableChanges:
    """Compare two exports of `table`; `old` None: nothing was at the key."""
    new_rows = _by_date(new)
    if old is None:
        return TableChanges(table, key, existed=False, added=tuple(new_rows))
    try:
        old_rows = _by_date(old)
    except ValueError as exc:
        return TableChanges(table, key, existed=True, unknown=str(exc))
    changed = []
    for day in sorted(set(old_rows) & set(new_rows)):
        before, after = old_rows[day], new_rows[day]
        columns = {
            c: (before.get(c), after.get(c)) for c in dict.fromkeys([*before, *after]) if before.get(c) != after.get(c)
        }
        if columns:
            changed.append(RowChange(day, columns))
    return TableChanges(
        table,
        key,
        existed=True,
        added=tuple(sorted(set(new_rows) - set(old_rows))),
        removed=tuple(sorted(set(old_rows) - set(new_rows))),
        changed=tuple(changed),
        unchanged=len(set(old_rows) & set(new_rows)) - len(changed),
    )


def read_current(client: Any, bucket: str, key: str, cancel: CancelToken) -> tuple[str | None, str | None]:
    """(the object's text, None), (None, None) when no object is at the key, or (None, why it is not compared)."""

    def fetch() -> tuple[str | None, str | None]:
        try:
            response = client.get_object(Bucket=bucket, Key=key, Range=f"bytes=0-{MAX_OLD_BYTES}")
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "?")
            if code in ("404", "NoSuchKey", "NotFound"):
                return None, None
            return None, f"S3 answered {code} reading s3://{bucket}/{key}"
        body = response["Body"].read()
        if len(body) > MAX_OLD_BYTES:
            return None, f"the object at the key is over {MAX_OLD_BYTES // 1024 // 1024} MB"
        try:
            return body.decode("utf-8"), None
        except UnicodeDecodeError:
            return None, "the object at the key is not UTF-8 text"

    return call_interruptibly(cancel, fetch, "export-diff-read")


def _by_date(text: str) -> dict[str, dict[str, str]]:
    reader = csv.DictReader(io.StringIO(text))
    if reader.fieldnames is None or KEY_COLUMN not in reader.fieldnames:
        raise ValueError(f"the object at the key has no {KEY_COLUMN} column")
    return {row[KEY_COLUMN]: {k: v for k, v in row.items() if k != KEY_COLUMN} for row in reader}
