"""The `d2b-console` entry point: headless options go to etl_core without loading Textual."""

from __future__ import annotations

import sys
from collections.abc import Sequence

from etl_core.cli import build_parser, is_headless, run_headless


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if is_headless(args) or args.json:
        return run_headless(args)
    from tui.app import run_console  # Textual is imported only for the interactive console

    return run_console(args)


if __name__ == "__main__":
    sys.exit(main())
