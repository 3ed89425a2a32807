"""Blocking work in thread workers that only post messages; failures become operator sentences."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from textual.dom import DOMNode
from textual.message import Message
from textual.worker import Worker, get_current_worker

from etl_core.errors import D2BError
from etl_core.secrets import redact
from tui.messages import BackgroundError

Result = TypeVar("Result")


def describe(exc: BaseException) -> str:
    """An operator-facing sentence for any exception (secrets redacted, first line only)."""
    if isinstance(exc, D2BError):
        return redact(str(exc))
    text = redact(str(exc)).strip().splitlines()
    return f"{exc.__class__.__name__}: {text[0] if text else ''}".strip(": ")


def post_unless_cancelled(node: DOMNode, message: Message) -> None:
    """Post `message` to `node` from a thread worker, unless the worker is cancelled by the time it arrives.

    A thread cannot be stopped: an exclusive worker replaced by a newer one (a listing refreshed
    again) still ends and posts, maybe after the newer one, and its older result would win. The
    check runs on the app's thread, where cancels happen, so a result posted is never overtaken.
    """
    worker = get_current_worker()

    def deliver(worker: Worker[object]) -> None:
        if not worker.is_cancelled:
            node.post_message(message)

    node.call_later(deliver, worker)


def in_thread(
    node: DOMNode,
    context: str,
    job: Callable[[], Result],
    done: Callable[[Result], Message],
    *,
    group: str,
    failed: Callable[[str], Message] | None = None,
    exclusive: bool = False,
) -> None:
    """Run a blocking `job` in a thread worker of `node`; post `done(result)` (or the error) to `node`."""

    def work() -> None:
        try:
            result = job()
        except Exception as exc:  # noqa: BLE001 - every failure becomes a message: the console keeps working
            post_unless_cancelled(node, failed(describe(exc)) if failed else BackgroundError(context, describe(exc)))
            return
        post_unless_cancelled(node, done(result))

    node.run_worker(work, name=context, group=group, thread=True, exclusive=exclusive, exit_on_error=False)
