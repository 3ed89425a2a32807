"""Helpers of the inspection tests: a schema with a big table, the SQL pane, the results viewer's state."""

from __future__ import annotations

import html
import re
from typing import Any

from tui.app import ConsoleApp
from tui.screens.query import QueryScreen
from tui.widgets.inspect.results_viewer import ResultsViewer
from tui_helpers import settle, wait_until

BIG_ROWS = 100_000


def make_big_table(env) -> str:
    """`<staging>.events`: 100,000 rows, key `id`; `kind` cycles through 7 values, `amount` is id % 1000, some NULLs."""
    schema = f"{env.user_id}_staging"
    env.execute(f"""
        CREATE SCHEMA IF NOT EXISTS "{schema}";
        CREATE TABLE "{schema}".events (id int PRIMARY KEY, kind text NOT NULL, amount int, note text);
        INSERT INTO "{schema}".events
        SELECT g, 'kind ' || (g % 7), g % 1000, CASE WHEN g % 10 = 0 THEN NULL ELSE 'note ' || g END
        FROM generate_series({BIG_ROWS}, 1, -1) AS g;
    """)
    return schema


def shown_rows(viewer: ResultsViewer, first: int = 0, count: int = 5) -> list[tuple[Any, ...] | None]:
    """The rows the viewer holds from `first` on (None where a row is not loaded)."""
    return [viewer.grid.row(i) for i in range(first, min(first + count, viewer.grid.total_rows))]


async def viewer_ready(pilot, viewer: ResultsViewer, what: str = "the result", timeout: float = 60) -> None:
    """Until the viewer has opened its source (or failed) and no worker of the app runs."""
    await wait_until(pilot, lambda: viewer.opened is not None or bool(viewer.error), timeout=timeout, what=what)
    await settle(pilot)


async def open_query_pane(pilot, app: ConsoleApp) -> QueryScreen:
    await pilot.press("colon")
    await wait_until(pilot, lambda: isinstance(app.screen, QueryScreen), what="the SQL pane")
    await pilot.pause()
    screen = app.screen
    assert isinstance(screen, QueryScreen)
    return screen


async def run_in_pane(pilot, screen: QueryScreen, text: str, wait: bool = True) -> None:
    """Replace the editor's text, put the cursor at its end and press ctrl+j."""
    screen.editor.text = text
    screen.editor.move_cursor(screen.editor.document.end)
    screen.editor.focus()
    await pilot.press("ctrl+j")
    if wait:
        await wait_until(pilot, lambda: not screen.running, what="the query to end", timeout=60)
        await settle(pilot)


def screen_text_of(app: ConsoleApp) -> str:
    """Every line on the screen (toasts included), from the text elements of the SVG screenshot."""
    lines: dict[int, str] = {}
    for line, text in re.findall(r'clip-path="url\(#[\w-]+-line-(\d+)\)">([^<]*)</text>', app.export_screenshot()):
        lines[int(line)] = lines.get(int(line), "") + html.unescape(text).replace("\xa0", " ")
    return "\n".join(lines[n] for n in sorted(lines))


async def preview_table(pilot, app: ConsoleApp, schema: str, table: str) -> ResultsViewer:
    """Enter on `schema.table` in the warehouse tree; the data preview once it has opened."""
    tree = app.main.panes.warehouse
    node = next(
        t
        for s in tree.root.children
        for t in s.children
        if t.data is not None and (t.data.schema, t.data.table) == (schema, table)
    )
    tree.focus()
    tree.move_cursor(node)
    await pilot.press("enter")
    viewer = app.main.panes.data_preview
    await viewer_ready(pilot, viewer, f"the preview of {schema}.{table}")
    return viewer


async def preview_object(pilot, app: ConsoleApp, key: str) -> ResultsViewer:
    """Expand orders_data/ in the lake tree and press Enter on `key`; the data preview once it has opened."""
    lake = app.main.panes.lake
    prefix = next(c for c in lake.root.children[0].children if c.data is not None and c.data.key == "orders_data/")
    if prefix.data is not None and not prefix.data.loaded:
        prefix.expand()
        await settle(pilot)
    node = next(c for c in prefix.children if c.data is not None and c.data.key == key)
    lake.focus()
    lake.move_cursor(node)
    await pilot.press("enter")
    viewer = app.main.panes.data_preview
    await viewer_ready(pilot, viewer, f"the preview of {key}")
    return viewer


async def reloaded(pilot, viewer: ResultsViewer, *keys: str) -> None:
    """Press `keys` in the focused viewer and wait for the new result it opens."""
    generation = viewer.generation
    for key in keys:
        await pilot.press(key)
    await wait_until(
        pilot,
        lambda: viewer.generation > generation and (viewer.opened is not None or bool(viewer.error)),
        what="the reloaded result",
        timeout=60,
    )
    await settle(pilot)
