"""The command line of `d2b-console` and `python -m etl_core`: its options, and which of them ask for a headless run.

Light on purpose (no boto3, psycopg2 or SQLAlchemy under it): the console reads its options before
anything heavy is imported.
"""

from __future__ import annotations

import argparse
from datetime import date

from etl_core import __version__
from etl_core.kinds import REPROCESS_CHOICES, STAGE_NAMES

EPILOG = """\
exit codes: 0 success; 1 a stage or data-quality check failed, or another run is in progress;
2 bad configuration or usage; 3 S3 or the warehouse could not be reached; 130 interrupted
(Ctrl-C), 143 SIGTERM, 129 SIGHUP: the running stage is cancelled, the run recorded, the summary
printed; a second signal stops at once.

environment: D2B_WAREHOUSE_URL overrides [warehouse] url (keeps passwords out of files);
D2B_QUERY_URL is the reader login of the console's SQL pane on an external warehouse;
S3 credentials come from the normal AWS chain (env, profile, instance role)."""


def parse_day(text: str) -> date:
    """An argparse type: an ISO date (YYYY-MM-DD)."""
    try:
        if len(text) != 10:
            raise ValueError
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an ISO date (YYYY-MM-DD)") from None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="d2b-console",
        description="Operator console for the daily S3 -> Postgres ETL. Without options it opens the terminal UI.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--run-all", action="store_true", help="run every stage in order, headless")
    parser.add_argument(
        "--stage",
        action="append",
        choices=STAGE_NAMES,
        metavar="STAGE",
        help=f"run only this stage, headless (repeatable; one of {', '.join(STAGE_NAMES)})",
    )
    parser.add_argument(
        "--resume", action="store_true", help="headless: rerun from the stage where the last run failed, then the rest"
    )
    parser.add_argument(
        "--dry-run",
        action="store_true",
        help="check the config and reach S3 and the warehouse, print the plan, change nothing",
    )
    parser.add_argument(
        "--backfill",
        nargs=2,
        type=parse_day,
        metavar=("FROM", "TO"),
        help="headless: one run per ingestion date from FROM to TO (inclusive, YYYY-MM-DD), ascending, each from "
        "that date's own files, then one export; with --dry-run, the plan only",
    )
    parser.add_argument(
        "--reprocess",
        choices=REPROCESS_CHOICES,
        help="with --backfill: which dates run: missing (default: dates without a successful run), failed "
        "(dates whose newest run did not succeed), all",
    )
    parser.add_argument(
        "--status",
        action="store_true",
        help="print the last successful run and today's state; exit 0 when today's date succeeded (or its "
        "[pipeline] deadline has not passed), 1 when not",
    )
    parser.add_argument(
        "--config", metavar="PATH", help="config file (default: ./config.toml, else the packaged default)"
    )
    parser.add_argument(
        "--json", action="store_true", help="with a headless run: print the run summary as JSON on stdout"
    )
    parser.add_argument(
        "--demo-scale",
        type=float,
        metavar="N",
        help="embedded S3 only: size of the demo dataset generated when the bucket is empty "
        "(1 = 10,000 orders, 100 = one million)",
    )
    parser.add_argument(
        "--load-dimensions",
        metavar="DIR",
        help="embedded warehouse only: replace the demo dimensions with DIR's dim_dates.csv, dim_products.csv, "
        "dim_addresses.csv and dim_customers.csv (checked first; all four or none)",
    )
    parser.add_argument("--version", action="version", version=f"d2b-console {__version__}")
    return parser


def is_headless(args: argparse.Namespace) -> bool:
    return bool(
        args.run_all
        or args.stage
        or args.resume
        or args.dry_run
        or args.backfill
        or args.status
        or args.load_dimensions
    )


def usage_problem(args: argparse.Namespace) -> str | None:
    """Why these options contradict each other (exit 2), or None."""
    modes = [
        flag
        for flag, given in (
            ("--run-all", args.run_all),
            ("--stage", args.stage),
            ("--resume", args.resume),
            ("--dry-run", args.dry_run and not args.backfill),  # --backfill --dry-run: the backfill's plan
            ("--backfill", args.backfill),
            ("--status", args.status),
            ("--load-dimensions", args.load_dimensions),
        )
        if given
    ]
    if len(modes) > 1:
        return (
            f"{' and '.join(modes)} cannot be combined: --run-all runs every stage, --stage only the stages it "
            "names, --resume from where the last run failed, --dry-run none; give one of them"
        )
    if args.json and not modes:
        return "--json goes with --run-all, --stage, --resume, --dry-run, --backfill or --status"
    if args.reprocess and not args.backfill:
        return "--reprocess goes with --backfill FROM TO"
    if args.demo_scale is not None and not 0 < args.demo_scale <= 1000:
        return "--demo-scale must be between 0 (excluded) and 1000"
    return None
