"""Helpers for the console's tests: build the app on a test env, wait for workers and messages."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypeVar

from textual.widgets.tree import TreeNode
from textual.worker import Worker

from etl_core.events import RunSummary
from tui.app import ConsoleApp
from tui.clock import Clock

SIZE = (150, 46)
T = TypeVar("T")


def make_app(env, clock: Clock | None = None) -> ConsoleApp:
    return ConsoleApp(env.config, clock=clock)


def data_of(node: TreeNode[T]) -> T:
    """A tree node's data: every node of the console's trees has some."""
    assert node.data is not None, node
    return node.data


def last_summary(app: ConsoleApp) -> RunSummary:
    """The summary of the console's last run (there was one)."""
    summary = app.main.controller.last_summary
    assert summary is not None
    return summary


def _busy(app: ConsoleApp) -> list[Worker[Any]]:
    """Running workers, except a run that waits for the operator at its open export preview."""
    from tui.screens.export_preview import ExportPreviewScreen

    gate = app.main.controller.gate
    waiting = gate is not None and gate.waiting and isinstance(app.screen, ExportPreviewScreen)
    return [w for w in app.workers if w.is_running and not (waiting and w.group == "run")]


async def settle(pilot, timeout: float = 120) -> None:
    """Wait until no worker runs (or a run waits at the export preview) and the messages posted are handled."""
    app = pilot.app
    deadline = time.monotonic() + timeout
    while True:
        await pilot.pause()
        if not _busy(app):
            await pilot.pause()
            if not _busy(app):
                return
        if time.monotonic() > deadline:
            raise AssertionError("workers kept running: " + ", ".join(w.name for w in _busy(app)))
        await pilot.pause(0.02)


S = TypeVar("S")


async def open_screen(pilot, key: str, kind: type[S]) -> S:
    """Press `key`, let the screen it opens load (its workers end), and return it (it must be a `kind`)."""
    await pilot.press(key)
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, kind), f"{key} opened {screen}, not a {kind.__name__}"
    return screen


async def wait_until(pilot, condition: Callable[[], bool], timeout: float = 30, what: str = "condition") -> None:
    """Poll the app (processing its messages) until `condition()` holds; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await pilot.pause(0.02)


async def run_all_and_export(pilot) -> None:
    """`r`, then `y` at the export preview the run stops at; waits for the run to end."""
    from tui.screens.export_preview import ExportPreviewScreen

    await pilot.press("r")
    await settle(pilot)
    assert isinstance(pilot.app.screen, ExportPreviewScreen), f"no export preview: {pilot.app.screen}"
    await pilot.press("y")
    await settle(pilot)


def statuses(app: ConsoleApp) -> dict[str, str]:
    return {stage: view.status for stage, view in app.main.controller.views.items()}


GOOD_ORDERS = (
    "order_id,customer_id,order_date,product_id,unit_price,quantity,total_price\n"
    "1,1,2022-01-03,1,100,2,200\n2,2,2022-05-02,2,50,1,50\n3,3,2022-06-01,1,10,3,30\n"
)
BAD_ORDERS = GOOD_ORDERS.replace("2022-05-02", "2022-13-45")


def screen_text(app) -> str:
    """The plain text of what the app's screen shows now, one line per terminal row (from its SVG screenshot)."""
    import html
    import re

    svg = app.export_screenshot()
    cell = 12.2  # the width of one terminal cell in Textual's SVG export
    rows: dict[float, dict[int, str]] = {}
    for match in re.finditer(r'<text class="[^"]*" x="([\d.]+)" y="([\d.]+)"[^>]*>(.*?)</text>', svg):
        x, y, text = float(match.group(1)), float(match.group(2)), html.unescape(match.group(3))
        column = round(x / cell)
        line = rows.setdefault(y, {})
        for offset, char in enumerate(text.replace("\xa0", " ")):
            line[column + offset] = char
    return "\n".join(
        "".join(line.get(i, " ") for i in range(max(line) + 1)).rstrip() for _, line in sorted(rows.items())
    )
