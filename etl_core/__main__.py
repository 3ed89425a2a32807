"""`python -m etl_core`: the headless CLI (`--run-all`, `--stage`, `--resume`, `--dry-run`, `--version`).

The terminal UI is `d2b-console` without options; this package never imports it.
"""

import sys

from etl_core.cli import main

if __name__ == "__main__":
    sys.exit(main())
