"""What every measurement gets: the shared services, a temp folder, the log, the options."""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from pathlib import Path

from bench.services import BenchServices


@dataclass(frozen=True)
class Options:
    scales: list[float]
    repeat: int  # 0: each measurement's own default
    pandas_multi_max_scale: float
    skip_runall: bool
    skip_tui: bool
    keep: bool

    def rounds(self, default: int) -> int:
        return self.repeat or default


@dataclass(frozen=True)
class Bench:
    services: BenchServices
    tmp: Path
    log: Path  # every contender's stderr
    options: Options


def say(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)
