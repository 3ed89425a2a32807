"""The headless day commands: `--backfill FROM TO [--reprocess ...] [--dry-run]`, `--resume` of a backfill, `--status`.

Output: progress on stderr (the reporter), one line per date and the outcome on stdout, or with
`--json` one entry per date (status, run id, inputs, rows, or the skip reason).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from etl_core.backfill import BackfillOutcome, BackfillPlan, DayOutcome, DayPlan, plan_backfill, run_backfill
from etl_core.daily_status import daily_status
from etl_core.errors import EXIT_FAILED, EXIT_OK
from etl_core.events import CancelToken, RunSummary
from etl_core.integrations.notify import notify_stale
from etl_core.kinds import LogLevel, Reprocess
from etl_core.services import Services

if TYPE_CHECKING:
    from etl_core.cli import ProgressReporter

EmitJson = Callable[[dict[str, Any]], None]


def backfill_dry_run(
    services: Services, first: date, last: date, reprocess: Reprocess, emit_json: EmitJson | None
) -> int:
    """Print every date with its inputs or why it would be skipped, and the decision; change nothing."""
    plan = plan_backfill(services, first, last, reprocess)
    if emit_json is not None:
        emit_json({"status": "dry run", "exit_code": EXIT_OK, **_plan_json(plan)})
        return EXIT_OK
    print(
        f"backfill {first} .. {last}, --reprocess {reprocess}: inputs by {_mode_text(plan)}; "
        f"{len(plan.to_run)} of {len(plan.days)} date(s) would run, then one export; nothing was changed"
    )
    for day in plan.days:
        print(f"  {day.day}  {day.decision.upper():<4}  {day.reason}")
        for found in day.inputs.inputs:
            print(f"      {found.label}")
    return EXIT_OK


def backfill(
    services: Services,
    plan: BackfillPlan,
    reporter: ProgressReporter,
    cancel: CancelToken,
    cancelled_code: Callable[[], int],  # the signal's exit code, known once a signal came
    emit_json: EmitJson | None,
) -> int:
    """Run the plan; exit 0 when every wanted date and the export succeeded (or nothing was left to run)."""
    wanted = len(plan.to_run)
    reporter.line(
        "INFO",
        f"backfill {plan.first} .. {plan.last} (--reprocess {plan.reprocess}, inputs by {_mode_text(plan)}): "
        f"{wanted} date(s) to run"
        + (f", {len(plan.skipped_for_inputs)} skipped for missing inputs" if plan.skipped_for_inputs else ""),
    )

    def on_day(day: DayOutcome) -> None:
        level: LogLevel = "INFO" if day.status == "succeeded" else "WARNING" if day.status == "cancelled" else "ERROR"
        run = f"run #{day.summary.run_id} " if day.summary else ""
        reporter.line(level, f"[backfill] {day.day}: {run}{day.status}" + (f": {day.reason}" if day.reason else ""))

    outcome = run_backfill(services, plan, reporter.handle, cancel, on_day)
    if outcome.status == "cancelled":
        code = cancelled_code()
    elif outcome.status == "succeeded" or (not plan.to_run and not outcome.days):
        code = EXIT_OK
    else:
        code = EXIT_FAILED
    if not plan.to_run and not outcome.days:
        reporter.line("INFO", "[backfill] nothing to run: every date of the range is done (no run was started)")
    if emit_json is not None:
        emit_json(_outcome_json(outcome, code))
    else:
        _print_outcome(outcome)
    return code


def status(services: Services, emit_json: EmitJson | None) -> int:
    with services.transaction("status") as cur:
        found = daily_status(cur, services.config)
    if problem := notify_stale(services.config, found):
        print(f"WARNING notification not delivered: {problem}", file=sys.stderr)
    if emit_json is not None:
        emit_json(found.as_json(datetime.now().astimezone()))
    else:
        print(found.line)
    return found.exit_code


def _mode_text(plan: BackfillPlan) -> str:
    return {
        "dated": "date folder ({date} in the prefix)",
        "versioned": "version (newest by the end of each date, UTC)",
        "latest": "the objects as they are now",
    }[plan.mode]


def _day_plan_json(day: DayPlan) -> dict[str, Any]:
    return {
        "date": day.day.isoformat(),
        "decision": day.decision,
        "reason": day.reason,
        "history": day.history.status,
        "inputs": [found.as_json() for found in day.inputs.inputs],
        "missing": day.inputs.missing,
    }


def _plan_json(plan: BackfillPlan) -> dict[str, Any]:
    return {
        "from": plan.first.isoformat(),
        "to": plan.last.isoformat(),
        "reprocess": plan.reprocess,
        "inputs_by": plan.mode,
        "dates": [_day_plan_json(day) for day in plan.days],
    }


def _outcome_json(outcome: BackfillOutcome, code: int) -> dict[str, Any]:
    by_day = {day.day: day for day in outcome.days}
    dates = []
    for planned in outcome.plan.days:
        done = by_day.get(planned.day)
        entry: dict[str, Any] = {"date": planned.day.isoformat()}
        if done is None:
            entry |= {"status": "skipped" if planned.decision == "skip" else "not run", "reason": planned.reason}
        else:
            entry |= {"status": done.status, "reason": done.reason or None}
        summary = done.summary if done else None
        entry["run_id"] = summary.run_id if summary else None
        entry["inputs"] = _inputs_with_rows(summary) if summary else [f.as_json() for f in planned.inputs.inputs]
        entry["rows"] = _staging_rows(summary) if summary else None
        dates.append(entry)
    export = outcome.export
    return {
        "status": outcome.status,
        "exit_code": code,
        "backfill_id": outcome.backfill_id,
        "from": outcome.plan.first.isoformat(),
        "to": outcome.plan.last.isoformat(),
        "reprocess": outcome.plan.reprocess,
        "inputs_by": outcome.plan.mode,
        "dates": dates,
        "export": None
        if export is None
        else {
            "run_id": export.run_id,
            "status": export.status,
            "exports": [d["uri"] for s in export.stages if s.stage == "export" for d in s.details.values()],
        },
    }


def _inputs_with_rows(summary: RunSummary) -> list[dict[str, Any]]:
    staging = next((s for s in summary.stages if s.stage == "staging"), None)
    if staging is None:
        return []
    return [
        {
            k: v
            for k, v in details.items()
            if k in ("table", "key", "version_id", "etag", "size", "last_modified", "rows")
        }
        for details in staging.details.values()
        if isinstance(details, dict) and "key" in details
    ]


def _staging_rows(summary: RunSummary) -> int | None:
    staging = next((s for s in summary.stages if s.stage == "staging"), None)
    return staging.rows if staging is not None and staging.status == "succeeded" else None


def _print_outcome(outcome: BackfillOutcome) -> None:
    lines = [f"backfill {outcome.plan.first} .. {outcome.plan.last} {outcome.status.upper()}"]
    by_day = {day.day: day for day in outcome.days}
    for planned in outcome.plan.days:
        done = by_day.get(planned.day)
        if done is None:
            lines.append(f"  {planned.day}  skipped    {planned.reason}")
            continue
        run = f"run #{done.summary.run_id}" if done.summary else ""
        rows = _staging_rows(done.summary) if done.summary else None
        detail = f"{rows:,} rows" if rows is not None else done.reason
        lines.append(f"  {planned.day}  {done.status:<10} {run} {detail}".rstrip())
    if outcome.export is not None:
        lines.append(f"  export: run #{outcome.export.run_id} {outcome.export.status}")
    print("\n".join(lines), flush=True)
