"""A contender in its own process: its wall time, its peak RSS, and the result it printed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.settings import AWS_ENV, PSQL, REPO, TIME
from bench.workers.protocol import RESULT_PREFIX


@dataclass(frozen=True)
class Measured:
    wall: float  # seconds, as seen from here
    rss_mb: float  # peak RSS of the measured process, from GNU time
    rc: int
    launched: float  # time.time() just before the start: workers report absolute times against it
    result: dict[str, Any] | None  # what a worker printed after RESULT_PREFIX


def run_measured(
    cmd: list[str],
    *,
    log: Path,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
    stdin_text: str | None = None,
) -> Measured:
    """Run cmd with its stderr appended to log; its wall time, peak RSS and printed result."""
    full_env = {**os.environ, **AWS_ENV, **(env or {})}
    with tempfile.TemporaryDirectory(prefix="bench-measure-") as scratch:
        rss_path, out_path = Path(scratch) / "rss", Path(scratch) / "out"
        # Linux charges a forked child with its parent's RSS high-water mark (kept across exec), so
        # ru_maxrss of a process forked from this (big) orchestrator would read >= our own RSS.
        # /usr/bin/time is small; the process it forks starts from a small mm, and it reports %M.
        timed = [TIME, "-f", "%M", "-o", str(rss_path), *cmd]
        launched = time.time()
        started = time.perf_counter()
        with open(out_path, "wb") as out, open(log, "ab") as err:
            proc = subprocess.run(
                timed,
                env=full_env,
                cwd=cwd,
                stdout=out,
                stderr=err,
                input=stdin_text.encode() if stdin_text is not None else None,
                stdin=subprocess.DEVNULL if stdin_text is None else None,
            )
        wall = time.perf_counter() - started
        stdout = out_path.read_text(errors="replace")
        rss_kb = [int(word) for word in rss_path.read_text().split() if word.isdigit()]
    return Measured(
        wall=wall,
        rss_mb=rss_kb[-1] / 1024 if rss_kb else 0.0,
        rc=proc.returncode,
        launched=launched,
        result=_printed_result(stdout),
    )


def _printed_result(stdout: str) -> dict[str, Any] | None:
    for line in stdout.splitlines():
        if line.startswith(RESULT_PREFIX):
            result: dict[str, Any] = json.loads(line[len(RESULT_PREFIX) :])
            return result
    return None


def run_worker(name: str, spec: dict[str, Any], log: Path) -> tuple[Measured, dict[str, Any]]:
    """One worker of bench.workers in its own process, and its result; raises if it failed or printed none."""
    measured = run_measured([sys.executable, "-m", "bench.workers", name, json.dumps(spec)], log=log, cwd=REPO)
    if measured.rc != 0 or measured.result is None:
        raise RuntimeError(f"worker {name} failed (rc {measured.rc}); see {log}")
    return measured, measured.result


def run_psql(url: str, script: str, log: Path) -> Measured:
    """The psql script through psql's stdin, stopping at the first error."""
    measured = run_measured([PSQL, url, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-f", "-"], stdin_text=script, log=log)
    if measured.rc != 0:
        raise RuntimeError(f"psql failed (rc {measured.rc}); see {log}")
    return measured
