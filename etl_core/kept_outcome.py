"""A run's outcome kept on disk until the history holds it: what the next run records when this one could not.

When a stage ends the run (failed or cancelled), its outcome is written beside the run's log before
the history is asked to take it, and removed once the history holds it. Behind a warehouse path that
answers nothing (a black hole), or when the process is stopped at once while the history write hangs,
the file stays: the next run on the same state folder records the run as it really ended (status,
reason, when) instead of marking it "abandoned" with no reason.
"""

from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import cast

from etl_core.config import Config
from etl_core.events import utc_now
from etl_core.kinds import StoppedStatus
from etl_core.run_files import run_log_path


@dataclass(frozen=True)
class KeptOutcome:
    status: StoppedStatus
    error: str | None
    finished_at: datetime


def outcome_path(config: Config, run_id: int) -> Path:
    """<state>/logs/<user_id>@<warehouse>/run-NNNNN.outcome.json, beside the run's log."""
    return run_log_path(config, run_id).with_suffix(".outcome.json")


def keep(config: Config, run_id: int, status: StoppedStatus, error: str | None, *, replace: bool = True) -> None:
    """Write the run's outcome (best effort: a state folder that refuses it leaves the run to be marked
    abandoned); with `replace` False, an outcome already kept stays."""
    path = outcome_path(config, run_id)
    if not replace and path.exists():
        return
    payload = {"status": status, "error": error, "finished_at": utc_now().isoformat()}
    with contextlib.suppress(OSError):
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(".tmp")
        temporary.write_text(json.dumps(payload), encoding="utf-8")
        temporary.replace(path)  # whole or absent, even if the process stops mid-write


def read(config: Config, run_id: int) -> KeptOutcome | None:
    """The outcome kept for `run_id`, or None (none kept, or unreadable)."""
    try:
        payload = json.loads(outcome_path(config, run_id).read_text(encoding="utf-8"))
        status = payload["status"]
        if status not in ("failed", "cancelled"):
            return None
        finished_at = datetime.fromisoformat(payload["finished_at"])
        return KeptOutcome(cast(StoppedStatus, status), payload["error"], finished_at)
    except (OSError, ValueError, KeyError, TypeError):
        return None


def discard(config: Config, run_id: int) -> None:
    """The history holds the run's outcome: the kept copy goes."""
    with contextlib.suppress(OSError):
        outcome_path(config, run_id).unlink(missing_ok=True)
