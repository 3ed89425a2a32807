"""The columns of a staging table as its DDL declares them: name, type, NOT NULL, CHECK rules.

Read from `sql/ddl/staging/<table>.sql` with the project's SQL lexer, so the value checks of
staging and of the S3 preview follow the tables themselves.
"""

from __future__ import annotations

from dataclasses import dataclass

from etl_core.inspect.sql_lexer import Token, tokenize
from etl_core.sql_files import load_sql
from etl_core.stages.staging.sources import SourceFile

_COLUMN_STOP_WORDS = {
    "not",
    "null",
    "constraint",
    "check",
    "default",
    "primary",
    "references",
    "unique",
    "generated",
    "collate",
}


@dataclass(frozen=True)
class Rule:
    name: str
    expression: str  # SQL over the column, from the DDL


@dataclass(frozen=True)
class ExpectedColumn:
    name: str
    type_name: str
    nullable: bool
    rules: tuple[Rule, ...] = ()


def expected_columns(source: SourceFile) -> tuple[ExpectedColumn, ...]:
    """The columns of the staging table, as its DDL declares them."""
    return parse_create_table(load_sql(f"ddl/staging/{source.table}.sql"))


def parse_create_table(ddl: str) -> tuple[ExpectedColumn, ...]:
    """Column definitions of a CREATE TABLE: name, type, NOT NULL, CHECK rules (table constraints are skipped)."""
    tokens = [t for t in tokenize(ddl) if t.kind != "comment"]
    opening = next(i for i, t in enumerate(tokens) if ddl[t.start : t.end] == "(")
    columns = []
    for element in _split_top_level(ddl, tokens[opening + 1 :]):
        first = ddl[element[0].start : element[0].end].lower()
        if first in ("constraint", "check", "primary", "unique", "foreign", "exclude", "like"):
            continue
        columns.append(_column(ddl, element))
    return tuple(columns)


def _split_top_level(ddl: str, tokens: list[Token]) -> list[list[Token]]:
    """The comma-separated elements inside the parentheses that open before `tokens`."""
    elements: list[list[Token]] = [[]]
    depth = 0
    for token in tokens:
        text = ddl[token.start : token.end]
        if text == ")" and depth == 0:
            break
        if text == "," and depth == 0:
            elements.append([])
            continue
        depth += {"(": 1, ")": -1}.get(text, 0)
        elements[-1].append(token)
    return [e for e in elements if e]


def _column(ddl: str, element: list[Token]) -> ExpectedColumn:
    words = [ddl[t.start : t.end].lower() for t in element]
    stop = next((i for i, w in enumerate(words) if i and w in _COLUMN_STOP_WORDS), len(words))
    type_name = " ".join(ddl[element[1].start : element[stop - 1].end].split()).lower()
    not_null = any(words[i : i + 2] == ["not", "null"] for i in range(stop, len(words))) or "primary" in words[stop:]
    rules = []
    for i in range(stop, len(words)):
        if words[i] == "check" and i + 1 < len(words) and words[i + 1] == "(":
            name = words[i - 1] if i >= 2 and words[i - 2] == "constraint" else f"{words[0]}_check"
            expression = _parenthesised(ddl, element, i + 1)
            rules.append(Rule(name, expression))
    return ExpectedColumn(words[0], type_name, not not_null, tuple(rules))


def _parenthesised(ddl: str, element: list[Token], opening: int) -> str:
    """The text between the parenthesis at `element[opening]` and its match."""
    depth = 0
    for token in element[opening:]:
        text = ddl[token.start : token.end]
        depth += {"(": 1, ")": -1}.get(text, 0)
        if depth == 0:
            return " ".join(ddl[element[opening].end : token.start].split())
    raise ValueError("unbalanced parentheses in a CHECK rule")
