"""A file in `$PAGER` (`less` by default): the console hands the terminal over and comes back when it quits."""

from __future__ import annotations

import os
import shlex
import subprocess
from collections.abc import Callable
from pathlib import Path

from textual.app import App, SuspendNotSupported

from tui.controller import Notice


def open_in_pager(app: App[object], path: Path, tell: Callable[[Notice], None]) -> None:
    pager = shlex.split(os.environ.get("PAGER") or "less")
    try:
        with app.suspend():
            subprocess.run([*pager, str(path)], check=False)
    except SuspendNotSupported:
        tell(Notice(f"this terminal cannot hand over to a pager; the log is {path}"))
    except OSError as exc:
        tell(Notice(f"cannot start the pager {pager[0]}: {exc.strerror}; the log is {path}", "error"))
