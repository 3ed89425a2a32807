"""OpenLineage events for each run and stage, sent by the `lineage` extra's client in the background.

Configured only the way OpenLineage's own client reads it (`openlineage.yml`, `OPENLINEAGE_CONFIG`,
`OPENLINEAGE_URL`, `OPENLINEAGE__TRANSPORT__*`); without any of those nothing is built or sent, and
`OPENLINEAGE_DISABLED=true` turns it off. Events go through a queue to one daemon thread, so a slow
or dead lineage backend never holds a stage up; the run waits for the queue at its end, at most
`budget_s` in all, then leaves the rest behind.
"""

from __future__ import annotations

import logging
import os
import queue
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from etl_core import __version__
from etl_core.events import Event, RunStarted, StageFinished, StageResult, StageStarted
from etl_core.integrations.lineage_datasets import Datasets
from etl_core.secrets import redact

if TYPE_CHECKING:
    from openlineage.client import OpenLineageClient
    from openlineage.client.event_v2 import InputDataset, OutputDataset, RunEvent

PRODUCER = f"https://pypi.org/project/d2b-console/{__version__}/"
NAMESPACE_ENV = "OPENLINEAGE_NAMESPACE"  # the job namespace, as OpenLineage's Airflow and dbt integrations read it
DEFAULT_NAMESPACE = "d2b"
EndState = Literal["COMPLETE", "FAIL", "ABORT"]
_END_STATE: dict[str, EndState] = {"succeeded": "COMPLETE", "failed": "FAIL", "cancelled": "ABORT"}


def lineage_configured() -> bool:
    """True when OpenLineage's own configuration names somewhere to send events (and it is not disabled)."""
    if os.environ.get("OPENLINEAGE_DISABLED", "").strip().lower() == "true":
        return False
    if os.environ.get("OPENLINEAGE_URL") or any(k.startswith("OPENLINEAGE__TRANSPORT__") for k in os.environ):
        return True
    candidates = [
        os.environ.get("OPENLINEAGE_CONFIG"),
        "openlineage.yml",
        os.path.expanduser("~/.openlineage/openlineage.yml"),
    ]
    return any(path and os.path.isfile(path) for path in candidates)


def make_client() -> OpenLineageClient | None:
    """The client as OpenLineage's configuration describes it; None when unconfigured or the extra is missing."""
    if not lineage_configured():
        return None
    try:
        from openlineage.client import OpenLineageClient
    except ImportError:
        return None
    # Its log lines would land on the operator's terminal (or across the console's screen): what did not
    # reach the backend is summed up in one WARNING of the run's log instead.
    quiet = logging.getLogger("openlineage")
    quiet.propagate = False
    if not quiet.handlers:
        quiet.addHandler(logging.NullHandler())
    return OpenLineageClient()


@dataclass
class _Sender:
    """One daemon thread that emits queued events; what it could not deliver is counted, never raised."""

    emit: Callable[[Any], None]
    events: queue.Queue[Any] = field(default_factory=queue.Queue)
    failures: list[str] = field(default_factory=list)
    sent: int = 0

    def __post_init__(self) -> None:
        threading.Thread(target=self._loop, name="openlineage", daemon=True).start()

    def _loop(self) -> None:
        while True:
            event = self.events.get()
            try:
                self.emit(event)
                self.sent += 1
            except Exception as exc:  # noqa: BLE001 - a lineage backend's failure must never reach the run
                self.failures.append(redact(f"{exc.__class__.__name__}: {exc}")[:300])
            finally:
                self.events.task_done()

    def drain(self, seconds: float) -> bool:
        """Wait until every queued event was tried, at most `seconds`; True when it got there."""
        deadline = time.monotonic() + seconds
        while self.events.unfinished_tasks:
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.02)
        return True


class RunLineage:
    """Turns one run's events into OpenLineage RunEvents: the run as a job, each stage as a child job."""

    def __init__(self, client: OpenLineageClient, datasets: Datasets, run_uuid: str, user_id: str):
        from openlineage.client.event_v2 import set_producer

        set_producer(PRODUCER)
        self.datasets = datasets
        self.namespace = os.environ.get(NAMESPACE_ENV, "").strip() or DEFAULT_NAMESPACE
        self.job_name = f"d2b.{user_id}"
        self.run_uuid = run_uuid
        self.sender = _Sender(client.emit)
        self._stage_uuids: dict[str, str] = {}
        self._inputs: list[InputDataset] = []
        self._outputs: list[OutputDataset] = []

    def __call__(self, event: Event) -> None:
        if isinstance(event, RunStarted):
            self._send("START", self.job_name, self.run_uuid, event.at.isoformat())
        elif isinstance(event, StageStarted):
            stage_uuid = str(uuid.uuid5(uuid.UUID(self.run_uuid), event.stage))
            self._stage_uuids[event.stage] = stage_uuid
            self._send("START", self._stage_job(event.stage), stage_uuid, event.at.isoformat(), stage=event.stage)
        elif isinstance(event, StageFinished) and event.result.stage in self._stage_uuids:
            self._stage_finished(event.result)

    def run_ended(self, status: str, error: str | None) -> None:
        """The run's one COMPLETE, FAIL or ABORT, with every dataset its stages read and wrote."""
        state = _END_STATE.get(status, "FAIL")
        self._send(state, self.job_name, self.run_uuid, None, inputs=self._inputs, outputs=self._outputs, error=error)

    def close(self, seconds: float) -> tuple[int, list[str], int]:
        """Wait at most `seconds` for the queue; (sent, failures, left behind)."""
        self.sender.drain(max(0.0, seconds))
        return self.sender.sent, list(self.sender.failures), self.sender.events.unfinished_tasks

    def _stage_job(self, stage: str) -> str:
        return f"{self.job_name}.{stage}"

    def _stage_finished(self, result: StageResult) -> None:
        inputs, outputs = self.datasets.for_stage(result) if result.status == "succeeded" else ([], [])
        self._inputs += [d for d in inputs if d.name not in {i.name for i in self._inputs}]
        self._outputs += [d for d in outputs if d.name not in {o.name for o in self._outputs}]
        state = _END_STATE.get(result.status, "FAIL")
        when = (result.started_at.timestamp() + result.duration_s) if result.started_at is not None else time.time()
        from datetime import UTC, datetime

        self._send(
            state,
            self._stage_job(result.stage),
            self._stage_uuids[result.stage],
            datetime.fromtimestamp(when, UTC).isoformat(),
            stage=result.stage,
            inputs=inputs,
            outputs=outputs,
            error=result.error if state != "COMPLETE" else None,
        )

    def _send(
        self,
        state: str,
        job_name: str,
        run_uuid: str,
        at: str | None,
        *,
        stage: str | None = None,
        inputs: list[InputDataset] | None = None,
        outputs: list[OutputDataset] | None = None,
        error: str | None = None,
    ) -> None:
        self.sender.events.put(
            self._event(state, job_name, run_uuid, at, stage=stage, inputs=inputs, outputs=outputs, error=error)
        )

    def _event(
        self,
        state: str,
        job_name: str,
        run_uuid: str,
        at: str | None,
        *,
        stage: str | None,
        inputs: list[InputDataset] | None,
        outputs: list[OutputDataset] | None,
        error: str | None,
    ) -> RunEvent:
        from datetime import UTC, datetime

        from openlineage.client.event_v2 import Job, Run, RunEvent, RunState
        from openlineage.client.facet_v2 import error_message_run, job_type_job, parent_run, sql_job

        run_facets: dict[str, Any] = {}
        if stage is not None:
            run_facets["parent"] = parent_run.ParentRunFacet(
                run=parent_run.Run(runId=self.run_uuid),
                job=parent_run.Job(namespace=self.namespace, name=self.job_name),
            )
        if error:
            run_facets["errorMessage"] = error_message_run.ErrorMessageRunFacet(
                message=redact(error), programmingLanguage="python"
            )
        job_facets: dict[str, Any] = {
            "jobType": job_type_job.JobTypeJobFacet(
                processingType="BATCH", integration="D2B_CONSOLE", jobType="TASK" if stage else "JOB"
            )
        }
        if stage == "analytics":
            job_facets["sql"] = sql_job.SQLJobFacet(query=self.datasets.analytics_sql())
        return RunEvent(
            eventType=RunState[state],
            eventTime=at or datetime.now(UTC).isoformat(),
            run=Run(runId=run_uuid, facets=run_facets),
            job=Job(namespace=self.namespace, name=job_name, facets=job_facets),
            inputs=list(inputs or []),
            outputs=list(outputs or []),
            producer=PRODUCER,
        )
