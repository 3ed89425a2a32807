"""Past runs (start, status, duration) and, for the highlighted run, its stages."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import DataTable, Footer, Header, Static

from tui.clock import Clock
from tui.format import count
from tui.state import GLYPHS


def status_text(status: str) -> Text:
    glyph, style = GLYPHS.get(status, ("?", ""))
    return Text(f"{glyph} {status}", style=style)


class HistoryScreen(ModalScreen[None]):
    """Modal: only its own keys are active (Esc or h goes back)."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape,h", "close", "Back", show=True)]

    class StagesWanted(Message):
        """Ask the app to load the stages of a run (a thread worker posts RunStagesReady)."""

        def __init__(self, run_id: int) -> None:
            super().__init__()
            self.run_id = run_id

    def __init__(self, runs: list, clock: Clock) -> None:
        super().__init__()
        self.runs = runs
        self.clock = clock
        self.shown_run: int | None = None

    def compose(self) -> ComposeResult:
        yield Header(icon="◆")
        with Vertical(id="history-body"):
            yield DataTable(cursor_type="row", id="history-runs")
            yield DataTable(cursor_type="row", id="history-stages")
            yield Static("", id="history-errors")
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = "Run history"
        runs = self.query_one("#history-runs", DataTable)
        runs.border_title = f"Runs ({len(self.runs)})"
        for key, label in (("run", "Run"), ("started", "Started"), ("status", "Status"), ("duration", "Duration"),
                           ("stages", "Stages"), ("ingestion", "Ingestion date")):
            runs.add_column(label, key=key)
        for run in self.runs:
            runs.add_row(f"#{run.run_id}", self.clock.stamp(run.started_at), status_text(run.status),
                         Text(self.clock.duration(run.duration_s), justify="right"), run.stages.replace(",", " → "),
                         run.ingestion_date.isoformat(), key=str(run.run_id))
        stages = self.query_one("#history-stages", DataTable)
        stages.border_title = "Stages"
        for key, label in (("stage", "Stage"), ("status", "Status"), ("started", "Started"),
                           ("duration", "Duration"), ("rows", "Rows"), ("error", "Error")):
            stages.add_column(label, key=key)
        if not self.runs:
            self.query_one("#history-errors", Static).update(Text("No runs yet: press r on the main screen.",
                                                                  style="dim"))
        runs.focus()

    @on(DataTable.RowHighlighted, "#history-runs")
    def _run_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.row_key is not None and event.row_key.value is not None:
            self.post_message(self.StagesWanted(int(event.row_key.value)))

    def show_stages(self, run_id: int, stages: list) -> None:
        self.shown_run = run_id
        table = self.query_one("#history-stages", DataTable)
        table.border_title = f"Stages of run #{run_id}"
        table.clear()
        errors = Text()
        for stage in stages:
            ran = stage.status != "skipped"
            table.add_row(stage.stage, status_text(stage.status), self.clock.time(stage.started_at),
                          Text(self.clock.duration(stage.duration_s if ran else None), justify="right"),
                          Text(count(stage.rows if ran else None), justify="right"),
                          Text((stage.error or "")[:60], style="red"), key=stage.stage)
            if stage.error:
                errors.append(f"{stage.stage}: ", style="bold red")
                errors.append(self.clock.scrub(stage.error) + "\n")
        self.query_one("#history-errors", Static).update(errors)

    def action_close(self) -> None:
        self.dismiss(None)
