"""`--status`: has today's date succeeded, by its deadline? One line for a monitor or cron, and an exit code."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any

from etl_core import history
from etl_core.config import Config
from etl_core.errors import EXIT_FAILED, EXIT_OK
from etl_core.history import RunRecord
from etl_core.history_days import DayStatus, runs_by_date


@dataclass(frozen=True)
class DailyStatus:
    user_id: str
    today: date  # the configured ingestion date ("today" by default)
    today_state: DayStatus
    last_success: RunRecord | None
    last_run: RunRecord | None
    deadline: str  # "HH:MM" local time, or ""
    late: bool  # the deadline has passed without a success today
    exit_code: int
    line: str

    def as_json(self, now: datetime) -> dict[str, Any]:
        success = self.last_success
        return {
            "user_id": self.user_id,
            "date": self.today.isoformat(),
            "state": self.today_state,
            "deadline": self.deadline or None,
            "late": self.late,
            "last_success": None
            if success is None
            else {
                "run_id": success.run_id,
                "ingestion_date": success.ingestion_date.isoformat(),
                "finished_at": (success.finished_at or success.started_at).isoformat(),
                "age_hours": round(_age_hours(success, now), 2),
            },
            "last_run": None
            if self.last_run is None
            else {"run_id": self.last_run.run_id, "status": self.last_run.status},
            "exit_code": self.exit_code,
            "status": self.line,
        }


def daily_status(cur: Any, config: Config, now: datetime | None = None) -> DailyStatus:
    """Exit 0 when today's date has succeeded; 1 when it has not by `[pipeline] deadline` (local time), or,
    without a deadline, when the newest run failed; 0 before the deadline."""
    now = now or datetime.now().astimezone()
    today = config.pipeline.ingestion_date
    days = runs_by_date(cur, config)
    state: DayStatus = days[today].status if today in days else "missing"
    successes = [run for day in days.values() if (run := day.last_success) is not None]
    last_success = max(successes, key=lambda run: run.finished_at or run.started_at, default=None)
    runs = history.list_runs(cur, config, limit=1)
    last_run = runs[0] if runs else None
    deadline = config.pipeline.deadline
    succeeded = state == "succeeded"
    late = not succeeded and bool(deadline) and now.time() >= time.fromisoformat(deadline)
    if succeeded:
        code = EXIT_OK
    elif deadline:
        code = EXIT_FAILED if late else EXIT_OK
    else:
        code = (
            EXIT_FAILED if last_run is not None and last_run.status in ("failed", "cancelled", "abandoned") else EXIT_OK
        )
    return DailyStatus(
        config.pipeline.user_id,
        today,
        state,
        last_success,
        last_run,
        deadline,
        late,
        code,
        _line(config, today, state, last_success, last_run, deadline, late, now),
    )


def _line(
    config: Config,
    today: date,
    state: DayStatus,
    success: RunRecord | None,
    last_run: RunRecord | None,
    deadline: str,
    late: bool,
    now: datetime,
) -> str:
    verdict = "OK" if state == "succeeded" else "LATE" if late else "PENDING" if deadline else "NOT DONE"
    parts = [f"{verdict}: {config.pipeline.user_id} {today} {state}"]
    if deadline:
        parts.append(f"deadline {deadline} local" + (" passed" if late else ""))
    if success is not None:
        parts.append(
            f"last success run #{success.run_id} (ingestion date {success.ingestion_date}) "
            f"{_age_hours(success, now):.1f} h ago"
        )
    else:
        parts.append("no successful run yet")
    if last_run is not None and last_run.status != "succeeded":
        parts.append(f"last run #{last_run.run_id} {last_run.status}")
    return "; ".join(parts)


def _age_hours(run: RunRecord, now: datetime) -> float:
    finished = run.finished_at or run.started_at
    if finished.tzinfo is None:
        finished = finished.replace(tzinfo=UTC)
    return max(0.0, (now - finished).total_seconds() / 3600)
