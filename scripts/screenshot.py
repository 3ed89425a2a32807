"""Regenerate the console's pictures in docs/images/: the main screen after a run, at 120×40 and at 80×24,
the `:` SQL pane with a query's result (120×40), and the run history with its trends (120×40) after
runs of a few earlier ingestion dates (headless, through the core's run_pipeline).

It runs the console headless (Textual's run_test) on the embedded default, in a state folder of its
own under the temp folder, presses `r`, then `y` at the export preview, waits for the run to end
and saves SVG screenshots (Textual's `save_screenshot`); then opens the SQL pane and runs a query.
Run it from the repository's root:

    .venv/bin/python scripts/screenshot.py
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

from etl_core.config import load_config
from etl_core.pipeline import run_pipeline
from etl_core.services import open_services
from tui.app import ConsoleApp
from tui.screens.export_preview import ExportPreviewScreen
from tui.screens.history import HistoryScreen
from tui.screens.query import QueryScreen
from tui.widgets.history.trends import TrendsPanel

ROOT = Path(__file__).resolve().parents[1]
IMAGES = ROOT / "docs" / "images"
SIZES = {"console.svg": (120, 40), "console-80x24.svg": (80, 24)}
SQL_PICTURE = ("console-sql.svg", (120, 40))
HISTORY_PICTURE = ("console-history.svg", (120, 40))
EARLIER_DATES = 4  # runs of the days before, so the trends have a shape
SQL_QUERY = (
    "SELECT product_id, count(*) AS orders, sum(quantity) AS items\n"
    "FROM demo1234_staging.orders\nGROUP BY 1 ORDER BY 2 DESC"
)
TIMEOUT_S = 300


async def _until(pilot, condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + TIMEOUT_S
    while not condition():
        if time.monotonic() > deadline:
            raise SystemExit(f"screenshot: timed out waiting for {what}")
        await pilot.pause(0.1)


async def shoot(config_path: Path) -> None:
    app = ConsoleApp(load_config(str(config_path)))
    first, *others = SIZES.items()
    async with app.run_test(size=first[1]) as pilot:
        await _until(
            pilot, lambda: app.services is not None and app.main.controller.run_id is None, "the embedded services"
        )
        await pilot.press("r")
        await _until(pilot, lambda: isinstance(app.screen, ExportPreviewScreen), "the export preview")
        await pilot.press("y")
        await _until(
            pilot,
            lambda: not app.main.controller.running and app.main.controller.last_summary is not None,
            "the run to end",
        )
        await pilot.pause(1)  # the trees' listings after the export
        for name, size in [first, *others]:
            await pilot.resize_terminal(*size)
            app.clear_notifications()
            await pilot.pause(0.5)
            app.save_screenshot(filename=name, path=str(IMAGES))
            print(f"wrote {IMAGES / name}", file=sys.stderr)
        await _sql_pane(pilot, app)


async def _sql_pane(pilot, app: ConsoleApp) -> None:
    name, size = SQL_PICTURE
    await pilot.resize_terminal(*size)
    await pilot.press("colon")
    await _until(pilot, lambda: isinstance(app.screen, QueryScreen), "the SQL pane")
    screen = app.screen
    assert isinstance(screen, QueryScreen)
    screen.editor.text = SQL_QUERY
    screen.editor.move_cursor(screen.editor.document.end)
    await pilot.press("ctrl+j")
    await _until(pilot, lambda: screen.results.opened is not None and not screen.running, "the query's result")
    app.clear_notifications()
    await pilot.pause(0.5)
    app.save_screenshot(filename=name, path=str(IMAGES))
    print(f"wrote {IMAGES / name}", file=sys.stderr)


def earlier_runs(config_path: Path) -> None:
    """Runs of the EARLIER_DATES days before today, headless, each with its own ingestion date."""
    text = config_path.read_text()
    for back in range(EARLIER_DATES, 0, -1):
        day = date.today() - timedelta(days=back)
        config_path.write_text(text.replace('ingestion_date = "today"', f'ingestion_date = "{day}"'))
        services = open_services(load_config(str(config_path)))
        try:
            status = run_pipeline(services).status
        finally:
            services.close()
        print(f"ran {day}: {status}", file=sys.stderr)
    config_path.write_text(text)


async def shoot_history(config_path: Path) -> None:
    name, size = HISTORY_PICTURE
    app = ConsoleApp(load_config(str(config_path)))
    async with app.run_test(size=size) as pilot:
        await _until(pilot, lambda: app.services is not None, "the embedded services")
        await pilot.press("h")
        await _until(pilot, lambda: isinstance(app.screen, HistoryScreen), "the run history")
        panel = app.screen.query_one(TrendsPanel)
        await _until(pilot, lambda: len(panel.drawn) > 0, "the trends")
        for _ in range(4):  # the plot (plots extra) moves from the flat "orders rows" to "staging duration"
            await pilot.press("p")
        app.clear_notifications()
        await pilot.pause(0.5)
        app.save_screenshot(filename=name, path=str(IMAGES))
        print(f"wrote {IMAGES / name}", file=sys.stderr)


def main() -> None:
    IMAGES.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="d2b-screenshot-") as folder:
        config = (ROOT / "config.toml").read_text()
        config = config.replace('state_dir = ".d2b-state"', f'state_dir = "{Path(folder) / "state"}"')
        path = Path(folder) / "config.toml"
        path.write_text(config)
        asyncio.run(shoot(path))
        earlier_runs(path)
        asyncio.run(shoot_history(path))


if __name__ == "__main__":
    main()
