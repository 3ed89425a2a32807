"""A console with one bug (a handler that raises once the services are up): what does an operator see?

Run as `python broken_console.py CONFIG` by the terminal test; BrokenConsole is also used in-process.
"""

from __future__ import annotations

import sys

from etl_core.config import load_config
from tui.app import ConsoleApp, run_app


class BrokenConsole(ConsoleApp):
    def on_services_ready(self, message) -> None:
        super().on_services_ready(message)
        raise RuntimeError("a bug [/x] in a handler")


if __name__ == "__main__":
    sys.exit(run_app(BrokenConsole(load_config(sys.argv[1]))))
