"""A whole source file checked record by record: every bad record, in line order, and duplicate keys.

Fast where the file is plain: one regular expression over each chunk's whole lines clears the
lines that are surely fine (`FileCheck.clean_lines`) and hands out their keys; only the other lines,
and records with quotes (which may span lines), go through `FileCheck.check_record`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace

from etl_core.events import CancelToken
from etl_core.stages.staging.file_check import BadRecord, FileCheck, end_of_data_problem
from etl_core.stages.staging.records import MAX_RECORD_BYTES, Record, RecordScanner

MAX_KEPT = 100_000  # bad records kept (and written to the reject report); the rest are counted


@dataclass(frozen=True)
class ScanResult:
    bad: tuple[BadRecord, ...]  # in line order, at most MAX_KEPT
    bad_count: int  # every bad record (and value) found
    records: int  # data records in the file


class FileScan:
    """Feed the data after the header line, chunk by chunk; `finish` gives the verdict."""

    def __init__(self, check: FileCheck, first_line: int = 2, cancel: CancelToken | None = None):
        self.check, self._cancel = check, cancel
        self._bad: list[BadRecord] = []
        self._bad_count = 0
        self._records = 0
        self._line = first_line  # the line the next record starts on
        self._pending = b""  # a line in progress
        self._scanner: RecordScanner | None = None  # while following quoted records
        self._keys: list[tuple[int, list[int | bytes | None]]] = []  # (first line, key per consecutive line)
        self._exact_keys: list[tuple[int, int | bytes]] = []  # (line, key) of records checked one by one

    def feed(self, chunk: bytes) -> None:
        if self._cancel is not None:
            self._cancel.raise_if_cancelled()
        if self._scanner is not None:
            self._exact(chunk)
            return
        data = self._pending + chunk
        cut = data.rfind(b"\n") + 1
        if b'"' in data[:cut] or (not cut and len(data) > MAX_RECORD_BYTES):
            self._scanner = RecordScanner(0, self._line)
            self._pending = b""
            self._exact(data)
            return
        self._plain(data[:cut])
        self._pending = data[cut:]

    def feed_all(self, chunks: Iterable[bytes]) -> ScanResult:
        for chunk in chunks:
            self.feed(chunk)
        return self.finish()

    def finish(self) -> ScanResult:
        scanner = self._scanner or RecordScanner(0, self._line)
        if self._scanner is None:
            scanner.pending = self._pending
        for record in scanner.finish():
            self._take(record)
        self._scanner, self._pending = None, b""
        bad = self._bad + self._duplicates()
        bad.sort(key=lambda b: (b.line, b.field or 0))
        total = self._records
        bad = [
            replace(b, problem=end_of_data_problem(b.record - 1, total))
            if b.value is None and b.problem.startswith("the line holds only")
            else b
            for b in bad
        ]
        return ScanResult(tuple(bad[:MAX_KEPT]), self._bad_count, total)

    def _plain(self, whole: bytes) -> None:
        """Whole lines without quotes: each is a record."""
        if not whole:
            return
        found = self.check.clean_lines.findall(whole, 0, len(whole) - 1)  # one per line
        lines = None
        keyed = self.check.key_index is not None
        keys: list[int | bytes | None] = [self.check.clean_key(k) if k else None for k in found] if keyed else []
        for index, cleared in enumerate(found):
            if cleared:
                continue
            lines = lines if lines is not None else whole.split(b"\n")
            record = Record(0, self._line + index, 0, lines[index].removesuffix(b"\r"), 0, True)
            self._add(self.check.check_record(record, self._records + index + 1))
            if keyed:
                keys[index] = self.check.key_of(record)
        if keyed:
            self._keys.append((self._line, keys))
        self._records += len(found)
        self._line += len(found)

    def _exact(self, chunk: bytes) -> None:
        assert self._scanner is not None
        for record in self._scanner.feed(chunk):
            self._take(record)
        if not self._scanner.in_record:  # back at a plain line
            self._pending, self._line, self._scanner = self._scanner.pending, self._scanner.line, None

    def _take(self, record: Record) -> None:
        self._records += 1
        self._line = record.line + record.newlines + 1
        self._add(self.check.check_record(record, self._records))
        if self.check.key_index is not None and (key := self.check.key_of(record)) is not None:
            self._exact_keys.append((record.line, key))

    def _add(self, found: list[BadRecord]) -> None:
        self._bad_count += len(found)
        if len(self._bad) < MAX_KEPT:
            self._bad += found

    def _duplicates(self) -> list[BadRecord]:
        """Every later occurrence of a key, naming the line of its first."""
        if self.check.key_index is None:
            return []
        count = len(self._exact_keys) + sum(sum(1 for k in keys if k is not None) for _l, keys in self._keys)
        distinct = {k for _l, keys in self._keys for k in keys} | {k for _l, k in self._exact_keys}
        distinct.discard(None)
        if len(distinct) == count:
            return []
        occurrences = [(first + i, k) for first, keys in self._keys for i, k in enumerate(keys) if k is not None]
        occurrences += self._exact_keys
        occurrences.sort(key=lambda occurrence: occurrence[0])
        first_seen: dict[int | bytes, int] = {}
        found = []
        column = self.check.file_columns[self.check.key_index]
        for line, key in occurrences:
            if key in first_seen:
                found.append(
                    BadRecord(
                        line,
                        column,
                        self.check.key_index + 1,
                        f"duplicate key value, first seen on line {first_seen[key]}",
                        key if isinstance(key, bytes) else str(key).encode(),
                    )
                )
            else:
                first_seen[key] = line
        self._bad_count += len(found)
        return found
