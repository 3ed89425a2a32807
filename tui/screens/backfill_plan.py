"""The dry run of a backfill from the Days view: every date with its inputs or why it is skipped, and the decision.

Dismissed with True (run it) or False (nothing is run or recorded). Shown before every run of the
view; `p` shows it alone (the dry run), without the run button.
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, DataTable, Static

from etl_core.backfill import BackfillPlan, DayPlan
from tui.status_style import BAD, NOTE, OK

MODES = {
    "dated": "each date's own folder ({date} in the prefix)",
    "versioned": "the newest version of each file by the end of the date (UTC)",
    "latest": "the objects as they are now",
}
SHORT_PLAN = 8  # dates that fit the dialog at 80x24 with its summary, reason and buttons


def plan_summary(plan: BackfillPlan) -> str:
    runs = len(plan.to_run)
    skipped = len(plan.skipped_for_inputs)
    text = (
        f"{plan.first} .. {plan.last}, reprocess {plan.reprocess}: {runs} of {len(plan.days)} date(s) would run"
        + (", then the export preview before one export" if runs else "")
        + (f"; {skipped} skipped for missing inputs" if skipped else "")
        + f".\nInputs: {MODES[plan.mode]}."
    )
    if not runs and skipped:
        text += "\nNothing to run: the chosen dates lack their inputs; upload the files, then run again."
    elif not runs:
        text += "\nNothing to run: m chooses which dates are reprocessed (missing, failed, all)."
    return text


def decision_cell(day: DayPlan) -> Text:
    if day.decision == "run":
        return Text("RUN", style=f"bold {OK}")
    return Text("SKIP", style=BAD if day.reason.startswith("missing inputs") else NOTE)


class BackfillPlanScreen(ModalScreen[bool]):
    # The table takes what the dialog leaves (at 80x24 too): the summary, the reason and the buttons stay in view.
    DEFAULT_CSS = """
    BackfillPlanScreen { align: center middle; background: $background 60%; }
    #plan-box { max-height: 100%; }
    #plan-dates { height: 1fr; max-height: 20; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y", "answer(True)", "Run"),
        Binding("n,escape", "answer(False)", "Close"),
    ]

    def __init__(self, plan: BackfillPlan, can_run: bool) -> None:
        super().__init__()
        self.plan = plan
        self.can_run = can_run and bool(plan.to_run)

    def compose(self) -> ComposeResult:
        title = "Run these dates?" if self.can_run else "Dry run: nothing is run or recorded"
        with Vertical(id="plan-box", classes="dialog"):
            yield Static(Text(title), classes="dialog-title")
            yield Static(Text(plan_summary(self.plan)), id="plan-summary")
            yield DataTable(cursor_type="row", id="plan-dates")
            yield Static("", id="plan-why")
            with Horizontal(classes="dialog-buttons"):
                if self.can_run:
                    yield Button(Text("Run (y)"), variant="primary", id="yes", compact=True)
                yield Button(Text("Close (Esc)"), id="no", compact=True)

    def on_mount(self) -> None:
        table = self.query_one("#plan-dates", DataTable)
        table.add_columns("Date", "Decision", "Why", "Inputs")
        for day in self.plan.days:
            inputs = ", ".join(found.key for found in day.inputs.inputs)
            table.add_row(Text(day.day.isoformat()), decision_cell(day), Text(day.reason), Text(inputs))
        if len(self.plan.days) < SHORT_PLAN:
            table.styles.height = "auto"  # a short plan keeps a short dialog (1fr would fill the screen's height)
        table.focus()

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        """The highlighted date's reason in full (the column cuts long ones)."""
        day = self.plan.days[event.cursor_row]
        self.query_one("#plan-why", Static).update(Text(f"{day.day}: {day.reason}"))

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")

    def action_answer(self, answer: bool) -> None:
        self.dismiss(answer and self.can_run)
