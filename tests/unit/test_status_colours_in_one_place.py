"""Every status colour comes from tui/status_style.py (the colours the contrast test holds to 4.5:1):
no other module of the console names a terminal colour for a status, an error or a warning."""

from __future__ import annotations

import re
from pathlib import Path

TUI = Path(__file__).resolve().parents[2] / "tui"
# A style string naming one of the terminal's own status colours, e.g. "red", "bold yellow", "italic green".
ANSI_STATUS = re.compile(r'"(?:(?:bold|italic|dim|underline|reverse) )*(?:bright_)?(?:red|green|yellow|magenta)"')


def test_no_module_but_status_style_names_a_terminal_status_colour():
    found = [
        f"{path.relative_to(TUI.parent)}:{number}: {line.strip()}"
        for path in sorted(TUI.rglob("*.py"))
        if path.name != "status_style.py"
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if ANSI_STATUS.search(line)
    ]
    assert not found, "use tui.status_style's names (OK, BAD, WARN, NOTE, RED, ...):\n" + "\n".join(found)


def test_the_check_finds_what_it_looks_for():
    assert ANSI_STATUS.search('Text("x", style="bold red")') and ANSI_STATUS.search('("x", "yellow")')
    assert not ANSI_STATUS.search('style="dim"') and not ANSI_STATUS.search("style=BAD")
