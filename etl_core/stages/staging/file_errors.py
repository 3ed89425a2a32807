"""A rejected source file as one message: key, line, column and field, the problem, the value shown escaped."""

from __future__ import annotations

from etl_core.errors import DataError

MAX_SHOWN = 80  # characters of a value in a message: a 10 MB field is never echoed whole


def escaped(value: bytes | str) -> str:
    """The value quoted, every byte visible: control bytes as \\n, \\x00, bytes that are not UTF-8 as \\xff."""
    text = value.decode("utf-8", "surrogateescape") if isinstance(value, bytes) else value
    shown = []
    for char in text:
        if "\udc80" <= char <= "\udcff":  # a byte that is not UTF-8
            shown.append(f"\\x{ord(char) - 0xDC00:02x}")
        elif char in "\\'":
            shown.append("\\" + char)
        elif char.isprintable():
            shown.append(char)
        else:
            shown.append(repr(char)[1:-1])
    joined = "".join(shown)
    return "'" + (joined if len(joined) <= MAX_SHOWN else joined[: MAX_SHOWN - 3] + "...") + "'"


def invalid_utf8(raw: bytes) -> str:
    """What an invalid UTF-8 byte is, with its Latin-1 reading when that is a letter."""
    problem = f"invalid UTF-8 byte 0x{raw[0]:02x}"
    latin1 = raw[:1].decode("cp1252", "replace")
    if latin1.isalpha():
        problem += f" ({latin1!r} in Latin-1 or Windows-1252?)"
    return problem + "; the file must be UTF-8: save or convert it as UTF-8"


def placed(
    key: str,
    problem: str,
    *,
    line: int | None = None,
    column: str | None = None,
    field: int | None = None,
    value: bytes | str | None = None,
) -> str:
    """`key: line N, column C (field k): problem; value '...'` on one line; `field` is 1-based."""
    where = key + (f": line {line}" if line else "")
    if column:
        where += f", column {column}" + (f" (field {field})" if field else "")
    shown = f"; value {escaped(value)}" if value is not None else ""
    problem = " ".join(problem.split("\n"))  # one line, whatever PostgreSQL's message held
    return f"{where}: {problem}{shown}"


def nothing_loaded(table: str) -> str:
    return (
        f"Nothing was loaded: {table} and the other staging tables keep their previous rows. Fix the object "
        "and run the staging stage again"
    )


def file_error(
    key: str,
    table: str,
    problem: str,
    *,
    line: int | None = None,
    column: str | None = None,
    field: int | None = None,
    value: bytes | str | None = None,
) -> DataError:
    """The DataError for a rejected file; `field` is 1-based. Nothing of the file was loaded."""
    return DataError(
        f"{placed(key, problem, line=line, column=column, field=field, value=value)}. {nothing_loaded(table)}"
    )
