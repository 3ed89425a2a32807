"""The operator's statement as the read-only session sees it, and the errors it reports about it.

`parse_statement` refuses, before anything is sent, an empty text, several statements and a
first word that begins a statement other than a query or EXPLAIN; a text that cannot be a
statement at all (a typo in its first word, an unterminated literal) is left to PostgreSQL's
parser, so the operator reads its syntax error at its position. `server_error` turns
PostgreSQL's errors into sentences with the place in the operator's text.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import psycopg2

from etl_core.errors import Cancelled, D2BError
from etl_core.inspect.sql_lexer import SqlTextError, TextPosition, line_column, split_statements
from etl_core.secrets import redact

QUERY_WORDS = ("select", "with", "values", "table", "(")
ALLOWED = "one query (SELECT, WITH, VALUES, TABLE) or EXPLAIN"
# Every word a PostgreSQL statement can begin with (its grammar's `stmt`): one of these that is not
# a query is refused before anything is sent; any other first word cannot parse, so the text goes
# to PostgreSQL's parser, whose syntax error (and its one position) the operator then sees.
_COMMANDS = (
    "abort alter analyse analyze begin call checkpoint close cluster comment commit copy create "
    "deallocate declare delete discard do drop end execute explain fetch grant import insert listen load "
    "lock merge move notify prepare reassign refresh reindex release reset revoke rollback savepoint "
    "security select set show start table truncate unlisten update vacuum values with"
)
COMMAND_WORDS = frozenset(_COMMANDS.split())


class QueryError(D2BError):
    """A statement failed: Postgres' message, and where in the text when Postgres says."""

    def __init__(
        self,
        message: str,
        *,
        position: TextPosition | None = None,
        sqlstate: str | None = None,
        detail: str = "",
        hint: str = "",
    ):
        self.message, self.position, self.sqlstate = redact(message), position, sqlstate
        self.detail, self.hint = redact(detail), redact(hint)
        where = f" (line {position.line}, column {position.column})" if position else ""
        extra = "".join(f"\n{label}{text}" for label, text in (("", self.detail), ("hint: ", self.hint)) if text)
        super().__init__(f"{self.message}{where}{extra}")


class QueryRefused(QueryError):
    """Refused, by us or by the server: a write, a command, or more than one statement. Nothing ran."""


@dataclass(frozen=True)
class Statement:
    """The one statement of an operator's text: its text, where it starts there, and its kind."""

    text: str
    offset: int
    kind: str  # "query", "explain", or "unparsed" (for PostgreSQL's parser to say what is wrong)
    source: str = ""  # the operator's whole text

    def position(self, at: int) -> TextPosition:
        """Offset `at` of the statement as a position in the operator's whole text."""
        return line_column(self.source, self.offset + at)


def parse_statement(text: str) -> Statement:
    """The single statement of `text`, or QueryRefused / QueryError naming the place."""
    if (nul := text.find("\x00")) >= 0:
        raise QueryError(
            "the text holds a NUL character, which PostgreSQL does not accept; remove it",
            position=line_column(text, nul),
        )
    try:
        spans = split_statements(text)
    except SqlTextError:
        # An unterminated literal or comment: PostgreSQL's parser says so, once, at its own position
        # (the one-query check parses the whole text before anything can run; see session.py).
        return Statement(text, 0, "unparsed", text)
    if not spans:
        raise QueryRefused("nothing to run: the text holds no statement")
    if len(spans) > 1:
        second = line_column(text, spans[1].start)
        raise QueryRefused(
            f"one statement at a time: the text holds {len(spans)} statements, the second starts here; "
            "select one and run it",
            position=second,
        )
    span = spans[0]
    if span.first_word == "explain":
        kind = "explain"
    elif span.first_word in QUERY_WORDS:
        kind = "query"
    elif span.first_word not in COMMAND_WORDS:
        kind = "unparsed"  # no statement begins so (a typo such as SELEC): the server's parser names it
    else:
        raise QueryRefused(
            f"read-only: {span.first_word.upper()} is refused here; this pane runs {ALLOWED} and can change nothing",
            position=line_column(text, span.start),
        )
    return Statement(text[span.start : span.end], span.start, kind, text)


def server_error(
    exc: psycopg2.Error,
    statement: Statement | None,
    prefix: str,
    *,
    cancelled: bool,
    statement_timeout_s: float,
    lock_timeout_s: float,
) -> D2BError:
    """What failed, where in the operator's text (`prefix` is what we sent before it), what to do."""
    diag, code = exc.diag, exc.pgcode or ""
    message = diag.message_primary or str(exc).strip()
    if code == "57014":
        if cancelled:
            return Cancelled("query cancelled by the operator; nothing was changed")
        return QueryError(
            f"stopped by the statement timeout ({statement_timeout_s:g}s); narrow the query "
            "(WHERE, LIMIT) or raise the timeout",
            sqlstate=code,
        )
    if code == "55P03":
        return QueryError(
            f"waited more than {lock_timeout_s:g}s for a lock: a table it reads is being "
            "replaced (a staging load holds it until it commits), or another session holds the lock "
            "it asked for (a run holds its run lock); try again when the run has finished",
            sqlstate=code,
        )
    refused = _refusal(code, message)
    position = _position(diag, statement, prefix)
    if refused:
        return QueryRefused(refused, position=position, sqlstate=code)
    return QueryError(
        message, position=position, sqlstate=code, detail=diag.message_detail or "", hint=diag.message_hint or ""
    )


def _position(diag: Any, statement: Statement | None, prefix: str) -> TextPosition | None:
    """Postgres' 1-based character position, mapped back into the operator's text."""
    if statement is None:
        return None
    if diag.statement_position:
        at = int(diag.statement_position) - 1 - len(prefix)
    elif diag.internal_position and diag.internal_query == statement.text:
        at = int(diag.internal_position) - 1  # reported by the one-query check
    else:
        return None
    if not 0 <= at <= len(statement.text):
        return None
    return statement.position(at)


def _refusal(code: str, message: str) -> str | None:
    """The read-only / one-statement sentence for a server refusal, or None for an ordinary error."""
    if code in ("25006", "25001"):
        return f"read-only: {message}; nothing was changed"
    if code == "0A000" and "data-modifying" in message:
        return "read-only: data-modifying statements in WITH are refused here; nothing was changed"
    if code == "42P11":
        if "multi-query" in message:
            return "one statement at a time: the text holds more than one statement; nothing was run"
        command = message.removeprefix("cannot open ").removesuffix(" query as cursor")
        return f"read-only: {command} is refused here; this pane runs {ALLOWED}; nothing was run"
    return None
