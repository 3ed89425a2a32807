"""The fixed value sets of a run, as the strings the run history, the run log and `--json` hold.

Literal aliases rather than Enums: the values are written to the warehouse and to JSON as they are,
so a Literal types them without changing a stored byte. Each tuple lists its alias's values.
"""

from __future__ import annotations

from typing import Literal, get_args

StageName = Literal["prepare", "staging", "analytics", "export"]
STAGE_NAMES: tuple[StageName, ...] = get_args(StageName)  # in the order a run goes through them

# console_stage_runs.status: "running" marks a stage under way (the StageResult recorded when it starts).
StageStatus = Literal["running", "succeeded", "failed", "cancelled", "skipped"]
# console_runs.status: "abandoned" is a run whose process died (marked by the next run).
RunStatus = Literal["running", "succeeded", "failed", "cancelled", "abandoned"]
StoppedStatus = Literal["failed", "cancelled"]  # of a run (and its running stage) that a failure or a cancel ended

Severity = Literal["ERROR", "WARN"]  # of a check: ERROR blocks later stages and export; WARN is reported only
LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR"]
Reprocess = Literal["missing", "failed", "all"]  # which dates a backfill runs (--reprocess)
REPROCESS_CHOICES: tuple[Reprocess, ...] = get_args(Reprocess)
# A date of a backfill as it goes: waiting its turn, running, how its run ended, skipped (its inputs are missing),
# or not run (the backfill stopped before it).
DayRunStatus = Literal["queued", "running", "succeeded", "failed", "cancelled", "skipped", "not run"]
