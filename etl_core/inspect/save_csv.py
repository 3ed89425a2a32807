"""Save a whole table (or view) or a query result to a local CSV file: every row, streamed, atomic.

`COPY (<query>) TO STDOUT` runs in a read-only session of its own (the query pane stays free)
and streams into a temporary file next to the target; the file appears under its name only when
every row is written and synced, so a failure, a full disk or a cancel leaves no partial file.
An existing file is never replaced unless `overwrite` is set.
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from etl_core.errors import Cancelled, D2BError
from etl_core.events import CancelToken
from etl_core.inspect.catalog import Catalog
from etl_core.inspect.session import QueryResult, ReadOnlySession
from etl_core.inspect.table_view import TableView, compose_view_query
from etl_core.services import Services

SAVE_STATEMENT_TIMEOUT_S = 600.0  # a save streams every row: far longer than a query pane statement
BUFFER_BYTES = 1024 * 1024  # psycopg2 writes once per row: one file write (and progress call) per MB


class SaveError(D2BError):
    """The file could not be written; nothing was left at the target path."""


@dataclass(frozen=True)
class SaveProgress:
    bytes_written: int
    rows_written: int
    total_rows: int | None  # when known beforehand (a counted result or view)


@dataclass(frozen=True)
class SaveResult:
    path: Path
    rows: int
    bytes: int
    seconds: float


@dataclass(frozen=True)
class SaveOptions:
    overwrite: bool = False
    progress: Callable[[SaveProgress], None] | None = None  # called about once per MB written, and at the end
    cancel: CancelToken | None = None


def save_view_csv(
    services: Services,
    catalog: Catalog,
    view: TableView,
    path: Path,
    options: SaveOptions = SaveOptions(),
    total_rows: int | None = None,
) -> SaveResult:
    """Every row of a table (or of the view's filtered rows), in the view's order."""
    with ReadOnlySession(services, purpose="save csv", statement_timeout_s=SAVE_STATEMENT_TIMEOUT_S) as session:
        query = compose_view_query(session, view, catalog.describe(view.schema, view.table))
        return _save(session, query.text, Path(path), options, total_rows)


def save_result_csv(
    services: Services, result: QueryResult, path: Path, options: SaveOptions = SaveOptions()
) -> SaveResult:
    """Every row of a query result: the query runs again, streamed (all rows, not only those on screen)."""
    with ReadOnlySession(services, purpose="save csv", statement_timeout_s=SAVE_STATEMENT_TIMEOUT_S) as session:
        return _save(session, result.text, Path(path), options, result.total_rows)


def _save(session: ReadOnlySession, query: str, path: Path, options: SaveOptions, total_rows: int | None) -> SaveResult:
    started, overwrite, progress = time.monotonic(), options.overwrite, options.progress
    target = path.expanduser().absolute()
    if not target.parent.is_dir():
        raise SaveError(f"cannot save to {target}: the folder {target.parent} does not exist")
    if target.exists() and not overwrite:
        raise SaveError(f"{target} already exists; choose another name or confirm overwriting it")
    cancel = options.cancel or CancelToken()
    fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".partial")
    tmp = Path(tmp_name)
    remove_cancel = cancel.on_cancel(session.cancel)
    try:
        with os.fdopen(fd, "wb") as raw:
            sink = _CountingSink(raw, total_rows, progress)
            rows = session.copy_csv(query, sink)
            cancel.raise_if_cancelled()
            sink.flush()
            os.fsync(raw.fileno())
        _publish(tmp, target, overwrite)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise SaveError(f"could not write {target}: {exc.strerror or exc}; no file was written") from None
    except BaseException as exc:
        tmp.unlink(missing_ok=True)
        if cancel.cancelled or isinstance(exc, Cancelled):
            raise Cancelled(f"saving {target} was cancelled; no file was written") from None
        raise
    finally:
        remove_cancel()
    if progress is not None:
        progress(SaveProgress(sink.bytes_written, rows, total_rows))
    return SaveResult(target, rows, sink.bytes_written, time.monotonic() - started)


def _publish(tmp: Path, target: Path, overwrite: bool) -> None:
    """Move the finished file to its name: replace only when asked, else fail if the name was taken meanwhile."""
    if overwrite:
        os.replace(tmp, target)
        return
    try:
        os.link(tmp, target)  # atomic, and refuses an existing name
    except FileExistsError:
        raise SaveError(f"{target} appeared while saving; nothing was overwritten, choose another name") from None
    except OSError:  # a file system without hard links: check, then rename (a narrow race)
        if target.exists():
            raise SaveError(f"{target} appeared while saving; nothing was overwritten, choose another name") from None
        os.replace(tmp, target)
        return
    tmp.unlink()


class _CountingSink:
    """Buffers COPY's rows into the file, counting bytes and CSV records (newlines outside double quotes)."""

    def __init__(self, raw: Any, total_rows: int | None, progress: Callable[[SaveProgress], None] | None):
        self._raw, self._total_rows, self._progress = raw, total_rows, progress
        self._buffer = bytearray()
        self.bytes_written = 0
        self._records = 0
        self._in_quotes = False

    def write(self, data: Any) -> int:
        self._buffer += data
        if len(self._buffer) >= BUFFER_BYTES:
            self.flush()
        return len(data)

    def flush(self) -> None:
        chunk = bytes(self._buffer)
        self._buffer.clear()
        self._raw.write(chunk)
        self.bytes_written += len(chunk)
        self._count_records(chunk)
        if self._progress is not None and chunk:
            self._progress(SaveProgress(self.bytes_written, max(0, self._records - 1), self._total_rows))

    def _count_records(self, chunk: bytes) -> None:
        if not self._in_quotes and b'"' not in chunk:
            self._records += chunk.count(b"\n")
            return
        for i, segment in enumerate(chunk.split(b'"')):
            if i:
                self._in_quotes = not self._in_quotes
            if not self._in_quotes:
                self._records += segment.count(b"\n")
