"""Where a run's files go in the state folder: one folder per user_id and warehouse, so run ids never mix."""

from __future__ import annotations

import re
from pathlib import Path

from etl_core.config import Config


def run_folder(config: Config) -> str:
    """`<user_id>@<warehouse>`: run ids count per warehouse and user_id."""
    warehouse = (
        "embedded"
        if config.warehouse.embedded
        else re.sub(r"[^A-Za-z0-9.-]+", "_", config.warehouse.label.removeprefix("postgresql://").split("@")[-1]).strip(
            "_"
        )
    )
    return f"{config.pipeline.user_id}@{warehouse[:100]}"


def run_log_path(config: Config, run_id: int) -> Path:
    """<state>/logs/<user_id>@<warehouse>/run-NNNNN.log."""
    return config.console.state_dir / "logs" / run_folder(config) / f"run-{run_id:05d}.log"


def reject_report_path(config: Config, run_id: int, table: str) -> Path:
    """<state>/rejects/<user_id>@<warehouse>/run-NNNNN-<table>.csv, beside the run's log folder."""
    return config.console.state_dir / "rejects" / run_folder(config) / f"run-{run_id:05d}-{table}.csv"
