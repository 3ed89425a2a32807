"""The console's responsiveness: time to first paint, and event-loop stalls while a load runs."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from bench.workers.config import bench_config
from bench.workers.protocol import emit
from etl_core.services import open_services
from tui.app import ConsoleApp

TICK_S = 0.01  # the timer whose lateness is the stall


def stall_summary(late: list[float]) -> dict[str, Any]:
    """The longest and p99 lateness of the tick timer (ms) and how many ticks were over 100 ms late."""
    late = sorted(late)
    return {
        "max_ms": 1000 * late[-1] if late else None,
        "p99_ms": 1000 * late[int(0.99 * (len(late) - 1))] if late else None,
        "over_100ms": sum(1 for x in late if x > 0.1),
    }


def load_stall(spec: dict[str, Any]) -> None:
    """Run a staging load inside the app and measure the event loop's lateness with a 10 ms timer."""
    config = bench_config(spec)
    services = open_services(config)
    late: list[float] = []
    try:
        result = asyncio.run(_load_stall(ConsoleApp(config, services=services), late))
    finally:
        services.close()
    result.update(stall_summary(late))
    emit(result)


async def _load_stall(app: ConsoleApp, late: list[float]) -> dict[str, Any]:
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        for _ in range(200):
            if app.services is not None:
                break
            await asyncio.sleep(0.05)
        await pilot.pause(0.5)
        state = {"last": time.perf_counter(), "measuring": False}

        def tick() -> None:
            now = time.perf_counter()
            if state["measuring"]:
                late.append(now - state["last"] - TICK_S)
            state["last"] = now

        app.set_interval(TICK_S, tick)
        await pilot.pause(0.2)
        state["measuring"] = True
        started = time.perf_counter()
        if not app.main.runs.start_run(("staging",)):
            raise SystemExit("the console refused to start the staging run")
        await asyncio.sleep(0.1)
        controller = app.main.controller
        while controller.running:
            await asyncio.sleep(0.05)
        seconds = time.perf_counter() - started
        state["measuring"] = False
        status = controller.last_summary.status if controller.last_summary else "?"
    return {"seconds": seconds, "status": status, "ticks": len(late)}
