"""Keys, help and palette from the one registry; errors that must not crash the app; a bad config at start."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

from rich.console import Console
from textual.binding import Binding
from textual.command import CommandPalette
from textual.dom import DOMNode
from textual.widgets import Static

from tui.actions import ACTIONS, WIDGET_ACTIONS, ActionScope, bindings
from tui.app import ConsoleApp
from tui.palette import ActionsProvider
from tui.screens.help import HelpScreen
from tui.screens.history import HistoryScreen
from tui.screens.main import MainScreen
from tui.screens.query import QueryScreen
from tui.widgets.inspect.results_viewer import ResultsViewer
from tui_helpers import SIZE, data_of, make_app, screen_text, settle, wait_until


def test_bindings_come_from_the_registry():
    owners: dict[ActionScope, type[DOMNode]] = {
        "app": ConsoleApp,
        "main": MainScreen,
        "query": QueryScreen,
        "results": ResultsViewer,
    }
    for scope, owner in owners.items():
        # the viewer also opens a cell with v / Enter, the registry's show_cell of the main screen
        declared = [b for b in owner.BINDINGS if isinstance(b, Binding)]
        assert len(declared) == len(owner.BINDINGS)  # every binding is a Binding, none a bare tuple
        keys = {b.key: b.action for b in declared if not (scope == "results" and b.action == "show_cell")}
        assert keys == {a.key: a.name for a in ACTIONS if a.scope == scope and a.name not in WIDGET_ACTIONS}
        assert len(bindings(scope)) == len(keys)
    for spec in ACTIONS:  # every action has a method where it is bound (or is one of Textual's own)
        owner = owners[spec.scope]
        assert spec.name in WIDGET_ACTIONS or hasattr(owner, f"action_{spec.name}"), spec.name


async def test_help_and_palette_list_every_action(env):
    app = make_app(env)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        console = Console(width=200, record=True, file=io.StringIO())
        console.print(app.screen.query_one("#help-table", Static).content)
        lines = console.export_text().splitlines()
        for spec in ACTIONS:  # one line per action: its key, label and description
            assert any(
                line.split()[:1] == [spec.display_key.split()[0]]
                and spec.label in line
                and spec.description[:40] in line
                for line in lines
            ), spec
        await pilot.press("escape")

        provider = ActionsProvider(app.screen)
        titles = [hit.text async for hit in provider.discover()]
        expected = [
            f"{a.label} ({a.display_key})"
            for a in ACTIONS
            if a.name not in WIDGET_ACTIONS and a.name != "command_palette"
        ]
        assert titles == expected and "History (h)" in titles and "Run all (r)" in titles

        # the palette runs an action: Ctrl+P, type, Enter
        await pilot.press("ctrl+p")
        await pilot.pause()
        assert isinstance(app.screen, CommandPalette)
        await pilot.press(*"history")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, HistoryScreen)


async def test_unreachable_warehouse_does_not_crash(make_env):
    env = make_env()
    env.rewrite_config(url="postgresql://nobody@127.0.0.1:9/nowhere")
    app = make_app(env)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert app.services is not None and set(app.services.problems) == {"warehouse"}
        errors = [line.message for line in app.main.panes.log_view.kept if line.level == "ERROR"]
        assert errors and "127.0.0.1" in errors[0], errors
        assert any(n.severity == "error" for n in app._notifications)
        await pilot.press("r")  # refused with a notification, no crash
        await pilot.press("e")
        await pilot.press("f5")  # retries the connection: fails again, still no crash
        await settle(pilot)
        assert app.is_running and not app.main.controller.running
        assert len([line for line in app.main.panes.log_view.kept if line.level == "ERROR"]) >= 2


def test_bad_config_exits_2_without_traceback(tmp_path: Path):
    config = tmp_path / "config.toml"
    config.write_text('[pipeline]\nuser_id = "Bad Id"\n')
    console = Path(sys.executable).with_name("d2b-console")
    result = subprocess.run([str(console), "--config", str(config)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert str(config) in result.stderr and "user_id" in result.stderr


async def test_log_pane_bounded_and_filtered_under_thousands_of_lines(env):
    from etl_core.events import LogLine
    from tui.bridge import EventBridge
    from tui.widgets.bottom.log_view import MAX_LINES

    app = make_app(env)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        bridge = EventBridge(app.post_message)
        for i in range(12_000):  # as a run's worker thread would: batched, not one message per line
            bridge(LogLine(1, "staging" if i % 2 else "analytics", "WARNING" if i % 1000 == 1 else "INFO", f"line {i}"))
        bridge.flush_logs()
        await pilot.pause()
        pane = app.main.panes.log_view
        assert len(pane.shown) <= MAX_LINES and pane.visible_messages()[-1] == "line 11999"
        await pilot.press("f")  # stage filter: run
        await pilot.press("f")  # stage filter: prepare
        await pilot.press("f")  # stage filter: staging
        assert pane.stage_filter == "staging"
        assert all(m.endswith(("1", "3", "5", "7", "9")) for m in pane.visible_messages()[-50:])
        await pilot.press("l")  # level: WARNING and above
        assert pane.min_level == "WARNING"
        assert pane.visible_messages() == [f"line {i}" for i in range(1, 12_000, 1000)]
        assert len(pane.shown) == 12


async def test_a_password_never_reaches_the_screen_log_or_notifications(env, pg_uri, monkeypatch):
    secret = "Zq9-tui-secret-pw"
    monkeypatch.setenv("D2B_WAREHOUSE_URL", pg_uri.replace("postgres:@", f"postgres:{secret}@"))
    env.put("orders.csv", "order_id,customer_id\n1,2\n")  # a failing stage puts error text everywhere
    app = make_app(env)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("r")
        runs = app.main.controller
        await wait_until(
            pilot,
            lambda: not runs.running and runs.views["staging"].status == "failed",
            what="the staging stage to fail",
        )
        await settle(pilot)
        shown = [
            app.export_screenshot(),
            app.sub_title,
            *(line.message for line in app.main.panes.log_view.kept),
            *(n.message for n in app._notifications),
        ]
        await pilot.press("h")  # the history screen shows the run's errors
        await settle(pilot)
        shown.append(app.export_screenshot())
    assert any("missing column(s)" in text for text in shown)  # the places checked hold the run's messages
    assert all(secret not in text for text in shown)


async def test_each_pane_shows_its_own_service_a_bad_warehouse_does_not_block_the_lake(make_env):
    env = make_env()
    env.put("orders.csv", "order_id\n1\n")
    env.rewrite_config(url="postgresql://nobody@127.0.0.1:9/nowhere")
    app = make_app(env)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        services = app.services
        assert services is not None and set(services.problems) == {"warehouse"}
        assert "127.0.0.1" in services.problems["warehouse"]
        bucket = app.main.panes.lake.root.children[0]
        assert data_of(bucket).kind == "bucket" and any(data_of(c).key == "orders_data/" for c in bucket.children)
        warehouse = str(app.main.panes.warehouse.root.children[0].label)
        assert warehouse.startswith("not connected:") and "127.0.0.1" in warehouse
        await pilot.press("r")  # a run needs the warehouse: refused, saying so
        await settle(pilot)
        assert not app.main.controller.running
        assert any(n.message.startswith("the warehouse is not reachable") for n in app._notifications)


async def test_a_missing_bucket_does_not_block_the_warehouse_and_its_message_keeps_its_brackets(make_env):
    env = make_env(create_bucket=False)
    app = make_app(env)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        assert app.services is not None and set(app.services.problems) == {"s3"}
        assert "check [source] bucket" in app.services.problems["s3"]
        lake = str(app.main.panes.lake.root.children[0].label)
        assert "check [source] bucket" in lake  # literal: the brackets are not markup
        assert any("check [source] bucket" in n.message for n in app._notifications)
        assert "check [source] bucket" in screen_text(app)
        schemas = [data_of(node).schema for node in app.main.panes.warehouse.root.children]
        assert env.dims_schema in schemas  # the warehouse pane lists its schemas
