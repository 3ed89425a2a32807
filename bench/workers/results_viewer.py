"""The results viewer's responsiveness: the longest event-loop stall while scrolling a one-million-row result.

The real app runs headless (rendering included) on the bench services; the `:` pane runs the
inspection benchmark's one-million-row query, then the grid is scrolled the ways an operator
does: page by page, to the end and back, jumps to random rows (each fetching its page from the
held cursor in a worker), and scrollbar-like jumps. A 10 ms timer's lateness is the stall.
"""

from __future__ import annotations

import asyncio
import random
import time
from typing import Any

from bench.workers.config import bench_config
from bench.workers.console import TICK_S, stall_summary
from bench.workers.protocol import emit
from etl_core.inspect.benchmark import ONE_MILLION_ROWS
from etl_core.services import open_services
from tui.app import ConsoleApp
from tui.screens.query import open_query_screen

PAGE_DOWNS = 150
JUMPS = 40
SEED = 13


def results_stall(spec: dict[str, Any]) -> None:
    config = bench_config(spec)
    services = open_services(config)
    late: list[float] = []
    try:
        result = asyncio.run(_scroll(ConsoleApp(config, services=services), late))
    finally:
        services.close()
    result.update(stall_summary(late), ticks=len(late))
    emit(result)


async def _until(condition: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out waiting for {what}")
        await asyncio.sleep(0.01)


async def _scroll(app: ConsoleApp, late: list[float]) -> dict[str, Any]:
    async with app.run_test(size=(160, 48)) as pilot:
        await _until(lambda: app.workbench is not None, 60, "the services")
        await app.workers.wait_for_complete()
        screen = open_query_screen(app, app.workbench)  # type: ignore[arg-type]
        await pilot.pause()
        screen.editor.text = ONE_MILLION_ROWS
        screen.editor.focus()
        started = time.perf_counter()
        await pilot.press("ctrl+j")
        await _until(lambda: not screen.running, 120, "the one-million-row query")
        query_s = time.perf_counter() - started
        grid = screen.results.grid
        if grid.total_rows != 1_000_000:
            raise SystemExit(f"the query showed {grid.total_rows:,} rows, not 1,000,000")
        grid.focus()
        await pilot.pause(0.2)
        state = {"last": time.perf_counter(), "measuring": True}

        def tick() -> None:
            now = time.perf_counter()
            if state["measuring"]:
                late.append(max(0.0, now - state["last"] - TICK_S))
            state["last"] = now

        app.set_interval(TICK_S, tick)
        scrolled = time.perf_counter()
        actions = 0
        for _ in range(PAGE_DOWNS):  # page by page: every fourth press or so needs a page from the server
            await pilot.press("pagedown")
            actions += 1
        await pilot.press("end")
        await _until(lambda: grid.row(grid.total_rows - 1) is not None, 30, "the last page")
        await pilot.press("home")
        rng = random.Random(SEED)
        for _ in range(JUMPS):  # random rows, each shown once its page arrives
            row = rng.randrange(grid.total_rows)
            grid.move_cursor(row, 0)
            await _until(lambda row=row: grid.row(row) is not None, 30, f"row {row:,}")
            actions += 1
        for _ in range(JUMPS):  # the scrollbar dragged: rows appear as "…" first, then their page
            grid.scroll_to(y=rng.randrange(grid.total_rows), animate=False)
            await pilot.pause(0.02)
            actions += 1
        await pilot.pause(0.5)
        state["measuring"] = False
        seconds = time.perf_counter() - scrolled
        held = len(grid.held_pages)
    return {
        "rows": grid.total_rows,
        "query_s": query_s,
        "scroll_s": seconds,
        "actions": actions + 2,
        "held_pages": held,
    }
