"""The headless entry: `d2b-console --run-all` with progress on stderr, a summary, and exit codes.

Exit codes: 0 success; 1 a stage or an ERROR check failed (or another run holds the lock);
2 bad configuration or usage; 3 S3 or the warehouse could not be reached; 130 interrupted
(Ctrl-C), 143 SIGTERM, 129 SIGHUP.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import json
import os
import signal
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, NoReturn, TextIO, cast

from etl_core import cli_days
from etl_core.backfill import backfill_to_resume, plan_backfill
from etl_core.background import BackgroundCall
from etl_core.command_line import build_parser, is_headless, usage_problem
from etl_core.config import Config, load_config
from etl_core.crash_report import report_crash
from etl_core.dimension_load import load_dimensions
from etl_core.dimension_provenance import describe_dimensions
from etl_core.dry_run import dry_run_plan, print_plan
from etl_core.errors import EXIT_CONFIG, EXIT_FAILED, EXIT_OK, Cancelled, ConfigError, D2BError
from etl_core.events import (
    CancelToken,
    Event,
    LogLine,
    RunFinished,
    RunSummary,
    StageFinished,
    StageProgress,
    StageStarted,
)
from etl_core.kinds import LogLevel, Reprocess, StageName
from etl_core.pipeline import STAGES, resume_point, run_pipeline, stages_from
from etl_core.psycopg2_noise import drop_copy_noise
from etl_core.s3_names import endpoint_label
from etl_core.secrets import redact
from etl_core.services import Services, open_services
from etl_core.signals import DESCRIPTIONS, CancelSignals, StopNow

STOP_SERVICES_S = 3.0  # after a second signal: how long the embedded services get to stop
FINISH_AFTER_SIGNAL_S = 3.0  # after a first signal: how long the run gets to stop cleanly before it stops at once
# When the run did not stop in time: what is left of the 5 s a signal promises (they stop by themselves anyway).
LATE_STOP_SERVICES_S = 1.0


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m etl_core`: a headless run only, as the terminal UI lives outside the core."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not is_headless(args):
        parser.error(
            "choose --run-all, --stage, --resume, --dry-run, --backfill or --status (the terminal UI is `d2b-console`)"
        )
    return run_headless(args)


def run_headless(args: argparse.Namespace) -> int:
    reporter = ProgressReporter(sys.stderr)
    if problem := usage_problem(args):
        return _usage_error(problem, args.json)
    cancel = CancelToken()
    signals = CancelSignals(
        cancel,
        on_first=lambda signum: reporter.line(
            "WARNING", f"{DESCRIPTIONS[signum]}: cancelling the running stage (press Ctrl-C again to stop at once)"
        ),
    )
    opened: list[Services] = []
    restore_hook = drop_copy_noise()
    try:
        with signals:
            # The work runs on another thread: the main thread only waits, so a signal's handler runs at
            # once whatever the work is blocked on.
            work = BackgroundCall(lambda: _run(args, reporter, cancel, signals, opened), "d2b-console-run")
            try:
                return _wait_for(work, cancel, signals)
            except StopNow as stop:
                _stop_at_once(stop, signals.exit_code, opened, reporter, args.json)
                raise AssertionError("unreachable") from None
    finally:
        restore_hook()
        reporter.close()


def _wait_for(work: BackgroundCall[int], cancel: CancelToken, signals: CancelSignals) -> int:
    """The work's exit code; after a signal, the work gets `FINISH_AFTER_SIGNAL_S` to record the run and
    print its summary, then the process stops at once (StopNow), whatever the work is blocked on."""
    try:
        return work.result(cancel)
    except Cancelled:
        pass
    try:
        return work.result(timeout=FINISH_AFTER_SIGNAL_S)
    except TimeoutError:
        raise StopNow(signals.received or signal.SIGINT, late=True) from None


@dataclass(frozen=True)
class Headless:
    """What every step of a headless run reports to and answers to: the options, the output, the signals."""

    args: argparse.Namespace
    reporter: ProgressReporter
    cancel: CancelToken
    signals: CancelSignals

    def info(self, message: str) -> None:
        self.reporter.line("INFO", message)

    def warn(self, message: str) -> None:
        self.reporter.line("WARNING", message)

    def emit(self) -> Callable[[dict[str, Any]], None] | None:
        """Where the `--json` payloads of the days' commands go (None without --json)."""
        return (lambda payload: _emit_json(payload, True)) if self.args.json else None


def _run(
    args: argparse.Namespace,
    reporter: ProgressReporter,
    cancel: CancelToken,
    signals: CancelSignals,
    opened: list[Services],
) -> int:
    """The headless start-up, in order: the config; the modes that open no services (the dry run, loading
    dimensions); else the services (started, reached, seeded) and the one thing asked of them."""
    run = Headless(args, reporter, cancel, signals)
    config: Config | None = None
    try:
        config = _load_config(run)
        if problem := _demo_scale_problem(args, config):
            return _usage_error(problem, args.json)
        if args.dry_run and not args.backfill:
            return _dry_run(config, reporter, args.demo_scale, args.json)
        if args.load_dimensions:
            return _load_dimensions(run, config)
        seed = not (args.status or args.dry_run)  # read-only commands create nothing
        with open_services(config, log=run.info, demo_scale=args.demo_scale, seed=seed, cancel=cancel) as services:
            opened.append(services)
            return _serve(run, services)
    except Cancelled:  # during the start-up checks: nothing was changed
        return _stopped_before_the_run(run)
    except D2BError as exc:
        # A signal that came meanwhile still ends the process with its own code (as after a failed stage).
        code = signals.exit_code if signals.received is not None else exc.exit_code
        for warning in exc.warnings if isinstance(exc, ConfigError) else ():
            reporter.line("WARNING", warning)
        reporter.line("ERROR", str(exc))
        _emit_json({"status": "error", "exit_code": code, "error": redact(str(exc))}, args.json)
        return code
    except Exception as exc:  # noqa: BLE001 - anything unforeseen: one line and a crash report, never a traceback
        crash = report_crash(exc, config.console.state_dir if config else None, "headless run")
        reporter.line("ERROR", crash.operator_line)
        code = signals.exit_code if signals.received is not None else EXIT_FAILED
        _emit_json({"status": "error", "exit_code": code, "error": crash.operator_line}, args.json)
        return code


def _load_config(run: Headless) -> Config:
    config = load_config(run.args.config)
    for warning in config.warnings:
        run.warn(warning)
    return config


def _demo_scale_problem(args: argparse.Namespace, config: Config) -> str | None:
    if args.demo_scale is None or config.source_embedded:
        return None
    return (
        f"--demo-scale applies only to the embedded S3, and {config.path} sets [source] "
        f"endpoint_url = {endpoint_label(config.source.endpoint_url)!r}"
    )


def _load_dimensions(run: Headless, config: Config) -> int:
    loaded = load_dimensions(config, Path(run.args.load_dimensions), run.info)
    run.info(f"the warehouse now computes on {loaded.text()}")
    _emit_json({"status": "loaded", "exit_code": EXIT_OK, "dimensions": loaded.as_json()}, run.args.json)
    return EXIT_OK


def _serve(run: Headless, services: Services) -> int:
    """The one thing asked of the open services: the status, a backfill (new or resumed), or a run."""
    args = run.args
    if args.status:
        return cli_days.status(services, run.emit())
    if args.backfill:
        return _backfill(run, services)
    if args.resume and (resumed := _resume_backfill(run, services)) is not None:
        return resumed
    return _run_stages(run, services)


def _backfill(run: Headless, services: Services) -> int:
    (first, last), reprocess = run.args.backfill, cast(Reprocess, run.args.reprocess or "missing")
    if run.args.dry_run:
        return cli_days.backfill_dry_run(services, first, last, reprocess, run.emit())
    plan = plan_backfill(services, first, last, reprocess, cancel=run.cancel)
    return cli_days.backfill(services, plan, run.reporter, run.cancel, lambda: run.signals.exit_code, run.emit())


def _resume_backfill(run: Headless, services: Services) -> int | None:
    """--resume when a backfill was interrupted: the dates it had left (None: no backfill to resume)."""
    pending = backfill_to_resume(services, run.warn)
    if pending is None:
        return None
    interrupted, left = pending
    run.info(
        f"resuming backfill #{interrupted.backfill_id} ({interrupted.first} .. {interrupted.last}, "
        f"{interrupted.status}): {len(left)} date(s) left"
    )
    plan = plan_backfill(
        services,
        interrupted.first,
        interrupted.last,
        "all",
        only=left,
        backfill_id=interrupted.backfill_id,
        cancel=run.cancel,
    )
    return cli_days.backfill(services, plan, run.reporter, run.cancel, lambda: run.signals.exit_code, run.emit())


def _run_stages(run: Headless, services: Services) -> int:
    """The pipeline's stages (every one, those named, or from the resume point), then the summary."""
    args, signals, config = run.args, run.signals, services.config
    stages = _choose_stages(args, services, run.reporter)
    if not stages:
        _emit_json({"status": "nothing to resume", "exit_code": EXIT_OK}, args.json)
        return EXIT_OK
    if run.cancel.cancelled:
        return _stopped_before_the_run(run)
    summary = run_pipeline(services, stages, sink=run.reporter.handle, cancel=run.cancel)
    code = {"succeeded": EXIT_OK, "cancelled": signals.exit_code}.get(summary.status, EXIT_FAILED)
    if signals.received is not None:  # a signal after a stage failed still ends the run with its code
        code = signals.exit_code
    run.reporter.summary(summary, config, to=sys.stderr if args.json else sys.stdout)
    payload = summary_json(summary, config, code)
    payload["dimensions"] = describe_dimensions(services)
    _emit_json(payload, args.json)
    return code


def _stopped_before_the_run(run: Headless) -> int:
    run.warn("stopped before the run started: nothing was changed")
    _emit_json({"status": "interrupted", "exit_code": run.signals.exit_code}, run.args.json)
    return run.signals.exit_code


def _usage_error(problem: str, as_json: bool) -> int:
    print(f"d2b-console: {problem}", file=sys.stderr)
    _emit_json({"status": "error", "exit_code": EXIT_CONFIG, "error": problem}, as_json)
    return EXIT_CONFIG


def _stop_at_once(
    stop: StopNow, code: int, opened: list[Services], reporter: ProgressReporter, as_json: bool
) -> NoReturn:
    """A second signal: report, stop the embedded services (briefly), and exit without waiting for the work."""
    why = f"the run did not stop within {FINISH_AFTER_SIGNAL_S:g}s after {stop}" if stop.late else f"{stop} again"
    reporter.line(
        "ERROR",
        f"{why}: stopping at once; the warehouse rolls back the running stage's "
        "transaction, and the next run records how this one ended (abandoned if it cannot tell)",
    )
    _emit_json({"status": "interrupted", "exit_code": code}, as_json)
    for services in opened:
        with contextlib.suppress(Exception):  # stopping at once: what cannot stop quickly is left to the next start
            if stop.late:  # no more waiting on the warehouse: what did not stop in time is on a frozen path
                BackgroundCall(functools.partial(services.close, settle_s=0), "stop-services").result(
                    timeout=LATE_STOP_SERVICES_S
                )
            else:
                BackgroundCall(services.close, "stop-services").result(timeout=STOP_SERVICES_S)
    reporter.close()
    sys.stdout.flush()
    sys.stderr.flush()
    # Not sys.exit: the interpreter would wait for the work's threads, which may be blocked.
    os._exit(code)


def _choose_stages(args: argparse.Namespace, services: Services, reporter: ProgressReporter) -> tuple[StageName, ...]:
    if args.resume:
        point = resume_point(services, log=lambda m: reporter.line("WARNING", m))
        if point is None:
            reporter.line("INFO", "nothing to resume: no run failed, or every stage has succeeded since")
            return ()
        run_id, stage = point
        reporter.line("INFO", f"resuming run #{run_id} from stage {stage}")
        return stages_from(stage)
    if args.stage:
        return tuple(s for s in STAGES if s in args.stage)
    return STAGES


def _dry_run(config: Config, reporter: ProgressReporter, demo_scale: float | None, as_json: bool) -> int:
    plan = dry_run_plan(config, log=lambda m: reporter.line("INFO", m), demo_scale=demo_scale)
    if as_json:
        _emit_json(plan, True)
    else:
        print_plan(plan, config)
    return EXIT_OK


def summary_json(summary: RunSummary, config: Config, exit_code: int) -> dict[str, Any]:
    exports = summary_exports(summary)
    analytics = summary_analytics(summary)
    return {
        "run_id": summary.run_id,
        "status": summary.status,
        "transfer": config.warehouse.transfer,
        "exit_code": exit_code,
        "user_id": summary.user_id,
        "ingestion_date": summary.ingestion_date,
        "as_of_date": config.pipeline.as_of_date.isoformat(),
        "started_at": summary.started_at.isoformat(),
        "duration_s": round(summary.duration_s, 3),
        "log_file": summary.log_file,
        "stages": [
            {
                "stage": s.stage,
                "status": s.status,
                "rows": s.rows,
                "duration_s": round(s.duration_s, 3),
                "error": s.error,
                "checks": [c.__dict__ for c in s.checks],
                "details": s.details,
            }
            for s in summary.stages
        ],
        "analytics": analytics,
        "exports": exports,
        "stale": [{"stage": stage, "reason": reason} for stage, reason in summary.stale.items()],
    }


def summary_analytics(summary: RunSummary) -> dict[str, Any]:
    """Each analytics table's row for the run, when the analytics stage succeeded."""
    return next((s.details for s in summary.stages if s.stage == "analytics" and s.status == "succeeded"), {})


def summary_exports(summary: RunSummary) -> list[str]:
    export = next((s for s in summary.stages if s.stage == "export" and s.status == "succeeded"), None)
    return [d["uri"] for d in export.details.values()] if export else []


def _emit_json(payload: dict[str, Any], enabled: bool) -> None:
    if enabled:
        with contextlib.suppress(OSError):  # stdout gone (SIGHUP, a closed pipe): the exit code still tells
            sys.stdout.write(redact(json.dumps(payload, indent=2, default=str)) + "\n")
            sys.stdout.flush()


class ProgressReporter:
    """Turns events into progress on stderr: rich bars on a terminal, plain lines otherwise."""

    LEVEL_STYLES: ClassVar[dict[str, str]] = {"DEBUG": "dim", "INFO": "", "WARNING": "yellow", "ERROR": "bold red"}

    def __init__(self, stream: TextIO):
        self.stream = stream
        self.rich = stream.isatty()
        self._progress: Any = None
        self._task: Any = None
        self._last_plain_pct: dict[str, int] = {}
        if self.rich:
            from rich.console import Console
            from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

            self.console = Console(file=stream, highlight=False)
            self._progress = Progress(
                TextColumn("{task.description:<28}"),
                BarColumn(),
                TextColumn("{task.percentage:>5.1f}%"),
                TimeElapsedColumn(),
                console=self.console,
                transient=True,
            )

    def line(self, level: LogLevel, message: str) -> None:
        message = redact(message)
        with contextlib.suppress(OSError):  # the terminal is gone (SIGHUP): the run log keeps every line
            if self.rich:
                style = self.LEVEL_STYLES.get(level) or None
                self.console.print(f"{level:<7} {message}", style=style, markup=False, highlight=False)
            else:
                print(f"{level:<7} {message}", file=self.stream, flush=True)

    def handle(self, event: Event) -> None:
        if isinstance(event, LogLine):
            if event.level != "DEBUG":
                self.line(event.level, f"[{event.stage or 'run'}] {event.message}")
        elif isinstance(event, StageStarted):
            self.line("INFO", f"[{event.stage}] started")
            if self.rich:
                self._progress.start()
                self._task = self._progress.add_task(event.stage, total=None)
        elif isinstance(event, StageProgress):
            self._on_progress(event)
        elif isinstance(event, StageFinished):
            if self.rich and self._task is not None:
                self._progress.remove_task(self._task)
                self._progress.stop()
                self._task = None
            r = event.result
            level: LogLevel = (
                "INFO" if r.status in ("succeeded", "skipped") else "WARNING" if r.status == "cancelled" else "ERROR"
            )
            self.line(level, f"[{r.stage}] {r.status} in {r.duration_s:.2f}s, {r.rows:,} rows")
        elif isinstance(event, RunFinished):
            pass

    def _on_progress(self, event: StageProgress) -> None:
        if self.rich and self._task is not None:
            self._progress.update(
                self._task, completed=event.done, total=event.total, description=f"{event.stage}: {event.message}"[:28]
            )
        elif event.total:
            pct = int(100 * event.done / event.total) // 25 * 25  # plain output: a line per quarter
            key = f"{event.stage}:{event.message}"
            if self._last_plain_pct.get(key) != pct:
                self._last_plain_pct[key] = pct
                with contextlib.suppress(OSError):  # the terminal is gone (SIGHUP)
                    print(
                        f"PROGRESS [{event.stage}] {event.message} {pct}% "
                        f"({event.done:,}/{event.total:,} {event.unit})",
                        file=self.stream,
                        flush=True,
                    )

    def summary(self, summary: RunSummary, config: Config, to: TextIO) -> None:
        out = [
            (
                f"run #{summary.run_id} {summary.status.upper()} in {summary.duration_s:.1f}s "
                f"(user_id {summary.user_id}, ingestion_date {summary.ingestion_date})"
            )
        ]
        out.append(f"  {'stage':<10} {'status':<10} {'rows':>10} {'seconds':>8}")
        for s in summary.stages:
            out.append(f"  {s.stage:<10} {s.status:<10} {s.rows:>10,} {s.duration_s:>8.2f}")
            if s.error:
                out.append(f"    error: {s.error}")
            for check in s.checks:
                if not check.passed:
                    out.append(f"    {check.severity}: {check.name}: {check.detail}")
        analytics = summary_analytics(summary)
        for table, row in analytics.items():
            values = ", ".join(f"{k}={v}" for k, v in row.items() if k != "ingestion_date")
            out.append(f"  {config.analytics_schema}.{table}: {values}")
        for uri in summary_exports(summary):
            out.append(f"  exported {uri}")
        for stage, reason in summary.stale.items():
            out.append(f"  {stage:<10} STALE: {reason}")
        if summary.log_file:
            out.append(f"  log: {summary.log_file}")
        with contextlib.suppress(OSError):  # the terminal is gone (SIGHUP): the history keeps the outcome
            to.write(redact("\n".join(out)) + "\n")
            to.flush()

    def close(self) -> None:
        if self._progress is not None:
            self._progress.stop()


if __name__ == "__main__":
    sys.exit(main())
