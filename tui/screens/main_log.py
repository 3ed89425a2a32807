"""The main screen's log: its filters and search, and the run's full log file in `$PAGER`."""

from __future__ import annotations

from pathlib import Path

from etl_core.events import LogLine
from tui.controller import Notice
from tui.host import ConsoleHost
from tui.pager import open_in_pager
from tui.screens.main_panes import MainPanes


class MainLog:
    """The log pane's actions on the main screen (registry scope "main")."""

    def __init__(self, panes: MainPanes, host: ConsoleHost) -> None:
        self.panes = panes
        self.host = host

    def add(self, lines: list[LogLine]) -> None:
        self.panes.log_pane.add_lines(lines)

    def cycle_stage(self) -> None:
        self.panes.show_bottom("log")
        self.panes.log_view.cycle_stage()

    def cycle_level(self) -> None:
        self.panes.show_bottom("log")
        self.panes.log_view.cycle_level()

    def search(self) -> None:
        self.panes.show_bottom("log")
        self.panes.log_pane.open_search()

    def open_in_pager(self) -> None:
        """The last run's full log in `$PAGER` (`less`); the console comes back when the pager quits."""
        path = self.panes.log_view.log_file
        if not path or not Path(path).is_file():
            logs = self.host.config.console.state_dir / "logs"
            self.host.tell(Notice(f"no run has finished in this console yet; the run logs are in {logs}"))
            return
        open_in_pager(self.panes.screen.app, Path(path), self.host.tell)
