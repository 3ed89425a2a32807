"""The Prometheus text format after each run, for node_exporter's textfile collector.

Written to a temporary file beside the target, then renamed over it, so the collector never reads
half a file. The last success survives failed runs: it is read back from the previous file.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Iterable
from pathlib import Path

from etl_core.events import RunSummary

RUN_STATUSES = ("succeeded", "failed", "cancelled")
SEVERITIES = ("ERROR", "WARN")
_LAST_SUCCESS = re.compile(r'^d2b_last_success_timestamp_seconds\{user_id="([^"]*)"\} (\S+)$', re.MULTILINE)


def render(summary: RunSummary, ended_at: float, last_success: float | None) -> str:
    """The metrics of one finished run, every series labelled with its user_id."""
    user = _label(summary.user_id)
    lines: list[str] = []

    def metric(name: str, help_text: str, samples: Iterable[tuple[str, float]]) -> None:
        lines.extend([f"# HELP {name} {help_text}", f"# TYPE {name} gauge"])
        lines.extend(f"{name}{{user_id={user}{labels}}} {float(value)!r}" for labels, value in samples)

    metric(
        "d2b_last_success_timestamp_seconds",
        "Unix time the last successful run ended (0: none yet).",
        [("", last_success or 0)],
    )
    metric("d2b_last_run_timestamp_seconds", "Unix time the last run ended.", [("", ended_at)])
    metric(
        "d2b_last_run_status",
        "1 for the last run's status, 0 for the others.",
        [(f",status={_label(s)}", float(summary.status == s)) for s in RUN_STATUSES],
    )
    metric(
        "d2b_stage_duration_seconds",
        "Seconds each stage of the last run took.",
        [(f",stage={_label(s.stage)}", s.duration_s) for s in summary.stages if s.status != "skipped"],
    )
    staging = next((s for s in summary.stages if s.stage == "staging" and s.status == "succeeded"), None)
    loaded = staging.details.items() if staging else []
    metric(
        "d2b_rows_loaded",
        "Rows the last run loaded into each staging table.",
        [(f",table={_label(t)}", float(d["rows"])) for t, d in loaded if isinstance(d, dict) and "rows" in d],
    )
    checks = [c for s in summary.stages for c in s.checks if not c.passed]
    metric(
        "d2b_checks_not_passed",
        "Checks of the last run that did not pass, by severity.",
        [(f",severity={_label(sev)}", float(sum(c.severity == sev for c in checks))) for sev in SEVERITIES],
    )
    return "\n".join(lines) + "\n"


def write(path: Path, summary: RunSummary, ended_at: float) -> None:
    """Render and atomically replace `path`; raises OSError when it cannot."""
    last = ended_at if summary.status == "succeeded" else _previous_success(path, summary.user_id)
    text = render(summary, ended_at, last)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(tmp, 0o644)  # the collector usually runs as another user
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _previous_success(path: Path, user_id: str) -> float | None:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    for user, value in _LAST_SUCCESS.findall(text):
        if user == user_id:
            try:
                return float(value) or None
            except ValueError:
                return None
    return None


def _label(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"') + '"'
