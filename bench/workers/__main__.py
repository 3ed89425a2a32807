"""`python -m bench.workers NAME SPEC_JSON`: one contender in its own process; prints its result.

Only the named worker's module is imported, so no contender's peak RSS includes another's imports.
"""

from __future__ import annotations

import importlib
import json
import sys

WORKERS = {
    "stage": "bench.workers.pipeline:stages",
    "refused_staging": "bench.workers.pipeline:refused_staging",
    "export_big": "bench.workers.pipeline:export_big",
    "pandas_load": "bench.workers.pandas_io:load",
    "pandas_export": "bench.workers.pandas_io:export",
    "tui_first_frame": "bench.workers.first_frame:first_frame",
    "tui_stall": "bench.workers.console:load_stall",
    "tui_results_stall": "bench.workers.results_viewer:results_stall",
    "tui_trends_draw": "bench.workers.trends:trends_draw",
}


def main(argv: list[str]) -> int:
    if len(argv) != 2 or argv[0] not in WORKERS:
        print(f"usage: python -m bench.workers {{{','.join(WORKERS)}}} SPEC_JSON", file=sys.stderr)
        return 2
    module, function = WORKERS[argv[0]].split(":")
    getattr(importlib.import_module(module), function)(json.loads(argv[1]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
