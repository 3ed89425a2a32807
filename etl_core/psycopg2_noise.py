"""Keep psycopg2's stray traceback off the operator's screen when a server ends a connection mid-COPY.

psycopg2 (2.9) then prints a SystemError ("<function decode> returned a result with an exception
set", caused by the server's error) through sys.excepthook, while it also raises the real error
to the caller, which reports it properly. Only that print is dropped; every other exception
reaches the previous hook.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from types import TracebackType

import psycopg2


def drop_copy_noise() -> Callable[[], None]:
    """Install the filter; returns a function that puts the previous hook back."""
    previous = sys.excepthook

    def hook(kind: type[BaseException], exc: BaseException, traceback: TracebackType | None) -> None:
        if issubclass(kind, SystemError) and isinstance(exc.__cause__, psycopg2.Error):
            return
        previous(kind, exc, traceback)

    sys.excepthook = hook

    def restore() -> None:
        sys.excepthook = previous

    return restore
