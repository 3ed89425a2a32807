"""The console draws its first frame before it imports the heavy libraries; they load after it, on a worker.

Each probe is a fresh interpreter, so `sys.modules` shows what that path alone imported. Modules, not
timings, are asserted: the time itself is the benchmark's (bench/workers/first_frame.py).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

HEAVY = ("sqlalchemy", "boto3", "botocore", "psycopg2", "pandas", "moto", "pgserver")


def _loaded_after(code: str, cwd: Path) -> dict[str, object]:
    """What `code` printed as JSON on its last line; `code` sees HEAVY and prints `loaded()` as it likes."""
    probe = (
        f"import json, sys\nHEAVY = {HEAVY!r}\ndef loaded():\n    return sorted(m for m in HEAVY if m in sys.modules)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe + code], cwd=cwd, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    result: dict[str, object] = json.loads(done.stdout.splitlines()[-1])
    return result


def test_the_launcher_the_config_the_early_start_and_the_app_import_nothing_heavy(tmp_path):
    code = (
        "import tui.launcher, tui.app, tui.services_start, etl_core.embedded.start\n"
        "from etl_core.command_line import build_parser\n"
        "from etl_core.config import load_config\n"
        "build_parser().parse_args([])\n"
        "load_config(None)\n"
        "print(json.dumps({'loaded': loaded()}))\n"
    )
    assert _loaded_after(code, tmp_path) == {"loaded": []}


def test_the_first_frame_is_drawn_before_anything_heavy_is_imported(tmp_path):
    # The app opens its services after the first frame; here that opening records what was loaded, and stops.
    # The collector is off, as the launcher leaves it for the start-up: the first frame turns it back on.
    code = (
        "import gc\n"
        "from etl_core.config import load_config\n"
        "from tui.app import ConsoleApp\n"
        "class FirstFrame(ConsoleApp):\n"
        "    def _open_services(self):\n"
        "        rows = sorted(self.main.panes.pipeline_rows())\n"
        "        self.seen = {'loaded': loaded(), 'rows': rows, 'gc': gc.isenabled()}\n"
        "        self.exit(0)\n"
        "gc.disable()\n"
        "app = FirstFrame(load_config(None))\n"
        "app.run(headless=True, size=(120, 40))\n"
        "print(json.dumps(app.seen))\n"
    )
    seen = _loaded_after(code, tmp_path)
    assert seen == {"loaded": [], "rows": sorted(["prepare", "staging", "analytics", "export"]), "gc": True}


def test_the_probe_sees_what_the_services_worker_imports(tmp_path):
    code = (
        "import importlib\n"
        "from tui.services_start import CONNECTED_MODULES\n"
        "for name in CONNECTED_MODULES:\n"
        "    importlib.import_module(name)\n"
        "print(json.dumps({'loaded': loaded()}))\n"
    )
    loaded = _loaded_after(code, tmp_path)["loaded"]
    assert isinstance(loaded, list)
    assert {"sqlalchemy", "boto3", "botocore", "psycopg2"} <= set(loaded)
