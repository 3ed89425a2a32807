"""How a worker hands its result to the orchestrator. Imports nothing heavy: workers' peak RSS is measured."""

from __future__ import annotations

import json
from typing import Any

RESULT_PREFIX = "BENCH_RESULT "


def emit(result: dict[str, Any]) -> None:
    """Hand the result to the orchestrator, which reads it from this process's stdout."""
    print(RESULT_PREFIX + json.dumps(result), flush=True)
