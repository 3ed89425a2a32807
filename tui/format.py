"""Small presentational helpers: sizes, counts, cell text."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

CELL_WIDTH = 40  # longer cells are cut on screen; the full text opens on demand


def human_size(size: int | None) -> str:
    if size is None:
        return ""
    value = float(size)
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if value < 1024 or unit == "TB":
            return f"{int(value)} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} B"


def count(n: int | None, unit: str = "") -> str:
    if n is None:
        return ""
    text = f"{n:,}"
    if unit and n == 1 and unit.endswith("s"):
        unit = unit[:-1]
    return f"{text} {unit}" if unit else text


def cell_text(value: Any) -> str:
    """The full text of one preview cell."""
    if value is None:
        return "NULL"
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, Decimal):
        return format(value, "f")
    return str(value)


def short(text: str, width: int = CELL_WIDTH) -> str:
    text = text.replace("\n", "⏎")
    return text if len(text) <= width else text[: width - 1] + "…"
