"""Save a table or query result to a local CSV file: a path, a confirmation before overwriting, progress.

Every row is streamed with COPY ... TO STDOUT by the core (`etl_core.inspect.save_csv`) in a
thread worker; the file appears only when complete. Esc cancels a save in progress (no file is
left), else closes the dialog.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Input, ProgressBar, Static

from etl_core.events import CancelToken
from etl_core.inspect.save_csv import SaveOptions, SaveProgress, SaveResult
from tui.format import human_size
from tui.inspect.sources import DataSource, Opened
from tui.screens.confirm import ConfirmScreen
from tui.status_style import RED, WARN
from tui.workers import describe


@dataclass
class SaveProgressed(Message, bubble=False):
    progress: SaveProgress


@dataclass
class SaveDone(Message, bubble=False):
    result: SaveResult | None
    error: str = ""


def default_path(source: DataSource) -> Path:
    """./<schema.table>.csv or ./query_result.csv in the current folder."""
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", source.title if source.kind == "table" else "query_result")
    return Path.cwd() / f"{name}.csv"


class SaveScreen(ModalScreen[SaveResult | None]):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, source: DataSource, opened: Opened) -> None:
        super().__init__()
        self.source, self.opened = source, opened
        self.token: CancelToken | None = None
        self.error = ""

    def compose(self) -> ComposeResult:
        total = self.opened.rows.total_rows
        with Vertical(id="save-box", classes="dialog"):
            yield Static(Text(f"Save {self.source.title} as CSV"), classes="dialog-title")
            yield Static(
                Text(f"every row ({total:,}), streamed from the warehouse; Enter saves, Esc cancels"), id="save-what"
            )
            yield Input(str(default_path(self.source)), id="save-path")
            yield ProgressBar(total=max(1, total), show_eta=False, id="save-progress")
            yield Static("", id="save-status")

    def on_mount(self) -> None:
        self.query_one(ProgressBar).display = False

    def _status(self, text: Text) -> None:
        self.query_one("#save-status", Static).update(text)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if self.token is not None:
            return
        text = event.value.strip()
        if not text:
            self._status(Text("type the path of the CSV file", style=RED))
            return
        path = Path(text).expanduser().absolute()
        if path.exists():

            def answered(yes: bool | None) -> None:
                if yes:
                    self._start(path, overwrite=True)
                else:
                    self._status(Text("not overwritten: choose another name", style=WARN))

            self.app.push_screen(
                ConfirmScreen("The file exists", f"Replace {path}?", yes="Overwrite", no="Keep it"), answered
            )
            return
        self._start(path, overwrite=False)

    def _start(self, path: Path, overwrite: bool) -> None:
        token = self.token = CancelToken()
        bar = self.query_one(ProgressBar)
        bar.display = True
        self.query_one(Input).disabled = True
        self._status(Text(f"saving to {path} …", style="italic"))
        source, opened = self.source, self.opened

        def progress(done: SaveProgress) -> None:
            self.post_message(SaveProgressed(done))

        options = SaveOptions(overwrite=overwrite, progress=progress, cancel=token)

        def work() -> None:
            try:
                result = source.save(opened, path, options)
            except Exception as exc:  # noqa: BLE001 - said in the dialog: nothing was written
                self.post_message(SaveDone(None, describe(exc)))
                return
            self.post_message(SaveDone(result))

        self.run_worker(work, name=f"save {path.name}", group="save", thread=True, exit_on_error=False)

    def on_save_progressed(self, message: SaveProgressed) -> None:
        progress = message.progress
        self.query_one(ProgressBar).update(progress=progress.rows_written)
        self._status(Text(f"{progress.rows_written:,} rows, {human_size(progress.bytes_written)} written …"))

    def on_save_done(self, message: SaveDone) -> None:
        self.token = None
        if message.result is None:
            self.error = message.error
            self.query_one(Input).disabled = False
            self.query_one(ProgressBar).display = False
            self._status(Text(message.error, style=RED))
            return
        result = message.result
        self.app.notify(
            f"saved {result.rows:,} rows ({human_size(result.bytes)}) to {result.path} in {result.seconds:.1f} s",
            title="saved",
            markup=False,
        )
        self.dismiss(result)

    def action_cancel(self) -> None:
        if self.token is not None:
            self.token.cancel()
            self._status(Text("cancelling …", style=WARN))
            return
        self.dismiss(None)
