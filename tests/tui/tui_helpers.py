"""Helpers for the console's tests: build the app on a test env, wait for workers and messages."""

from __future__ import annotations

import time
from collections.abc import Callable

from tui.app import ConsoleApp
from tui.clock import Clock

SIZE = (150, 46)


def make_app(env, clock: Clock | None = None) -> ConsoleApp:
    return ConsoleApp(env.config, clock=clock)


async def settle(pilot, rounds: int = 50) -> None:
    """Wait until no worker runs and the messages they posted are handled (handlers may start workers)."""
    app = pilot.app
    for _ in range(rounds):
        await app.workers.wait_for_complete()
        await pilot.pause()
        if not any(w.is_running for w in app.workers):
            await pilot.pause()
            if not any(w.is_running for w in app.workers):
                return
    raise AssertionError("workers kept running: " + ", ".join(w.name for w in app.workers if w.is_running))


async def wait_until(pilot, condition: Callable[[], bool], timeout: float = 30, what: str = "condition") -> None:
    """Poll the app (processing its messages) until `condition()` holds; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await pilot.pause(0.02)


def statuses(app: ConsoleApp) -> dict[str, str]:
    return {stage: view.status for stage, view in app.main.controller.views.items()}




GOOD_ORDERS = ("order_id,customer_id,order_date,product_id,unit_price,quantity,total_price\n"
               "1,1,2022-01-03,1,100,2,200\n2,2,2022-05-02,2,50,1,50\n3,3,2022-06-01,1,10,3,30\n")
BAD_ORDERS = GOOD_ORDERS.replace("2022-05-02", "2022-13-45")
