"""A blocking call on a daemon thread, waited for with a cancel token: a stuck socket never blocks a cancel.

boto3 offers no way to interrupt a request from another thread; running it here lets the caller
stop waiting at once on a cancel. The abandoned call ends by itself at its own timeout, and a
daemon thread never delays the process's exit (an executor's thread would be joined at exit).
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable
from typing import Generic, TypeVar

from etl_core.errors import Cancelled
from etl_core.events import CancelToken

T = TypeVar("T")
WAIT_SLICE_S = 0.1


class BackgroundCall(Generic[T]):
    """`fn()` started at once on its own daemon thread; `result()` waits for it."""

    def __init__(self, fn: Callable[[], T], name: str = "background-call"):
        self._fn = fn
        self._lock = threading.Lock()
        self._finished = False
        self._wakers: list[threading.Event] = []  # one per waiting caller
        self._value: T | None = None
        self._error: BaseException | None = None
        self._discard: Callable[[T], object] | None = None  # set by `abandon`
        threading.Thread(target=self._run, name=name, daemon=True).start()

    def _run(self) -> None:
        try:
            self._value = self._fn()
        except BaseException as exc:  # noqa: BLE001 - handed to the waiting thread, raised there
            self._error = exc
        with self._lock:
            self._finished = True
            for wake in self._wakers:
                wake.set()
            discard = self._discard
        if discard is not None:
            self._discard_value(discard)

    def abandon(self, discard: Callable[[T], object]) -> None:
        """Nobody will take the value: `discard(value)` once the call succeeds (at once if it has)."""
        with self._lock:
            self._discard = discard
            finished = self._finished
        if finished:
            self._discard_value(discard)

    def _discard_value(self, discard: Callable[[T], object]) -> None:
        if self._error is None and self._value is not None:
            value, self._value = self._value, None
            with contextlib.suppress(Exception):  # best effort: nobody is left to tell
                discard(value)

    @property
    def done(self) -> bool:
        return self._finished

    def result(self, cancel: CancelToken | None = None, timeout: float | None = None) -> T:
        """The call's value (or its exception); Cancelled at once on a cancel, TimeoutError after `timeout`."""
        wake = threading.Event()
        with self._lock:
            self._wakers.append(wake)
            if self._finished:
                wake.set()
        unlink = cancel.on_cancel(wake.set) if cancel is not None else (lambda: None)
        deadline = None if timeout is None else time.monotonic() + timeout
        try:
            if cancel is not None and cancel.cancelled:
                wake.set()
            # In short slices: a signal delivered to another thread runs its Python handler only when
            # the main thread next runs bytecode, and a wait without a timeout would never return to it.
            while not wake.wait(WAIT_SLICE_S if deadline is None else min(WAIT_SLICE_S, deadline - time.monotonic())):
                if deadline is not None and time.monotonic() >= deadline:
                    break
        finally:
            unlink()
        if not self._finished:
            if cancel is not None and cancel.cancelled:
                raise Cancelled("cancelled by the operator")
            raise TimeoutError(f"no result within {timeout:g}s")
        if self._error is not None:
            raise self._error
        return self._value  # type: ignore[return-value]  # set when no error was raised


def call_interruptibly(cancel: CancelToken, fn: Callable[[], T], name: str = "background-call") -> T:
    """`fn()` on a daemon thread; Cancelled as soon as `cancel` fires, whatever `fn` is blocked on."""
    cancel.raise_if_cancelled()
    return BackgroundCall(fn, name).result(cancel)
