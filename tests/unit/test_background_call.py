"""A background call whose caller stopped waiting: its value, if it ever comes, is discarded, not leaked
(a warehouse connection given up on mid-connect is closed when libpq finally opens it)."""

from __future__ import annotations

import threading

import pytest

from etl_core.background import BackgroundCall
from etl_core.errors import Cancelled
from etl_core.events import CancelToken


def test_a_value_that_arrives_after_the_caller_gave_up_is_discarded():
    release, discarded = threading.Event(), threading.Event()
    values: list[str] = []

    def connect() -> str:
        release.wait(30)
        return "connection"

    call = BackgroundCall(connect)
    cancel = CancelToken()
    cancel.cancel()
    with pytest.raises(Cancelled):
        call.result(cancel)

    def discard(value: str) -> None:
        values.append(value)
        discarded.set()

    call.abandon(discard)
    assert values == []  # not yet: the call is still running
    release.set()
    assert discarded.wait(30)
    assert values == ["connection"]


def test_a_value_already_there_is_discarded_at_once_and_an_error_discards_nothing():
    done = BackgroundCall(lambda: "connection")
    assert done.result(timeout=30) == "connection"
    discarded: list[str] = []
    done.abandon(discarded.append)
    assert discarded == ["connection"]

    def fail() -> str:
        raise OSError("refused")

    failed = BackgroundCall(fail)
    with pytest.raises(OSError):
        failed.result(timeout=30)
    failed.abandon(discarded.append)
    assert discarded == ["connection"]
