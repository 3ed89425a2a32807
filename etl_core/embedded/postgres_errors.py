"""Why the embedded Postgres could not be created or started, in words an operator can act on.

Only a truly damaged data folder is ever called damaged, and only then is moving it aside
advised: Postgres said it cannot read its own control file or checkpoint, or the folder's
PG_VERSION is not a version number. A full disk, a lock or a permission problem leaves the data
intact, and the message says so.
"""

from __future__ import annotations

from pathlib import Path

from etl_core.embedded.disk_space import describe_free_space, is_nearly_full, mentions_disk_full
from etl_core.errors import ServiceUnavailable

# What Postgres says when its own files are unreadable (nothing short of a fresh folder helps), most telling first.
DAMAGE_MARKERS = (
    "could not locate a valid checkpoint record",
    "invalid checkpoint record",
    "invalid primary checkpoint record",
    "incorrect checksum in control file",
    'global/pg_control": No such file',
    'could not read file "global/pg_control"',
    'could not open file "global/pg_control"',
    "could not find the database system",
    "is not a valid data directory",
    'invalid data in file "PG_VERSION"',
)


def move_aside_advice(datadir: Path) -> str:
    return (
        f"move it aside (mv '{datadir}' '{datadir}.damaged') and the next start creates a fresh, empty "
        "warehouse there; keep the moved folder if its data matters"
    )


def damaged_folder(datadir: Path, why: str) -> ServiceUnavailable:
    return ServiceUnavailable(
        f"the embedded Postgres in {datadir} could not start: its data folder is damaged "
        f"({why}); {move_aside_advice(datadir)}"
    )


def start_failure(datadir: Path, postgres_said: str, log_file: Path) -> ServiceUnavailable:
    """The error for a server that exited or never became ready; `postgres_said` is its new log text."""
    line = key_line(postgres_said) or "no message in its log"
    if mentions_disk_full(postgres_said) or is_nearly_full(datadir):
        return disk_full(
            datadir, f"Postgres said: {line}", "could not start", "The data folder is intact: do not move or delete it"
        )
    damage = next((ln.strip() for m in DAMAGE_MARKERS for ln in postgres_said.splitlines() if m in ln), None)
    if damage is not None:
        return damaged_folder(datadir, f"Postgres said: {_without_timestamp(damage)[:300]}")
    return ServiceUnavailable(
        f"the embedded Postgres in {datadir} could not start (Postgres said: {line}); "
        f"its data folder was not changed; see {log_file}"
    )


def initdb_failure(datadir: Path, initdb_said: str) -> ServiceUnavailable:
    line = key_line(initdb_said) or "no message"
    if mentions_disk_full(initdb_said) or is_nearly_full(datadir.parent):
        return disk_full(datadir, f"initdb said: {line}", "could not be created", "Nothing was left behind")
    return ServiceUnavailable(
        f"the embedded Postgres in {datadir} could not be created (initdb said: {line}); "
        "nothing was left behind: fix the cause, then run again"
    )


def disk_full(datadir: Path, said: str, what: str, afterwards: str) -> ServiceUnavailable:
    return ServiceUnavailable(
        f"the embedded Postgres in {datadir} {what}: the disk holding it is full "
        f"({describe_free_space(datadir)}; {said}); free space on that disk, then run again. "
        f"{afterwards}"
    )


def key_line(text: str) -> str:
    """The line that says what went wrong: the first PANIC or FATAL, else the last non-empty line."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    for level in ("PANIC:", "FATAL:", "error:"):
        for line in lines:
            if level in line:
                return _without_timestamp(line)[:300]
    return _without_timestamp(lines[-1])[:300] if lines else ""


def _without_timestamp(line: str) -> str:
    for level in ("PANIC:", "FATAL:", "LOG:", "error:"):
        if level in line:
            return line[line.index(level) :]
    return line
