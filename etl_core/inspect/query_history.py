"""The query pane's history: one JSON line per statement in the state folder, append-only, bounded.

Appends are single `write` calls on a file opened in append mode, so a crash can tear at most
the last line (skipped when read). When the file holds twice `max_entries` lines it is rewritten
atomically with the newest `max_entries`. Texts and errors are redacted of registered secrets.
"""

from __future__ import annotations

import json
import os
import threading
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

from etl_core.secrets import redact

FILE_NAME = "query_history.jsonl"
MAX_ENTRIES = 500


@dataclass(frozen=True)
class HistoryEntry:
    text: str
    at: datetime
    duration_s: float
    rows: int | None  # None when the statement failed
    error: str | None


class QueryHistory:
    def __init__(self, state_dir: Path, max_entries: int = MAX_ENTRIES):
        self.path = Path(state_dir) / FILE_NAME
        self.max_entries = max_entries
        self._lock = threading.Lock()
        self._lines: int | None = None  # lines in the file, counted on the first append

    def append(self, text: str, at: datetime, duration_s: float, rows: int | None, error: str | None) -> None:
        entry = HistoryEntry(redact(text), at, round(duration_s, 3), rows, redact(error) if error else None)
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            if self._lines is None:
                self._lines = len(self.path.read_bytes().splitlines()) if self.path.exists() else 0
            with open(self.path, "a+b") as f:
                f.write(self._torn_line_end(f) + _line(entry).encode("utf-8"))
            self._lines += 1
            if self._lines >= 2 * self.max_entries:
                self._trim()

    @staticmethod
    def _torn_line_end(f: BinaryIO) -> bytes:
        """A newline to close a torn last line (a crash mid-write), so the next entry starts a line of its own."""
        if f.seek(0, os.SEEK_END) == 0:
            return b""
        f.seek(-1, os.SEEK_END)
        return b"" if f.read(1) == b"\n" else b"\n"

    def entries(self) -> list[HistoryEntry]:
        """Oldest first; lines that do not parse (a torn last line) are skipped."""
        with self._lock:
            return self._read()

    def _read(self) -> list[HistoryEntry]:
        try:
            lines = self.path.read_text(encoding="utf-8").splitlines()
        except FileNotFoundError:
            return []
        entries = []
        for line in lines:
            try:
                raw = json.loads(line)
                entries.append(
                    HistoryEntry(
                        str(raw["text"]),
                        datetime.fromisoformat(raw["at"]),
                        float(raw["duration_s"]),
                        raw["rows"],
                        raw["error"],
                    )
                )
            except (ValueError, KeyError, TypeError):
                continue
        return entries

    def _trim(self) -> None:
        keep = self._read()[-self.max_entries :]
        tmp = self.path.with_name(self.path.name + ".tmp")
        tmp.write_text("".join(_line(e) for e in keep), encoding="utf-8")
        os.replace(tmp, self.path)
        self._lines = len(keep)


def _line(entry: HistoryEntry) -> str:
    return json.dumps({**asdict(entry), "at": entry.at.isoformat()}, ensure_ascii=False) + "\n"
