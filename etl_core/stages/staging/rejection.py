"""A refused source file with every bad record: the message, the `--json` details, the reject report (CSV).

The message names up to MAX_LISTED bad records in line order, then "and N more"; the reject report in
the state folder lists them all (up to `file_scan.MAX_KEPT`), one per row.
"""

from __future__ import annotations

import csv
import os
from pathlib import Path
from typing import Any

from etl_core.errors import DataError
from etl_core.stages.staging.file_check import BadRecord
from etl_core.stages.staging.file_errors import escaped, nothing_loaded, placed
from etl_core.stages.staging.file_scan import ScanResult

MAX_LISTED = 100  # bad records named in the message and in --json, per file
REPORT_COLUMNS = ("key", "line", "column", "field", "problem", "value")


class RejectedFile(DataError):
    """A source file refused with every bad record found in it (nothing of it was loaded)."""

    def __init__(self, key: str, table: str, scan: ScanResult, report: Path | None, report_problem: str = ""):
        self.key, self.table, self.scan, self.report = key, table, scan, report
        self.details = {"rejected": [self.as_json()]}
        super().__init__(_message(key, table, scan, report, report_problem))

    def as_json(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "table": self.table,
            "bad_records": self.scan.bad_count,
            "report": str(self.report) if self.report else None,
            "records": [_as_dict(self.key, bad) for bad in self.scan.bad[:MAX_LISTED]],
        }


class RejectedFiles(DataError):
    """Several source files refused in one run: each with its bad records."""

    def __init__(self, files: list[RejectedFile]):
        self.files = files
        self.details = {"rejected": [file.as_json() for file in files]}
        super().__init__("\n".join(str(file) for file in files))


def write_reject_report(path: Path, key: str, bad: tuple[BadRecord, ...]) -> str:
    """Write the report (replacing an older one atomically); "" or why it could not be written."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".csv.partial")
        with partial.open("w", encoding="utf-8", newline="") as out:
            writer = csv.writer(out)
            writer.writerow(REPORT_COLUMNS)
            for record in bad:
                row = _as_dict(key, record)
                writer.writerow([row[name] if row[name] is not None else "" for name in REPORT_COLUMNS])
        os.replace(partial, path)
    except OSError as exc:
        return f"the reject report {path} could not be written ({exc.strerror or exc})"
    return ""


def _as_dict(key: str, bad: BadRecord) -> dict[str, Any]:
    return {
        "key": key,
        "line": bad.line,
        "column": bad.column,
        "field": bad.field,
        "problem": bad.problem,
        "value": escaped(bad.value)[1:-1] if bad.value is not None else None,
    }


def _message(key: str, table: str, scan: ScanResult, report: Path | None, report_problem: str) -> str:
    where = f"every bad record is in the reject report {report}" if report and not report_problem else report_problem
    first = scan.bad[0]
    if scan.bad_count == 1:
        one = placed(key, first.problem, line=first.line, column=first.column, field=first.field, value=first.value)
        return f"{one}. {nothing_loaded(table)} ({where})"
    lines = [
        f"{key}: {scan.bad_count:,} bad records, the first on line {first.line} ({where}). {nothing_loaded(table)}:"
    ]
    for bad in scan.bad[:MAX_LISTED]:
        shown = placed("", bad.problem, line=bad.line, column=bad.column, field=bad.field, value=bad.value)
        lines.append("  " + shown.removeprefix(": "))
    if scan.bad_count > MAX_LISTED:
        lines.append(f"  and {scan.bad_count - MAX_LISTED:,} more (in the reject report)")
    return "\n".join(lines)
