#!/usr/bin/env python3
"""Backfill benchmark (issue 22 item 9): a 30-day backfill at scale 1 against one `--run-all` of one date.

Run (not part of the test suite; a few minutes on 2 cores):

    .venv/bin/python bench/backfill_days.py [--days 30] [--scale 1] [--keep]

What it does, in a fresh temp folder on the embedded default with a dated prefix
(`orders_data/dt={date}/`): the demo dataset is generated into the folder of each of 31 dates;
`d2b-console --run-all` runs one date twice (the first run also creates the schemas, the second
is the steady state that is compared); then `d2b-console --backfill` runs the 30 other dates in
one process. Wall time and peak RSS (`ru_maxrss` of the d2b-console process, GNU time's %M; the
embedded Postgres and S3 server are processes of their own and are not counted) of each. Targets:
time per backfilled date at most 0.5x one `--run-all`, and the backfill's peak RSS after 30 dates
within 1.2x of one run's.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from datetime import date, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

TIME = "/usr/bin/time"
FIRST = date(2022, 8, 1)  # the single run's date; the backfill runs the dates after it
TIME_TARGET, MEMORY_TARGET = 0.5, 1.2


def write_config(folder: Path) -> Path:
    lines = []
    for line in (REPO / "config.toml").read_text().splitlines():
        key = line.split("=")[0].strip()
        if key == "prefix" and "orders_data" in line:
            line = 'prefix = "orders_data/dt={date}/"'
        elif key == "ingestion_date":
            line = f'ingestion_date = "{FIRST.isoformat()}"'
        elif key == "state_dir":
            line = f'state_dir = "{folder / "state"}"'
        lines.append(line)
    if not any(line.split("=")[0].strip() == "state_dir" for line in lines):
        lines += ["", "[console]", f'state_dir = "{folder / "state"}"']
    path = folder / "config.toml"
    path.write_text("\n".join(lines) + "\n")
    return path


def seed(config_path: Path, days: list[date], scale: float) -> None:
    """The demo dataset in every date's folder (the services seed the first date's themselves)."""
    from etl_core import demo_data
    from etl_core.config import load_config
    from etl_core.services import open_services

    config = load_config(str(config_path))
    with open_services(config, demo_scale=scale) as services:
        client = services.s3()
        for day in days:
            prefix = config.source.prefix.replace("{date}", day.isoformat())
            if client.list_objects_v2(Bucket=config.source.bucket, Prefix=prefix, MaxKeys=1).get("KeyCount", 0):
                continue
            demo_data.upload_demo_dataset(client, config.source.bucket, prefix, scale)


def timed(config_path: Path, *args: str) -> tuple[float, int, subprocess.CompletedProcess[str]]:
    """(wall seconds, peak RSS in MB, the process) of one d2b-console command."""
    fd, report = tempfile.mkstemp(prefix="time-")
    os.close(fd)
    try:
        done = subprocess.run(
            [
                TIME,
                "-o",
                report,
                "-f",
                "%e %M",
                sys.executable,
                "-m",
                "tui.launcher",
                "--config",
                str(config_path),
                *args,
            ],
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=3600,
        )
        seconds, kilobytes = Path(report).read_text().split()[-2:]
    finally:
        os.unlink(report)
    return float(seconds), int(kilobytes) // 1024, done


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--scale", type=float, default=1)
    parser.add_argument("--keep", action="store_true", help="keep the temp folder")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="d2b-backfill-bench-"))
    try:
        config = write_config(folder)
        dates = [FIRST + timedelta(days=n) for n in range(args.days + 1)]
        seed(config, dates, args.scale)
        runs = []
        for _ in range(2):
            seconds, rss, done = timed(config, "--run-all")
            if done.returncode != 0:
                print(done.stderr[-3000:], file=sys.stderr)
                return 1
            runs.append((seconds, rss))
        run_s, run_rss = runs[-1]
        backfill_s, backfill_rss, done = timed(
            config, "--backfill", dates[1].isoformat(), dates[-1].isoformat(), "--json"
        )
        if done.returncode != 0:
            print(done.stderr[-3000:], file=sys.stderr)
            return 1
        report = json.loads(done.stdout)
        succeeded = sum(1 for d in report["dates"] if d["status"] == "succeeded")
        per_date = backfill_s / args.days
        result = {
            "scale": args.scale,
            "days": args.days,
            "dates_succeeded": succeeded,
            "run_all_s": [round(s, 2) for s, _ in runs],
            "run_all_rss_mb": [r for _, r in runs],
            "backfill_s": round(backfill_s, 2),
            "backfill_rss_mb": backfill_rss,
            "per_date_s": round(per_date, 3),
            "time_ratio": round(per_date / run_s, 3),
            "memory_ratio": round(backfill_rss / run_rss, 3),
            "load_average": os.getloadavg(),
        }
        print(json.dumps(result, indent=2))
        print(
            f"per date {per_date:.2f} s vs one --run-all {run_s:.2f} s: {result['time_ratio']:.2f}x "
            f"(target <= {TIME_TARGET}x: {'met' if result['time_ratio'] <= TIME_TARGET else 'NOT met'}); "
            f"peak RSS {backfill_rss} MB after {args.days} dates vs {run_rss} MB for one run: "
            f"{result['memory_ratio']:.2f}x (target <= {MEMORY_TARGET}x: "
            f"{'met' if result['memory_ratio'] <= MEMORY_TARGET else 'NOT met'})"
        )
        return 0 if succeeded == args.days else 1
    finally:
        if args.keep:
            print(f"kept {folder}", file=sys.stderr)
        else:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
