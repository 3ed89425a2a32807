"""One field against its staging column, as COPY and the strict date rule would judge it, in Python.

The staging tables hold integers and dates only: an integer is read as PostgreSQL 16's int4 input
reads it (spaces around, a sign, decimal digits or 0x/0o/0b, `_` between digits, 32 bits); a date
must be exactly YYYY-MM-DD and a real day; an unquoted empty field is NULL; then the column's CHECK
rules, which the DDL writes as bounds (`>= 0`, `> 0`, `BETWEEN a AND b`). Each column also has a
conservative regular expression of values that are surely fine, so a whole clean line is cleared
at C speed and only the others are checked here, one by one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from etl_core.stages.staging.records import unquoted
from etl_core.stages.staging.table_columns import ExpectedColumn, Rule

INT4_MIN, INT4_MAX = -(2**31), 2**31 - 1
ISO_DATE = re.compile(rb"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_SPACE = rb"[ \t\n\r\v\f]*"
_INT4 = re.compile(
    _SPACE
    + rb"([+-]?)(?:0[xX]((?:_?[0-9a-fA-F])+)|0[oO]((?:_?[0-7])+)|0[bB]((?:_?[01])+)|([0-9](?:_?[0-9])*))"
    + _SPACE
)
_BASES = (16, 8, 2, 10)
_LITERAL = r"(-?\d+|DATE\s+'\d{4}-\d{2}-\d{2}')"
_COMPARISON = re.compile(rf"(\w+)\s*(>=|>|<=|<)\s*{_LITERAL}", re.IGNORECASE)
_BETWEEN = re.compile(rf"(\w+)\s+BETWEEN\s+{_LITERAL}\s+AND\s+{_LITERAL}", re.IGNORECASE)
# Days every month has, and the 29th-31st where they exist: Feb 29 is left to the exact check.
_SAFE_DAY = rb"(?:(?:0[1-9]|1[0-2])-(?:0[1-9]|1[0-9]|2[0-8])|(?:0[13-9]|1[0-2])-(?:29|30)|(?:0[13578]|1[02])-31)"
_SAFE_DATE = rb"(?:19[0-9]{2}|2[0-9]{3})-" + _SAFE_DAY
_SAFE_DATE_RANGE = (date(1900, 1, 1), date(2999, 12, 31))
NOT_NULL = "empty, but the column needs a value"
# PostgreSQL's boolean input: these words or a prefix of them at least this long, any case.
_BOOLEAN_WORDS = ((b"true", 1), (b"false", 1), (b"yes", 1), (b"no", 1), (b"on", 2), (b"off", 2), (b"1", 1), (b"0", 1))

Value = int | date


@dataclass(frozen=True)
class Bounds:
    """What a column's CHECK rules allow: low <= value <= high (None: unbounded), and the rule to name."""

    low: Value | None = None
    high: Value | None = None
    rule: str = ""

    def allows(self, value: Value) -> bool:
        return (self.low is None or value >= self.low) and (self.high is None or value <= self.high)  # type: ignore[operator]


def rule_bounds(rule: Rule) -> Bounds:
    """The bounds a CHECK rule of the staging DDL sets; a rule of another shape is refused here, loudly."""
    expression = rule.expression.strip()
    while expression.startswith("(") and expression.endswith(")"):
        expression = expression[1:-1].strip()
    if found := _BETWEEN.fullmatch(expression):
        return Bounds(_literal(found.group(2)), _literal(found.group(3)), rule.name)
    if found := _COMPARISON.fullmatch(expression):
        value, op = _literal(found.group(3)), found.group(2)
        if op in (">", "<") and isinstance(value, int):
            value += 1 if op == ">" else -1
        elif op in (">", "<"):
            raise ValueError(f"rule {rule.name}: strict date bounds are not supported ({rule.expression})")
        return Bounds(value, None, rule.name) if op.startswith(">") else Bounds(None, value, rule.name)
    raise ValueError(f"rule {rule.name}: no Python check for CHECK ({rule.expression}); add its shape here")


def _literal(text: str) -> Value:
    if text.upper().startswith("DATE"):
        return date.fromisoformat(text.split("'")[1])
    return int(text)


class ColumnCheck:
    """The verdict on one field of a column: None when COPY would load it, else the problem."""

    def __init__(self, column: ExpectedColumn):
        if column.type_name not in ("integer", "date", "boolean", "varchar", "text"):
            raise ValueError(f"column {column.name}: no Python check for type {column.type_name}; add it here")
        self.column = column
        self.bounds = [rule_bounds(rule) for rule in column.rules]
        self.fast = self._fast_pattern()

    def problem(self, raw: bytes) -> str | None:
        value, quoted = unquoted(raw)
        if not value and not quoted:
            return None if self.column.nullable else NOT_NULL
        typed = self._typed(value)
        if isinstance(typed, str):
            return typed
        broken = next((b for b in self.bounds if not b.allows(typed)), None)
        return f"value breaks the rule {broken.rule}" if broken else None

    def valid_value(self, raw: bytes) -> Value | None:
        """The field's value when COPY would load it and no rule breaks (None: NULL or refused)."""
        value, quoted = unquoted(raw)
        if (not value and not quoted) or self.problem(raw) is not None:
            return None
        typed = self._typed(value)
        return None if isinstance(typed, str) else typed

    def _typed(self, value: bytes) -> Value | str:
        if self.column.type_name in ("varchar", "text"):
            return 0  # any text (its bytes are checked with the record's: UTF-8, no NUL)
        if self.column.type_name == "boolean":
            word = value.strip(b" \t\n\r\v\f").lower()
            if word and any(full.startswith(word) and len(word) >= least for full, least in _BOOLEAN_WORDS):
                return 0
            return "invalid input syntax for type boolean"
        if self.column.type_name == "date":
            if not ISO_DATE.fullmatch(value):
                return "not an ISO date (YYYY-MM-DD" + (", or empty for none)" if self.column.nullable else ")")
            try:
                return date(int(value[:4]), int(value[5:7]), int(value[8:]))
            except ValueError:
                return "date/time field value out of range"
        found = _INT4.fullmatch(value)
        if found is None:
            return "invalid input syntax for type integer"
        base, digits = next((b, d) for b, d in zip(_BASES, found.groups()[1:], strict=True) if d is not None)
        digits = digits.replace(b"_", b"").lstrip(b"0") or b"0"
        if len(digits) > 32:  # more than 32 bits in any base (and never a huge int() conversion)
            return "value is out of range for type integer"
        number = int(digits, base) * (-1 if found.group(1) == b"-" else 1)
        if not INT4_MIN <= number <= INT4_MAX:
            return "value is out of range for type integer"
        return number

    def _fast_pattern(self) -> bytes | None:
        """A regular expression of unquoted values that are surely fine (None: check every value)."""
        low: Any = max((b.low for b in self.bounds if b.low is not None), default=None)
        high: Any = min((b.high for b in self.bounds if b.high is not None), default=None)
        pattern: bytes | None = None
        if self.column.type_name in ("varchar", "text"):
            pattern = rb'[^,\n"\x00\x80-\xff]*'  # ASCII without quotes: anything else is checked exactly
        elif self.column.type_name == "boolean":
            pattern = rb"true|false|t|f"
        elif self.column.type_name == "date":
            if (low is None or low <= _SAFE_DATE_RANGE[0]) and (high is None or high >= _SAFE_DATE_RANGE[1]):
                pattern = _SAFE_DATE
        else:
            nines = 999_999_999  # nine digits always fit in 32 bits
            wide = high is None or high >= nines
            if wide and (low is None or low <= -nines):
                pattern = rb"-?[0-9]{1,9}"
            elif wide and low is not None and low <= 0:
                pattern = rb"[0-9]{1,9}"
            elif wide and low == 1:
                pattern = rb"0*[1-9][0-9]{0,8}"
            elif low is not None and high is not None and 0 <= low <= high <= 9:
                pattern = b"[%d-%d]" % (low, high)
        if pattern is None:
            return None
        return b"(?:" + pattern + b")?" if self.column.nullable else pattern
