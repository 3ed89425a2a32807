"""The `d2b-console` entry point: headless options go to etl_core without loading Textual.

The console starts its embedded services first (`EarlyStart`) and only then imports Textual and
the app: Postgres and the S3 server boot while the console draws its first frame.
"""

from __future__ import annotations

import argparse
import gc
import sys
from collections.abc import Sequence

from etl_core.command_line import build_parser, is_headless
from etl_core.config import load_config
from etl_core.errors import EXIT_CONFIG, ConfigError
from tui.services_start import EarlyStart


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if is_headless(args) or args.json:
        from etl_core.cli import run_headless  # the headless run: the core alone, never Textual

        return run_headless(args)
    return run_console(args)


def run_console(args: argparse.Namespace) -> int:
    """The interactive console: 2 on a bad config (a message, no traceback), else the app's exit code."""
    try:
        config = load_config(args.config)
    except ConfigError as exc:
        for warning in exc.warnings:
            print(f"d2b-console: warning: {warning}", file=sys.stderr)
        print(f"d2b-console: bad configuration: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    demo_scale = getattr(args, "demo_scale", None)
    if demo_scale is not None and not 0 < demo_scale <= 1000:
        print("d2b-console: --demo-scale must be between 0 (excluded) and 1000", file=sys.stderr)
        return EXIT_CONFIG
    starting = EarlyStart(config)  # before Textual: the services boot while the console loads and draws
    # Loading and drawing allocate much and free little: the collector's passes would only slow the first frame
    # (by about a tenth); the app turns it back on once that frame is drawn.
    gc.disable()
    from tui.app import ConsoleApp, run_app  # Textual is imported only for the interactive console

    return run_app(ConsoleApp(config, demo_scale=demo_scale, starting=starting))


if __name__ == "__main__":
    sys.exit(main())
