"""Crash reports: an unexpected error becomes one line for the operator and a redacted traceback on disk.

The CLI and the console call `report_crash` where an exception nobody anticipated would otherwise
print a traceback; the operator sees one sentence naming the report, and whoever fixes the bug
gets the whole traceback, with every registered secret masked.
"""

from __future__ import annotations

import os
import platform
import sys
import tempfile
import traceback
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from etl_core import __version__
from etl_core.secrets import redact

CRASH_FOLDER = "crash"


@dataclass(frozen=True)
class CrashReport:
    path: Path | None  # None when no folder could be written (the line then says so)
    error: str  # "KeyError: 'x'", redacted

    @property
    def operator_line(self) -> str:
        where = f"the details are in {self.path}" if self.path else "no crash report could be written"
        return (
            f"d2b-console stopped on an unexpected error ({self.error}); {where}. "
            "This is a bug: please report it with that file"
        )


def report_crash(exc: BaseException, state_dir: Path | None, context: str) -> CrashReport:
    """Write the redacted traceback of `exc` under `<state_dir>/crash/` (else the temp folder)."""
    error = redact(f"{exc.__class__.__name__}: {exc}".strip().rstrip(":"))
    text = "\n".join(
        [
            f"d2b-console {__version__} crash report",
            f"when: {datetime.now(UTC).isoformat(timespec='seconds')}",
            f"where: {context}",
            f"command: {redact(' '.join(sys.argv))}",
            f"python: {platform.python_version()} on {platform.platform()}",
            "",
            redact("".join(traceback.format_exception(exc))),
        ]
    )
    name = f"crash-{datetime.now(UTC):%Y%m%d-%H%M%S}-{os.getpid()}.txt"
    for folder in _candidate_folders(state_dir):
        try:
            folder.mkdir(parents=True, exist_ok=True)
            path = folder / name
            path.write_text(text, encoding="utf-8")
            return CrashReport(path, error)
        except OSError:
            continue  # a read-only or full folder: try the next one
    return CrashReport(None, error)


def _candidate_folders(state_dir: Path | None) -> list[Path]:
    folders = [state_dir / CRASH_FOLDER] if state_dir is not None else []
    return [*folders, Path(tempfile.gettempdir()) / "d2b-console-crash"]
