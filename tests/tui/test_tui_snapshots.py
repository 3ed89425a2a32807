"""Snapshots of the main screen, the export preview and the history at 80×24, 120×40 and 200×60.

A frozen clock masks every timestamp, duration, port and temporary path, and the names are fixed,
so the pictures depend only on the layout and the deterministic test data. Stages work
concurrently and log in the order their work finishes, so the main screen's log shows errors only.
Update with `pytest tests/tui/test_tui_snapshots.py --snapshot-update` after a deliberate change.
"""

from __future__ import annotations

import pytest
from frozen_clock import FrozenClock

from tui.app import ConsoleApp
from tui_helpers import BAD_ORDERS, GOOD_ORDERS, run_all_and_export, settle

SIZES = [(80, 24), (120, 40), (200, 60)]


def frozen_app(env) -> ConsoleApp:
    return ConsoleApp(env.config, clock=FrozenClock())


async def _quiet(pilot) -> None:
    pilot.app.clear_notifications()
    await pilot.pause()


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_main_screen_after_run_all(named_env, snap_compare, size):
    env = named_env(f"snapmain{size[0]}")

    async def run_before(pilot) -> None:
        await settle(pilot)
        await run_all_and_export(pilot)
        for _ in range(2):  # level filter: WARNING+, ERROR
            await pilot.press("l")
        await _quiet(pilot)

    assert snap_compare(frozen_app(env), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_export_preview_screen(named_env, snap_compare, size):
    env = named_env(f"snapexport{size[0]}")

    async def run_before(pilot) -> None:
        await settle(pilot)
        await pilot.press("r")  # the run stops at the export preview
        await settle(pilot)
        await pilot.press("right")  # the second tab: agg_shipments
        await _quiet(pilot)

    assert snap_compare(frozen_app(env), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_history_screen(named_env, snap_compare, size):
    env = named_env(f"snaphist{size[0]}")
    env.put("orders.csv", BAD_ORDERS)

    async def run_before(pilot) -> None:
        await settle(pilot)
        await pilot.press("r")  # run #1 fails in staging
        await settle(pilot)
        env.put("orders.csv", GOOD_ORDERS)
        await pilot.press("R")  # resume from staging (confirm), then the export preview (y)
        await settle(pilot)
        await pilot.press("y")
        await settle(pilot)
        await pilot.press("y")
        await settle(pilot)
        await pilot.press("h")
        await settle(pilot)
        await pilot.press("down")  # the failed run #1: its stages and error
        await settle(pilot)
        await _quiet(pilot)

    assert snap_compare(frozen_app(env), terminal_size=size, run_before=run_before)
