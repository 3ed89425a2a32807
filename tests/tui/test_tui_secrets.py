"""The console never shows a warehouse password: not in its title, log, notifications or history screen.

Only the console's public surface is used (ConsoleApp(config), run_test, keys, the screen's text),
so the test holds whatever the widgets look like inside.
"""

from __future__ import annotations

import html
import re
import time

import pytest

from secret_forms import address_forms, leaks, socket_folder
from tui.app import ConsoleApp


def screen_text(app: ConsoleApp) -> str:
    """Every line on the screen (toasts included), from the text elements of the SVG screenshot."""
    lines: dict[int, str] = {}
    for line, text in re.findall(r'clip-path="url\(#[\w-]+-line-(\d+)\)">([^<]*)</text>', app.export_screenshot()):
        lines[int(line)] = lines.get(int(line), "") + html.unescape(text).replace("\xa0", " ")
    return "\n".join(lines[n] for n in sorted(lines))


async def wait_for(pilot, condition, what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await pilot.pause(0.05)


@pytest.mark.parametrize("form", ["query parameter", "keyword DSN, quoted"])
async def test_the_console_never_shows_the_password(env, pg_uri, monkeypatch, form):
    monkeypatch.setenv("D2B_WAREHOUSE_URL", address_forms(pg_uri)[form])
    env.put("orders.csv", "order_id,customer_id\n1,2\n")  # a failing stage: its error is notified and logged
    history = f'SELECT status FROM "{env.user_id}_staging".console_runs'

    def run_finished() -> bool:
        try:
            return [status for (status,) in env.query(history)] == ["failed"]
        except Exception:  # noqa: BLE001 - the history table does not exist until the run starts
            return False

    app = ConsoleApp(env.config)
    async with app.run_test(size=(150, 46), notifications=True) as pilot:  # toasts are off in tests by default
        await wait_for(pilot, lambda: "postgresql://" in app.sub_title, "the console to connect")
        await pilot.press("r")
        await wait_for(pilot, run_finished, "the run to fail")
        await wait_for(pilot, lambda: "staging failed" in screen_text(app), "the failure's notification")
        shown = [app.title, app.sub_title, screen_text(app)]
        await pilot.press("h")  # the history screen lists the run and its error
        await wait_for(pilot, lambda: "Run history" in screen_text(app), "the history screen")
        shown.append(screen_text(app))
    label = f"postgresql://postgres:***@/postgres?host={socket_folder(pg_uri)}"
    assert label in app.sub_title
    assert all("orders.csv: line 1 (header)" in text for text in shown[2:])  # the screens hold the run's error
    assert [leaks(text) for text in shown] == [[], [], [], []]
