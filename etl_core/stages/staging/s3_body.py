"""An S3 object body read ahead on its own thread: a stalled read never blocks a cancel, and S3 and COPY overlap.

The reading thread keeps at most `AHEAD` chunks waiting, so memory stays flat; `read` takes the
next one, raising Cancelled at once on a cancel and the S3 error (e.g. a read timeout) where it
happened. While `read` waits for S3, the warehouse call it serves is marked away (`waiting`), so
a slow S3 is never taken for a stalled warehouse.
"""

from __future__ import annotations

import contextlib
import queue
import threading
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

from etl_core.events import CancelToken

AHEAD = 2  # chunks read ahead of COPY


class ReadAheadBody:
    """File-like `read(size)` over a botocore StreamingBody; chunks come from a daemon thread."""

    def __init__(self, body: Any, cancel: CancelToken, chunk_size: int):
        self._body, self._cancel, self._chunk_size = body, cancel, chunk_size
        self._chunks: queue.Queue[bytes | BaseException] = queue.Queue(maxsize=AHEAD)
        self._stopped = threading.Event()
        self._wake = threading.Event()
        self._unlink = cancel.on_cancel(self._wake.set)
        self._pending = b""
        self._eof = False
        self.waiting: Callable[[], AbstractContextManager[Any]] = contextlib.nullcontext
        threading.Thread(target=self._read_ahead, name="s3-read-ahead", daemon=True).start()

    def _read_ahead(self) -> None:
        try:
            while not self._stopped.is_set():
                chunk = self._body.read(self._chunk_size)
                self._put(chunk)
                if not chunk:
                    return
        except BaseException as exc:  # noqa: BLE001 - handed to the reader, raised in its thread
            self._put(exc)
        finally:
            # Closed here, never by another thread: closing blocks while a read is in progress.
            with contextlib.suppress(Exception):
                self._body.close()

    def _put(self, item: bytes | BaseException) -> None:
        while not self._stopped.is_set():
            try:
                self._chunks.put(item, timeout=0.5)
                self._wake.set()
                return
            except queue.Full:
                continue

    def read(self, size: int = -1) -> bytes:
        """Up to `size` bytes (a whole read-ahead chunk when size is -1 or larger); b"" at the end."""
        while not self._pending and not self._eof:
            self._pending = self._next_chunk()
            self._eof = not self._pending
        if size < 0 or size >= len(self._pending):
            chunk, self._pending = self._pending, b""
        else:
            chunk, self._pending = self._pending[:size], self._pending[size:]
        return chunk

    def _next_chunk(self) -> bytes:
        with self.waiting():
            while True:
                self._cancel.raise_if_cancelled()
                try:
                    item = self._chunks.get_nowait()
                except queue.Empty:
                    self._wake.wait()
                    self._wake.clear()
                    continue
                if isinstance(item, BaseException):
                    raise item
                return item

    def close(self) -> None:
        """Stop reading ahead; the reading thread closes the body (a stalled read ends at its read timeout)."""
        self._stopped.set()
        self._unlink()
