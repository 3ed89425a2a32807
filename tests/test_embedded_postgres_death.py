"""The embedded Postgres killed under a run: the stage and the run say that the embedded server stopped and
what to do (never a driver's "invalid socket"), and the next run restarts it and works."""

from __future__ import annotations

import os
import signal
from typing import Any

import pytest

from etl_core.embedded.postmaster import read_postmaster
from etl_core.events import Event, StageFinished, StageStarted
from etl_core.history import HistoryLost
from helpers import assert_succeeded, run
from support import Env


@pytest.mark.parametrize("stage", ["staging", "analytics"])
def test_the_embedded_postgres_killed_mid_run_is_named_and_the_next_run_works(env: Env, stage: str) -> None:
    env.rewrite_config(url="embedded")  # the embedded Postgres (with its demo dimensions), the tests' S3
    datadir = env.config.console.state_dir / "pg"
    events: list[Any] = []

    def kill_when_the_stage_starts(event: Event) -> None:
        events.append(event)
        if isinstance(event, StageStarted) and event.stage == stage:
            postmaster = read_postmaster(datadir)
            assert postmaster is not None
            os.kill(postmaster.pid, signal.SIGKILL)

    with pytest.raises(HistoryLost) as stopped:
        run(env, sink=kill_when_the_stage_starts)
    said = (
        f"the embedded Postgres server stopped (killed by SIGKILL); its data in {datadir} is kept (Postgres "
        "recovers it at its next start); run again (--resume): the next start restarts it"
    )
    assert str(stopped.value).startswith(said), stopped.value
    # The kill races the stage: the run stops when recording the stage's start, or the stage fails first.
    failed = [e.result for e in events if isinstance(e, StageFinished) and e.result.status == "failed"]
    assert [(r.stage, (r.error or "")[: len(said)]) for r in failed] in ([], [(stage, said)]), failed
    # The next run restarts the server (analytics would refuse the demo dimensions with these files).
    assert_succeeded(run(env, ("prepare", "staging")))
