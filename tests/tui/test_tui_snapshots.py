"""Snapshots of the main screen, the export preview and the history (fixed size, frozen clock, fixed names).

The frozen clock masks every timestamp, duration, port and temporary path, so the pictures depend
only on the layout and on the deterministic test data. Update with `pytest --snapshot-update`.
"""

from __future__ import annotations

from frozen_clock import FrozenClock

from tui.app import ConsoleApp
from tui_helpers import BAD_ORDERS, GOOD_ORDERS, SIZE, settle


def frozen_app(env) -> ConsoleApp:
    return ConsoleApp(env.config, clock=FrozenClock())


async def _run_all(pilot) -> None:
    await settle(pilot)
    await pilot.press("r")
    await settle(pilot)
    pilot.app.clear_notifications()
    await pilot.pause()


async def _quiet_log(pilot) -> None:
    """Stages do their work concurrently and log in the order it finishes: the picture shows errors only."""
    for _ in range(2):  # level filter: WARNING+, ERROR
        await pilot.press("l")
    await pilot.pause()


def test_main_screen_after_run_all(named_env, snap_compare):
    env = named_env("snapmain")

    async def run_before(pilot) -> None:
        await _run_all(pilot)
        await _quiet_log(pilot)

    assert snap_compare(frozen_app(env), terminal_size=SIZE, run_before=run_before)


def test_export_preview_screen(named_env, snap_compare):
    env = named_env("snapexport")

    async def run_before(pilot) -> None:
        await _run_all(pilot)
        await pilot.press("e")
        await settle(pilot)
        await pilot.press("right")  # the second tab: agg_shipments
        await pilot.pause()

    assert snap_compare(frozen_app(env), terminal_size=SIZE, run_before=run_before)


def test_history_screen(named_env, snap_compare):
    env = named_env("snaphist")
    env.put("orders.csv", BAD_ORDERS)

    async def run_before(pilot) -> None:
        await _run_all(pilot)             # run #1 fails in staging
        env.put("orders.csv", GOOD_ORDERS)
        await pilot.press("R")            # resume from staging (confirm)
        await settle(pilot)
        await pilot.press("y")
        await settle(pilot)
        await pilot.press("h")
        await settle(pilot)
        await pilot.press("down")         # the failed run #1: its stages and error
        await settle(pilot)
        pilot.app.clear_notifications()
        await pilot.pause()

    assert snap_compare(frozen_app(env), terminal_size=SIZE, run_before=run_before)
