"""The run controller on its own: no Textual, real core events from a real run, every decision a key needs."""

from __future__ import annotations

import subprocess
import sys

from etl_core.events import Event, RunSummary
from etl_core.kinds import StageName
from etl_core.pipeline import STAGES
from etl_core.services import open_services
from support import Env
from tui.clock import Clock
from tui.controller import AskResumePoint, ConfirmResume, Notice, RunController, StartRun
from tui_helpers import BAD_ORDERS


def test_the_controller_does_not_load_textual():
    code = "import sys, tui.controller; sys.exit('textual' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0


def _run(controller: RunController, env: Env, stages: tuple[StageName, ...]) -> RunSummary:
    """Run through the controller as the main screen does, with a plain list as the event sink."""
    events: list[Event] = []
    controller.begin(stages)
    with open_services(env.config) as services:
        summary = controller.job(services, stages, events.append, lambda _previews: None)()
    for event in events:
        controller.on_event(event)
    controller.on_run_ended(summary, None)
    return summary


def test_a_failed_run_then_retry_and_resume_decisions(env):
    env.put("orders.csv", BAD_ORDERS)
    controller = RunController(Clock())
    assert controller.retry() == AskResumePoint("retry")  # nothing on screen yet: ask the history
    assert controller.run(STAGES) == StartRun(STAGES)

    summary = _run(controller, env, STAGES)
    assert summary.status == "failed"
    statuses = {stage: view.status for stage, view in controller.views.items()}
    assert statuses == {"prepare": "succeeded", "staging": "failed", "analytics": "skipped", "export": "skipped"}
    assert "2022-13-45" in (controller.views["staging"].error or "")
    assert controller.status_line.startswith(f"run #{summary.run_id} failed in ")

    assert controller.retry() == StartRun(("staging",))
    resume = controller.resume()
    assert isinstance(resume, ConfirmResume) and resume.stages == ("staging", "analytics", "export")
    assert "In run #" in resume.body and "staging failed" in resume.body and "1. staging" in resume.body


def test_one_run_at_a_time_and_cancel(env):
    controller = RunController(Clock())
    assert controller.cancel() == (Notice("nothing is running"), None)
    controller.begin(STAGES)
    assert [v.status for v in controller.views.values()] == ["queued"] * 4
    refused = controller.run(STAGES)
    assert isinstance(refused, Notice) and "already in progress" in refused.message
    notice, token = controller.cancel()
    assert token is controller.token and notice.severity == "warning"
    assert token is not None
    token.cancel()
    assert controller.cancel()[1] is None  # a second cancel only says it is under way
