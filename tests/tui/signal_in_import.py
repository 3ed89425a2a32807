"""`d2b-console` that sends itself a real signal at an exact point of its imports (the start-up's riskiest instant).

Run as `python signal_in_import.py SIGNAL N`: once the launcher imports the app (`tui.app` is in sys.modules, so the
embedded start has begun), at the Nth module-lock release callback importlib runs on the main thread, right after
that callback has taken the interpreter's import lock, the process sends itself SIGNAL.
"""

from __future__ import annotations

import os
import signal
import sys

SIGNUM = signal.Signals[sys.argv[1]]
NTH = int(sys.argv[2])
del sys.argv[1:3]
_seen = 0


def _tracer(frame, event, _arg):
    global _seen
    code = frame.f_code
    if event == "call" and code.co_name == "<module>" and code.co_filename.endswith(os.path.join("tui", "app.py")):
        return _app_module_tracer
    if event != "call" or code.co_name != "cb" or "importlib._bootstrap" not in code.co_filename:
        return None
    if "tui.app" not in sys.modules:
        return None
    _seen += 1
    if _seen != NTH:
        return None
    return _line_tracer


def _line_tracer(frame, event, _arg):
    # the line after `_imp.acquire_lock()`: the import lock is held, the `try` that releases it not yet entered
    if event == "line" and frame.f_lineno > frame.f_code.co_firstlineno + 1:
        sys.settrace(None)
        os.kill(os.getpid(), SIGNUM)
        return None
    return _line_tracer


def _app_module_tracer(_frame, event, _arg):
    # The app's import ended before the nth callback: say so (the test would otherwise wait for a signal never sent).
    if event == "return" and _seen < NTH:
        os.write(2, f"signal_in_import: only {_seen} callbacks in the app's import, none sent at {NTH}\n".encode())
        os._exit(3)
    return _app_module_tracer


sys.settrace(_tracer)
from tui.launcher import main  # after the tracer: it watches the launcher's imports

sys.exit(main())
