"""The Days view (`d`): one row per ingestion date, and where dates are run.

Each date's status (succeeded, failed, cancelled, interrupted; stale when it loaded the same objects
as an earlier date; missing when no run computed it, "missing inputs" when S3 also lacks one of its
files), its run, rows and inputs (tui/widgets/days/day_table.py loads them). From here one date, the
marked dates (space) or a typed range (`g`) run as a backfill (etl_core/backfill.py, the same as
`d2b-console --backfill`): first its dry run (the plan: every date with its inputs or why it is
skipped), then one run per date under the run lock, with each date's state live in its row, then the
export preview before the one export. The run takes the console's one run slot (RunController), so it
never runs beside a run of the main screen; `c` (or Ctrl+C) cancels it, and so does quitting.
"""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta
from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import ModalScreen
from textual.widgets import DataTable, Footer, Static

from etl_core import browse
from etl_core.backfill import BackfillOutcome, BackfillPlan, plan_backfill, run_backfill
from etl_core.config import Config
from etl_core.events import DayProgress, RunStarted, StageStarted
from etl_core.kinds import REPROCESS_CHOICES, Reprocess
from etl_core.services import Services
from tui.bridge import EventBridge
from tui.controller import Notice, RunController
from tui.export_gate import ExportGate
from tui.messages import (
    BackfillEnded,
    BackfillPlanned,
    ExportConfirmationWanted,
    PipelineEvent,
    ProgressMerged,
)
from tui.screens.backfill_plan import BackfillPlanScreen
from tui.screens.export_preview import ExportPreviewScreen
from tui.screens.range_prompt import DateRange, RangePrompt
from tui.status_style import NOTE
from tui.widgets.chrome.title_bar import TitleBar
from tui.widgets.days.day_table import DayTable
from tui.workers import describe, in_thread

SHOWN_DAYS = 30  # the dates shown at first, up to the configured ingestion date
UNCHOSEN = "not among the dates chosen in the Days view"
LOG_FLUSH_S = 0.25
LISTED_DATES = 5  # the failed or skipped dates named in the outcome line (the rows say the others)
REASON_CHARS = 200  # a reason in the outcome line (the highlighted date's detail has it in full)


def outcome_text(outcome: BackfillOutcome) -> str:
    """The backfill's result, short whatever the range: how many dates ended how, which dates failed or were
    skipped (the first few) and the first reason of each kind (each date's row has its own in full), the export."""
    plan = outcome.plan
    counts = Counter(day.status for day in outcome.days)
    text = f"backfill {plan.first} .. {plan.last} {outcome.status}: " + ", ".join(
        f"{n} {status}" for status, n in counts.items()
    )
    for status in ("failed", "skipped"):
        bad = [day for day in outcome.days if day.status == status]
        if bad:
            more = f" (+{len(bad) - LISTED_DATES} more)" if len(bad) > LISTED_DATES else ""
            text += f"; {status}: " + ", ".join(str(day.day) for day in bad[:LISTED_DATES]) + more
            text += f"; {bad[0].day} {status}: {cut(bad[0].reason)}"
    export = outcome.export
    if export is None:
        text += "; no export (no date succeeded)" if not outcome.days or "succeeded" not in counts else "; no export"
    else:
        stopped = export.failed_stage
        text += f"; export run #{export.run_id} {export.status}" + (f": {cut(stopped.error or '')}" if stopped else "")
    return text


def cut(reason: str) -> str:
    return reason if len(reason) <= REASON_CHARS else reason[: REASON_CHARS - 1] + "…"


class DaysScreen(ModalScreen[bool]):
    """Modal: Esc or d goes back (not while its backfill runs: c cancels it first), dismissed with whether it ran."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,d", "close", "Back", show=True),
        Binding("r", "run", "Run dates", show=True),
        Binding("space", "mark", "Mark", show=True),
        Binding("g", "range", "From–to", show=True),
        Binding("m", "reprocess", "Reprocess", show=True),
        Binding("p", "dry_run", "Dry run", show=True),
        Binding("c,ctrl+c", "cancel", "Cancel", show=True),
        Binding("q", "app.quit", "Quit", show=False),  # a modal screen hides the app's keys (asks, cancels the run)
    ]

    DEFAULT_CSS = """
    DaysScreen { background: $background; }
    DaysScreen #days-table { height: 1fr; }
    DaysScreen #days-detail { height: auto; max-height: 4; }
    DaysScreen #days-hint { height: auto; max-height: 6; }
    """

    def __init__(self, services: Services, runs: RunController, rerun: date | None = None) -> None:
        super().__init__()
        self.services = services
        self.runs = runs  # the console's one run slot
        self.reprocess: Reprocess = "missing"
        self.rerun = rerun  # a date to run as soon as it is shown (the history's rerun)
        self.backfill: BackfillPlan | None = None  # this view's backfill while it runs
        self.running_day: date | None = None
        self.gate: ExportGate | None = None
        self._bridge: EventBridge | None = None
        self._preview: ExportPreviewScreen | None = None
        self.outcome = ""  # the last backfill's result, said under the table
        self.ran = False  # a backfill ran from here (the main screen then shows the newest run)

    def compose(self) -> ComposeResult:
        yield TitleBar(["Days"], id="title")
        yield DayTable(self.services, id="days-table")
        yield Static("", id="days-detail")
        yield Static("", id="days-hint")
        yield Footer()

    def on_mount(self) -> None:
        last = self.services.config.pipeline.ingestion_date
        if self.rerun is not None and not last - timedelta(days=SHOWN_DAYS - 1) <= self.rerun <= last:
            last = self.rerun
        self.table.show_range(last - timedelta(days=SHOWN_DAYS - 1), last)
        self.table.focus()
        self.set_interval(LOG_FLUSH_S, self._flush_logs)
        self._hint()

    @property
    def table(self) -> DayTable:
        return self.query_one("#days-table", DayTable)

    def _hint(self, extra: str = "") -> None:
        text = Text()
        if self.outcome:
            text.append(self.outcome + "\n", style="bold")
        if extra:
            text.append(extra + "\n")
        marked = len(self.table.marked)
        text.append(
            f"reprocess {self.reprocess} (m)" + (f" · {marked} date(s) marked" if marked else "") + " · r runs the "
            "marked dates or the highlighted one · headless: d2b-console --backfill FROM TO",
            style=NOTE,
        )
        self.query_one("#days-hint", Static).update(text)

    # the table -------------------------------------------------------------------------------
    @on(DataTable.RowHighlighted, "#days-table")
    @on(DayTable.RowChanged)
    def _show_detail(self) -> None:
        row = self.table.highlighted
        self.query_one("#days-detail", Static).update(row.detail() if row is not None else "")

    @on(DayTable.InputsUnknown)
    def _inputs_unknown(self, message: DayTable.InputsUnknown) -> None:
        self._hint(message.reason)

    @on(DayTable.Loaded)
    def _loaded(self, _message: DayTable.Loaded) -> None:
        if self.rerun is not None:
            day, self.rerun = self.rerun, None
            self.table.go_to(day)
            self._plan([day], "all", run=True)  # a rerun runs the date whatever its state

    # the operator's keys -----------------------------------------------------------------------
    def action_mark(self) -> None:
        self.table.toggle_mark()
        self._hint()

    def action_reprocess(self) -> None:
        self.reprocess = REPROCESS_CHOICES[(REPROCESS_CHOICES.index(self.reprocess) + 1) % len(REPROCESS_CHOICES)]
        self._hint()
        self.notify(
            {
                "missing": "reprocess missing: dates without a successful run",
                "failed": "reprocess failed: dates whose newest run did not succeed",
                "all": "reprocess all: every chosen date, even those that succeeded",
            }[self.reprocess]
        )

    def action_range(self) -> None:
        def chosen(picked: DateRange | None) -> None:
            if picked is None:
                return
            first, last = picked
            table = self.table
            days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
            if table.first is None or table.last is None or first < table.first or last > table.last:
                table.show_range(first, last)
            table.mark(days)
            self._hint()
            self._plan(days, self.reprocess, run=True)

        self.app.push_screen(RangePrompt(), chosen)

    def action_run(self) -> None:
        self._plan(self._chosen(), self.reprocess, run=True)

    def action_dry_run(self) -> None:
        self._plan(self._chosen(), self.reprocess, run=False)

    def _chosen(self) -> list[date]:
        table = self.table
        if table.marked:
            return sorted(table.marked)
        row = table.highlighted
        return [row.day] if row is not None else []

    def action_cancel(self) -> None:
        token = self.runs.token
        if self.backfill is None or token is None:
            self.notify("nothing is running here" + (" (the main screen's run: c there)" if self.runs.running else ""))
        elif token.cancelled:
            self.notify("already cancelling …")
        else:
            self.run_worker(token.cancel, name="cancel", group="cancel", thread=True, exit_on_error=False)
            self.notify(
                "cancelling: the running date ends as a cancelled run, the later dates are not run", markup=False
            )

    def action_close(self) -> None:
        if self.backfill is not None:
            self.notify("a backfill is running: c cancels it, then Esc goes back", severity="warning")
            return
        self.dismiss(self.ran)

    # the dry run, then the backfill --------------------------------------------------------------
    def _plan(self, days: list[date], reprocess: Reprocess, run: bool) -> None:
        if not days:
            return
        if run and (busy := self.runs.busy()) is not None:
            self._tell(busy)
            return
        services, first, last = self.services, min(days), max(days)
        in_thread(
            self,
            f"plan of {first} .. {last}",
            lambda: plan_backfill(services, first, last, reprocess, only=days, unchosen=UNCHOSEN),
            lambda plan: BackfillPlanned(plan, run),
            group="days-plan",
            exclusive=True,
        )

    def on_backfill_planned(self, message: BackfillPlanned) -> None:
        plan = message.plan

        def answered(yes: bool | None) -> None:
            if yes:
                self._start(plan)

        self.app.push_screen(BackfillPlanScreen(plan, can_run=message.run), answered)

    def _start(self, plan: BackfillPlan) -> None:
        claimed = self.runs.claim(
            f"backfill {plan.first} .. {plan.last} running (Days view) · c cancels",
            f"the backfill {plan.first} .. {plan.last}",
        )
        if isinstance(claimed, Notice):
            self._tell(claimed)
            return
        token, services = claimed, self.services
        config = services.config
        destination = f"s3://{config.export.bucket}/{config.export.prefix}"
        export_config: list[Config] = [config]  # the export run's own (its date's), set as it asks
        gate = ExportGate(
            token,
            lambda: browse.preview_export(services, config=export_config[-1]),
            lambda previews: self.post_message(ExportConfirmationWanted(previews, destination)),
        )
        self.runs.gate = self.gate = gate

        def confirm_export(config: Config) -> bool:
            export_config.append(config)
            return gate()

        self.backfill, self.running_day, self.outcome, self.ran = plan, None, "", True
        self.table.clear_live()
        self._hint(f"backfill {plan.first} .. {plan.last}: {len(plan.to_run)} date(s) to run · c cancels")
        bridge = self._bridge = EventBridge(self.post_message)
        done = self.runs.run_done

        def work() -> None:
            try:
                outcome = run_backfill(services, plan, bridge, token, confirm_export=confirm_export)
            except Exception as exc:  # noqa: BLE001 - RunLocked, an unreachable warehouse: said, never a crash
                bridge.flush_logs()
                self.post_message(BackfillEnded(None, describe(exc)))
                return
            finally:
                done.set()
            bridge.flush_logs()
            self.post_message(BackfillEnded(outcome))

        self.run_worker(
            work, name=f"backfill {plan.first} .. {plan.last}", group="run", thread=True, exit_on_error=False
        )

    def _flush_logs(self) -> None:
        if self._bridge is not None:
            self._bridge.flush_logs()  # the log lines go on to the app, which shows them in the main log

    def on_pipeline_event(self, message: PipelineEvent) -> None:
        message.stop()
        event, table = message.event, self.table
        if isinstance(event, DayProgress):
            table.set_live(event)
            self.running_day = event.day if event.status == "running" else None
            if event.status == "running":
                self._hint(f"running {event.day} · c cancels")
        elif isinstance(event, RunStarted):
            self.runs.on_event(event)  # the run slot knows which run to name when quitting
            if self.running_day is not None:
                table.set_stage(self.running_day, None, event.run_id)
            else:
                self._hint(f"export run #{event.run_id}: the export preview comes first")
        elif isinstance(event, StageStarted) and self.running_day is not None:
            table.set_stage(self.running_day, event.stage)

    def on_progress_merged(self, message: ProgressMerged) -> None:
        message.stop()
        message.take()  # each date's row says its stage; the byte counts are in the main log

    def on_export_confirmation_wanted(self, message: ExportConfirmationWanted) -> None:
        message.stop()
        gate = self.gate
        preview = ExportPreviewScreen(message.previews, message.destination)

        def answered(confirmed: bool | None) -> None:
            if self._preview is not preview or gate is None:  # the backfill ended first
                return
            self._preview = None
            gate.answer(bool(confirmed))
            self.notify("exporting …" if confirmed else "export cancelled: nothing was written")

        self._preview = preview
        self.app.push_screen(preview, answered)

    def on_backfill_ended(self, message: BackfillEnded) -> None:
        preview, self._preview = self._preview, None
        if preview is not None:
            preview.dismiss(None)  # cancelled (quit, a signal) while its preview was open
        self._bridge, self.backfill, self.gate, self.running_day = None, None, None, None
        outcome = message.outcome
        if outcome is None and self.table.progressed():  # it stopped mid-way (the warehouse went away ...)
            self.table.stop_live(message.error or "")
            self.outcome = f"the backfill stopped: {message.error}"
            self.runs.release(self.outcome)
            self.notify(self.outcome, severity="error", markup=False)
        elif outcome is None:
            self.runs.release("the backfill did not start")
            self.table.clear_live()
            self.outcome = f"the backfill did not start: {message.error}"
            self.notify(self.outcome, severity="error", markup=False)
        else:
            self.outcome = outcome_text(outcome)
            self.runs.release(self.outcome)
            self.notify(
                self.outcome,
                title=f"backfill {outcome.status}",
                severity="information" if outcome.status == "succeeded" else "warning",
                markup=False,
                timeout=10,
            )
        self._hint()
        self.table.reload()

    def _tell(self, notice: Notice) -> None:
        self.notify(notice.message, severity=notice.severity, markup=False)
