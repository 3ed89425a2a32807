"""The colours of every status, severity and log level the console shows: one place, so every view
reads alike and the contrast test (tests/tui/test_tui_contrast.py) guards them all.

Colours of the xterm 256-colour cube and grey ramp (the same on every terminal), each at least 4.5:1
(WCAG AA) against every row background of the default theme (plain, selected, focused), in truecolor
and in 256 colours. Use these names, not "red"/"green"/"dim": an ANSI colour is the terminal's own.
"""

from __future__ import annotations

from typing import Literal

GREY, CYAN, YELLOW, GREEN, RED, MAGENTA = "#a8a8a8", "#5fd7ff", "#ffd75f", "#5fd787", "#ff8787", "#ff87ff"

OK = GREEN  # a check that passed, "all checks passed"
BAD = f"bold {RED}"  # failed, an error, a blocking check
WARN = YELLOW  # a warning, a WARN check that did not pass, a flagged row
NOTE = GREY  # not run, missing, a hint
STALE_STYLE = f"bold {YELLOW}"  # computed from older inputs

# The log's levels (the level word; a message keeps the default colour unless it warns or fails).
LEVEL_STYLES: dict[str, str] = {"DEBUG": GREY, "INFO": GREEN, "WARNING": YELLOW, "ERROR": BAD}
MESSAGE_STYLES: dict[str, str] = {"DEBUG": GREY, "INFO": "", "WARNING": YELLOW, "ERROR": BAD}


def check_mark(passed: bool | None, severity: Literal["ERROR", "WARN"] = "ERROR") -> tuple[str, str]:
    """A check's mark and its colour: ✔ passed, ✘ a failed ERROR check, ! a failed WARN check, · not run."""
    if passed is None:
        return "·", NOTE
    if passed:
        return "✔", OK
    return ("✘", BAD) if severity == "ERROR" else ("!", WARN)
