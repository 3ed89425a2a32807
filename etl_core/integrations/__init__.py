"""What the team's other tools hear of a run: OpenLineage events, a failure webhook, a metrics file.

Each is off unless configured, bounded in time, and never changes a run's outcome or exit code:
what goes wrong here becomes one WARNING line in the run's log.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from etl_core.events import Event, EventSink, LogLine, RunSummary
from etl_core.integrations import metrics
from etl_core.integrations.lineage import RunLineage, make_client
from etl_core.integrations.lineage_datasets import Datasets
from etl_core.integrations.notify import Notification, NotifyOn, notify_url, send_later
from etl_core.services import Services

BUDGET_S = 5.0  # the most a lineage backend or a webhook may delay the end of a run
CANCELLED_BUDGET_S = 1.0  # an operator who cancelled is waiting: lineage's ABORT gets less


class RunObservers:
    """Feed it the run's events; `finish` once with the summary (or `stopped` when an exception ended it)."""

    def __init__(self, services: Services, run_id: int, run_uuid: str):
        config = services.config
        self.run_id = run_id
        self.services = services
        self.notify_on: tuple[NotifyOn, ...] = config.notify.on
        self.metrics_path: Path | None = config.metrics.textfile
        client = make_client()
        self.lineage = (
            RunLineage(client, Datasets(config, services.warehouse_dsn()), run_uuid, config.pipeline.user_id)
            if client is not None
            else None
        )
        self._warnings: list[str] = []

    def __call__(self, event: Event) -> None:
        if self.lineage is not None:
            try:
                self.lineage(event)
            except Exception as exc:  # noqa: BLE001 - building an event must never fail the run
                self._warnings.append(f"OpenLineage: an event could not be built ({exc.__class__.__name__}: {exc})")

    def finish(self, summary: RunSummary, emit: EventSink) -> None:
        """The run ended with `summary`: end its lineage, write the metrics file, notify."""
        self._end(summary.status, _error(summary), summary)
        for warning in self._warnings:
            emit(LogLine(self.run_id, None, "WARNING", warning))

    def stopped(self, status: str, error: str) -> None:
        """An exception ended the run before its summary: lineage and the webhook still hear of it."""
        self._end(status, error, None)

    def _end(self, status: str, error: str | None, summary: RunSummary | None) -> None:
        started = time.monotonic()
        budget = CANCELLED_BUDGET_S if status == "cancelled" else BUDGET_S
        notified = self._notify_in_background(status, error, summary)
        if self.lineage is not None:
            try:
                self.lineage.run_ended(status, error)
            except Exception as exc:  # noqa: BLE001
                self._warnings.append(f"OpenLineage: the run's end could not be built ({exc.__class__.__name__})")
            sent, failures, left = self.lineage.close(budget - (time.monotonic() - started))
            if failures or left:
                first = f": {failures[0]}" if failures else ""
                self._warnings.append(
                    f"OpenLineage: {len(failures) + left} of {sent + len(failures) + left} events not delivered{first}"
                )
        if summary is not None and self.metrics_path is not None:
            try:
                metrics.write(self.metrics_path, summary, time.time())
            except OSError as exc:
                self._warnings.append(f"metrics: could not write {self.metrics_path} ({exc.strerror or exc})")
        if notified is not None:
            notified(max(0.0, BUDGET_S - (time.monotonic() - started)))

    def _notify_in_background(
        self, status: str, error: str | None, summary: RunSummary | None
    ) -> Callable[[float], None] | None:
        """Start the webhook's POST now, so it overlaps lineage's wait; the result waits for the caller."""
        notification = self._notification(status, error, summary)
        url = notify_url() if notification is not None else None
        if notification is None or url is None:
            return None
        waiting = send_later(url, notification, BUDGET_S)

        def wait(seconds: float) -> None:
            if problem := waiting(seconds):
                self._warnings.append(f"notification not delivered: {problem}")

        return wait

    def _notification(self, status: str, error: str | None, summary: RunSummary | None) -> Notification | None:
        config = self.services.config
        warned = [c for s in (summary.stages if summary else ()) for c in s.checks if not c.passed]
        if status == "failed" and "failure" in self.notify_on:
            kind: NotifyOn = "failure"
            text = f"d2b-console run #{self.run_id} failed for {config.pipeline.user_id}: {error or 'no error text'}"
        elif status == "succeeded" and warned and "warning" in self.notify_on:
            kind = "warning"
            names = ", ".join(c.name for c in warned)
            text = f"d2b-console run #{self.run_id} succeeded for {config.pipeline.user_id} with warnings: {names}"
        else:
            return None
        failed = summary.failed_stage if summary else None
        return Notification(
            kind,
            text,
            {
                "run_id": self.run_id,
                "status": status,
                "failed_stage": failed.stage if failed else None,
                "error": error,
                "log_path": summary.log_file if summary else None,
                "user_id": config.pipeline.user_id,
                "ingestion_date": config.pipeline.ingestion_date.isoformat(),
                "warehouse": self.services.warehouse_label,
                "checks_not_passed": [c.name for c in warned],
            },
        )


def _error(summary: RunSummary) -> str | None:
    failed = summary.failed_stage
    return f"{failed.stage}: {failed.error}" if failed and failed.error else None
