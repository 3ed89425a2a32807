"""COPY's errors as operator messages: object key, file line, column and value."""

from __future__ import annotations

import re

import psycopg2
import psycopg2.errors

from etl_core.errors import DataError
from etl_core.stages.staging.sources import SourceFile

_COPY_CONTEXT = re.compile(r'COPY \S+, line (\d+)(?:, column (\w+))?(?:: "(.*)")?', re.DOTALL)


def data_error(exc: psycopg2.Error, key: str, source: SourceFile, file_columns: list[str]) -> DataError:
    """Turn a COPY error into a message with the object key, file line, column and value."""
    diag = exc.diag
    match = _COPY_CONTEXT.search(diag.context or "")
    line = int(match.group(1)) + 1 if match else None  # +1: the header line is not sent to COPY
    column = (match.group(2) if match else None) or diag.column_name
    value = match.group(3) if match else None
    if column is None and diag.constraint_name:
        column = next((c for c in source.columns if diag.constraint_name.startswith(c)), None)
    if isinstance(exc, psycopg2.errors.UniqueViolation) and diag.message_detail:
        found = re.match(r"Key \((\w+)\)=\((.*)\) already exists", diag.message_detail)
        if found:
            column, value = found.group(1), found.group(2)
    where = f"{key}: line {line}" if line else key
    if column in file_columns:
        where += f", column {column} (field {file_columns.index(column) + 1})"
    problem = shorten_quoted((diag.message_primary or str(exc)).strip())
    if isinstance(exc, psycopg2.errors.CheckViolation):
        problem = f"value breaks the rule {diag.constraint_name}"
    if value is not None:
        shown = value if len(value) <= 80 else value[:77] + "..."
        problem += f"; value {shown!r}"
    return DataError(f"{where}: {problem}. Nothing was loaded: {source.table} and the other staging tables keep "
                     "their previous rows. "
                     "Fix the object and run the staging stage again")


def shorten_quoted(text: str, limit: int = 80) -> str:
    """Cut long quoted values (Postgres echoes them whole) so a 10 MB field never floods a message."""
    return re.sub(f'"([^"]{{{limit + 1},}})"', lambda m: f'"{m.group(1)[:limit - 3]}..."', text)
