"""The `d2b-console` entry point: headless options go to etl_core without loading Textual.

The console takes its state folder first (`EarlyStart`, which boots the embedded Postgres and S3
server once the first frame is drawn) and only then imports Textual and the app.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import os
import signal
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from etl_core.config import Config
    from tui.services_start import EarlyStart

EXIT_INTERRUPTED = 130  # etl_core.signals' code for SIGINT, known before anything of the project is imported
STARTUP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


def main(argv: Sequence[str] | None = None) -> int:
    # Until something is started, Ctrl-C ends the program with one line, not the traceback of the import it cut
    # short (the headless core's take a second); the headless run and the console's start then handle it.
    signal.signal(signal.SIGINT, _interrupted_early)
    from etl_core.command_line import build_parser, is_headless  # after the handler, as every project import

    args = build_parser().parse_args(argv)
    if is_headless(args) or args.json:
        from etl_core.cli import run_headless  # the headless run: the core alone, never Textual

        return run_headless(args)
    return run_console(args)


def _interrupted_early(_signum: int, _frame: object) -> None:
    os.write(2, b"d2b-console: interrupted; nothing to stop.\n")
    os._exit(EXIT_INTERRUPTED)


def run_console(args: argparse.Namespace) -> int:
    """The interactive console: 2 on a bad config (a message, no traceback), else the app's exit code."""
    from etl_core.config import load_config
    from etl_core.errors import EXIT_CONFIG, ConfigError
    from tui.services_start import EarlyStart

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
    # From here a signal is kept, never raised: raised in the middle of an import it can land inside importlib's own
    # code, which swallowed it with the interpreter's import lock held (the console ran on, its threads stuck in
    # their imports, for ever). The start-up acts on it between its steps; the app, in its loop, once it is up.
    kept: list[int] = []
    for signum in STARTUP_SIGNALS:
        signal.signal(signum, lambda signum, _frame: kept.append(signum))
    starting = EarlyStart(config)  # before Textual: a state folder in use is said at once
    if kept:  # stopped at once
        return _interrupted(starting, config, kept[0])
    # Loading and drawing allocate much and free little: the collector's passes would only slow the first
    # frame (by about a tenth); the app turns it back on once that frame is drawn.
    gc.disable()
    from tui.app import ConsoleApp, run_app  # Textual is imported only for the interactive console

    if kept:  # came during the imports (a second or more on a busy machine): nothing of the app started yet
        return _interrupted(starting, config, kept[0])
    # A signal from now on is handled by the app as its own once its loop takes signals (on_mount).
    return run_app(ConsoleApp(config, demo_scale=demo_scale, starting=starting, early_signals=kept))


def _interrupted(starting: EarlyStart | None, config: Config, signum: int) -> int:
    """A signal during the start-up: say so, stop what the early start started, exit with its code (no traceback)."""
    from etl_core.signals import EXIT_CODES
    from tui.services_start import embedded_named

    for each in STARTUP_SIGNALS:  # a second signal stops at once (the watchdog stops Postgres)
        signal.signal(each, signal.SIG_DFL)
    received = signal.Signals(signum)
    held = starting is not None and starting.holds_services()
    what = f"stopping {embedded_named(config)}" if held else "nothing to stop"
    with contextlib.suppress(OSError):  # a terminal gone (SIGHUP): nobody to tell
        print(f"d2b-console: {received.name} received; {what}.", file=sys.stderr, flush=True)
    if starting is not None:
        starting.stop()  # waits a bounded time: past it, the embedded Postgres' watchdog stops it as we end
    return EXIT_CODES[received]


if __name__ == "__main__":
    sys.exit(main())
