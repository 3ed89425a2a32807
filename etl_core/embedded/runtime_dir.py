"""The private runtime folder pgserver expects in XDG_RUNTIME_DIR."""

from __future__ import annotations

import os
import tempfile


def ensure_runtime_dir() -> None:
    if not os.environ.get("XDG_RUNTIME_DIR"):
        # pgserver warns without a private runtime dir; a fresh 0700 temp dir silences it.
        os.environ["XDG_RUNTIME_DIR"] = tempfile.mkdtemp(prefix="d2b-runtime-")
