"""The main screen's run control: carries out the controller's decisions and shows what a run changes.

The controller (tui/controller.py, no Textual) decides; this part starts the run's worker, feeds
the core's events back to the controller and shows each change in the pipeline and the log.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import work
from textual.screen import Screen

from etl_core.events import RunStarted
from etl_core.kinds import STAGE_NAMES as STAGES
from tui.bridge import EventBridge
from tui.controller import AskResumePoint, ConfirmResume, Decision, Notice, StageChange, StartRun
from tui.messages import (
    ExportConfirmationWanted,
    LastRunLoaded,
    PipelineEvent,
    ProgressMerged,
    ResumePointReady,
    RunEnded,
)
from tui.screens.confirm import ConfirmScreen
from tui.workers import describe

if TYPE_CHECKING:
    from etl_core.kinds import StageName
    from etl_core.services import Services
    from tui.screens.main import MainScreen

RunMessage = PipelineEvent | ProgressMerged | RunEnded | ResumePointReady | LastRunLoaded


class RunControl:
    """Runs, retries, resumes and cancels on the main screen (registry scope "main")."""

    def __init__(self, screen: MainScreen) -> None:
        self.screen = screen
        self.controller = screen.controller
        self.panes = screen.panes
        self.host = screen.host
        self._bridge: EventBridge | None = None

    # the operator's keys --------------------------------------------------------------------
    def run_all(self) -> None:
        self.carry_out(self.controller.run(STAGES))

    def run_selected(self) -> None:
        self.carry_out(self.controller.run((self.panes.pipeline.selected_stage,)))

    def retry(self) -> None:
        self.carry_out(self.controller.retry())

    def resume(self) -> None:
        self.carry_out(self.controller.resume())

    def cancel(self) -> None:
        notice, token = self.controller.cancel()
        if token is not None:
            self.host.ui_log("cancel requested by the operator", "WARNING")
            self.screen.run_worker(token.cancel, name="cancel", group="cancel", thread=True, exit_on_error=False)
        self.host.tell(notice)

    def carry_out(self, decision: Decision) -> None:
        if isinstance(decision, Notice):
            self.host.tell(decision)
        elif isinstance(decision, StartRun):
            self.start_run(decision.stages)
        elif isinstance(decision, AskResumePoint):
            if (services := self.host.need_services()) is not None:
                find_resume_point(self.screen, services, decision.mode)
        elif isinstance(decision, ConfirmResume):
            stages = decision.stages

            def answered(yes: bool | None) -> None:
                if yes:
                    self.carry_out(self.controller.run(stages))
                else:
                    self.screen.notify("resume cancelled")

            self.screen.app.push_screen(ConfirmScreen(decision.title, decision.body, yes="Run"), answered)

    # a run ----------------------------------------------------------------------------------
    def start_run(self, stages: tuple[StageName, ...]) -> bool:
        services = self.host.need_services()
        if services is None:
            return False
        for view in self.controller.begin(stages):
            self.panes.pipeline.show(view)
        screen = self.screen
        bridge = EventBridge(screen.post_message)
        self._bridge = bridge
        config = services.config
        destination = f"s3://{config.export.bucket}/{config.export.prefix}"
        job = self.controller.job(
            services,
            stages,
            bridge,
            lambda previews: screen.post_message(ExportConfirmationWanted(previews, destination)),
        )
        self.panes.show_bottom("log")
        self.panes.status(self.controller.status_line)
        done = self.controller.run_done

        def work() -> None:
            try:
                summary = job()
            except Exception as exc:  # noqa: BLE001 - RunLocked, an unreachable warehouse: the run never started
                bridge.flush_logs()
                screen.post_message(RunEnded(None, describe(exc)))
                return
            finally:
                done.set()
            bridge.flush_logs()
            from etl_core.dimension_provenance import describe_dimensions, dimensions_fact  # after the first frame

            described = describe_dimensions(services)  # loaded since the console connected? the title follows
            screen.post_message(RunEnded(summary, dimensions=dimensions_fact(described) if described else None))

        screen.run_worker(work, name="run " + ",".join(stages), group="run", thread=True, exit_on_error=False)
        return True

    def flush_logs(self) -> None:
        """The run's trailing log lines (the bridge batches them)."""
        if self._bridge is not None:
            self._bridge.flush_logs()

    def handle(self, message: RunMessage) -> None:
        """A message of the run's worker (or of the history) to the main screen."""
        if isinstance(message, PipelineEvent):
            self._on_event(message)
        elif isinstance(message, ProgressMerged):
            for view in self.controller.on_progress(message.take()):
                self.panes.pipeline.show(view)
        elif isinstance(message, RunEnded):
            self._on_run_ended(message)
        elif isinstance(message, ResumePointReady):
            self.carry_out(self.controller.resume_point_found(message.point, message.mode, message.has_runs))
        else:
            changed = self.controller.restore(message.run, message.stages, message.stale)
            for view in changed:
                self.panes.pipeline.show(view)
            if changed:
                self.panes.status(self.controller.status_line)

    def _on_event(self, message: PipelineEvent) -> None:
        event = message.event
        if isinstance(event, RunStarted):
            self.panes.log_pane.run_started(event.run_id, event.stages, event.at)
        change = self.controller.on_event(event)
        self.panes.status(self.controller.status_line)
        if change is not None:
            self.show_change(change)

    def show_change(self, change: StageChange) -> None:
        panes = self.panes
        panes.pipeline.show(change.view)
        if change.log is not None:
            panes.log_pane.add_lines([change.log])
        if change.stopped:
            panes.pipeline.select_stage(change.view.stage)
            panes.show_bottom("log")
            panes.log_view.set_filters(stage=change.view.stage, level="INFO")  # the failed stage's log, error last
        if change.notice is not None:
            self.host.tell(change.notice, timeout=10)
        if change.refresh_warehouse:
            panes.warehouse.refresh_listing()
        if change.refresh_lake:
            panes.lake.refresh_listing()

    def _on_run_ended(self, message: RunEnded) -> None:
        self._bridge = None
        self.screen.export_gate.run_ended()
        outcome = self.controller.on_run_ended(message.summary, message.error)
        for view in outcome.changed:
            self.panes.pipeline.show(view)
        self.panes.status(self.controller.status_line)
        if message.dimensions is not None:
            self.host.show_dimensions(message.dimensions)
        if outcome.log_file:
            self.panes.log_view.log_file = outcome.log_file
        if outcome.log:
            self.host.ui_log(outcome.log)
        if outcome.notice is not None:
            if outcome.notice.severity == "error":
                self.host.report_error(outcome.notice.title, outcome.notice.message)
            else:
                self.host.tell(outcome.notice)


# Thread workers of the main screen: each posts its result; a failure is reported by the app (its worker backstop).
@work(thread=True, exit_on_error=False, name="find where the last run stopped", group="history")
def find_resume_point(screen: Screen[None], services: Services, mode: str) -> None:
    from etl_core import browse  # the core's heavy modules load after the first frame
    from etl_core.pipeline import resume_point

    point = resume_point(services)
    screen.post_message(ResumePointReady(point, mode, bool(browse.recent_runs(services, limit=1))))


@work(thread=True, exit_on_error=False, name="load the last run", group="history")
def load_last_run(screen: Screen[None], services: Services) -> None:
    from etl_core import browse

    runs = browse.recent_runs(services, limit=1)
    stale = {stage: found.reason for stage, found in browse.stale_stages(services).items()}
    loaded = (
        LastRunLoaded(runs[0], browse.newest_stages(services, runs[0].run_id), stale)
        if runs
        else LastRunLoaded(None, [])
    )
    screen.post_message(loaded)
