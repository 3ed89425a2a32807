"""The few ways a number is written in the report."""

from __future__ import annotations


def fmt_s(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    return f"{seconds:.3f}" if seconds < 1 else f"{seconds:.2f}"


def ratio(x: float, base: float, digits: int = 2) -> str:
    return f"{x / base:.{digits}f}x"


def verdict(ok: bool | None) -> str:
    return "n/a" if ok is None else ("PASS" if ok else "FAIL")
