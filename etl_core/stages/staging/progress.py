"""One progress bar for the files loading at once."""

from __future__ import annotations

import threading

from etl_core.stages.context import StageContext


class StagingProgress:
    """Bytes read across the files loading at once, reported as one progress bar."""

    def __init__(self, ctx: StageContext, total: int):
        self._ctx, self.total = ctx, total
        self._read: dict[str, int] = {}
        self._loading: dict[str, None] = {}  # tables still reading, in start order
        self._lock = threading.Lock()

    def update(self, table: str, bytes_read: int, *, finished: bool = False) -> None:
        with self._lock:
            self._read[table] = bytes_read
            if finished:
                self._loading.pop(table, None)
            else:
                self._loading.setdefault(table)
            message = f"loading {', '.join(self._loading)}" if self._loading else "files loaded"
            self._ctx.progress(sum(self._read.values()), self.total, "bytes", message, force=finished)
