"""A small SQL lexer that knows what PostgreSQL treats as text: quotes, dollar quotes and comments.

It finds the statements of a text (every `;` outside literals and comments ends one), the first
word of each, and whether an operator's condition is one balanced expression. It assumes
`standard_conforming_strings = on`, which the read-only session sets before every statement.
The server confirms the result independently (see `etl_core.inspect.session`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

TokenKind = Literal["word", "number", "string", "identifier", "dollar", "param", "comment", "punct"]


class SqlTextError(ValueError):
    """The text is not well formed (an unterminated literal or comment, unbalanced parentheses)."""

    def __init__(self, message: str, offset: int):
        super().__init__(message)
        self.offset = offset


@dataclass(frozen=True)
class Token:
    kind: TokenKind
    start: int
    end: int


@dataclass(frozen=True)
class Span:
    """One statement of a text, from its first token to its last (no `;`, no surrounding comments)."""

    start: int
    end: int
    first_word: str  # lowercased first word, "(" for a parenthesised query


@dataclass(frozen=True)
class TextPosition:
    """A place in a text: 0-based character offset, 1-based line and column."""

    offset: int
    line: int
    column: int


def line_column(text: str, offset: int) -> TextPosition:
    offset = max(0, min(offset, len(text)))
    line = text.count("\n", 0, offset) + 1
    return TextPosition(offset, line, offset - (text.rfind("\n", 0, offset) + 1) + 1)


def _is_ident_start(ch: str) -> bool:
    return (ch.isascii() and (ch.isalpha() or ch == "_")) or not ch.isascii()


def _is_ident_cont(ch: str) -> bool:
    return _is_ident_start(ch) or ch.isdigit() or ch == "$"


def _is_tag_char(ch: str) -> bool:  # dollar-quote tags: like identifiers, but no "$"
    return _is_ident_start(ch) or ch.isdigit()


def tokenize(text: str) -> list[Token]:
    """The tokens of `text` (whitespace dropped, comments kept); raises SqlTextError on an unterminated one."""
    tokens: list[Token] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch.isspace():
            i += 1
        elif text.startswith("--", i):
            end = text.find("\n", i)
            end = n if end < 0 else end
            tokens.append(Token("comment", i, end))
            i = end
        elif text.startswith("/*", i):
            end = _block_comment_end(text, i)
            tokens.append(Token("comment", i, end))
            i = end
        elif ch == "'":
            end = _quoted_end(text, i, "'", backslash_escapes=False)
            tokens.append(Token("string", i, end))
            i = end
        elif ch == '"':
            end = _quoted_end(text, i, '"', backslash_escapes=False)
            tokens.append(Token("identifier", i, end))
            i = end
        elif ch == "$":
            i = _dollar_token(text, i, tokens)
        elif _is_ident_start(ch):
            i = _word_token(text, i, tokens)
        elif ch.isdigit() or (ch == "." and i + 1 < n and text[i + 1].isdigit()):
            j = i + 1
            while j < n and (text[j].isalnum() or text[j] in "._"):
                j += 1
            tokens.append(Token("number", i, j))
            i = j
        else:
            tokens.append(Token("punct", i, i + 1))
            i += 1
    return tokens


def _word_token(text: str, i: int, tokens: list[Token]) -> int:
    """A word, or a prefixed literal: E'..' (backslash escapes), B'..', X'..', N'..', U&'..', U&".."."""
    n = len(text)
    j = i + 1
    while j < n and _is_ident_cont(text[j]):
        j += 1
    word = text[i:j].lower()
    if j < n and text[j] == "'" and word in ("e", "b", "x", "n"):
        end = _quoted_end(text, j, "'", backslash_escapes=word == "e", prefix_at=i)
        tokens.append(Token("string", i, end))
        return end
    if word == "u" and text.startswith("&", j) and j + 1 < n and text[j + 1] in "'\"":
        quote = text[j + 1]
        end = _quoted_end(text, j + 1, quote, backslash_escapes=False, prefix_at=i)
        tokens.append(Token("string" if quote == "'" else "identifier", i, end))
        return end
    tokens.append(Token("word", i, j))
    return j


def _dollar_token(text: str, i: int, tokens: list[Token]) -> int:
    """`$1` (a parameter), `$tag$...$tag$` (a dollar-quoted string), or a lone `$`."""
    n = len(text)
    j = i + 1
    if j < n and text[j].isdigit():
        while j < n and text[j].isdigit():
            j += 1
        tokens.append(Token("param", i, j))
        return j
    if text.startswith("$", j) or (j < n and _is_tag_char(text[j])):
        while j < n and _is_tag_char(text[j]):
            j += 1
        if j < n and text[j] == "$":
            tag = text[i : j + 1]
            close = text.find(tag, j + 1)
            if close < 0:
                raise SqlTextError(f"unterminated dollar-quoted string {tag}", i)
            end = close + len(tag)
            tokens.append(Token("dollar", i, end))
            return end
    tokens.append(Token("punct", i, i + 1))
    return i + 1


def _quoted_end(text: str, start: int, quote: str, *, backslash_escapes: bool, prefix_at: int | None = None) -> int:
    """The end of a quoted literal or identifier opening at `start` (a doubled quote is an escaped quote)."""
    i, n = start + 1, len(text)
    while i < n:
        ch = text[i]
        if backslash_escapes and ch == "\\":
            i += 2
        elif ch == quote:
            if i + 1 < n and text[i + 1] == quote:
                i += 2
            else:
                return i + 1
        else:
            i += 1
    what = "quoted string" if quote == "'" else "quoted identifier"
    raise SqlTextError(f"unterminated {what}", start if prefix_at is None else prefix_at)


def _block_comment_end(text: str, start: int) -> int:
    """The end of a /* comment */ opening at `start`; PostgreSQL nests them."""
    depth, i, n = 0, start, len(text)
    while i < n:
        if text.startswith("/*", i):
            depth += 1
            i += 2
        elif text.startswith("*/", i):
            depth -= 1
            i += 2
            if depth == 0:
                return i
        else:
            i += 1
    raise SqlTextError("unterminated /* comment", start)


def split_statements(text: str) -> list[Span]:
    """The statements of `text`; every `;` outside literals and comments ends one, empty ones are dropped."""
    spans: list[Span] = []
    current: list[Token] = []
    for token in tokenize(text) + [Token("punct", len(text), len(text))]:
        is_end = token.kind == "punct" and (token.start == len(text) or text[token.start] == ";")
        if is_end:
            if current:
                first = current[0]
                first_word = text[first.start : first.end].lower() if first.kind == "word" else text[first.start]
                spans.append(Span(first.start, current[-1].end, first_word))
            current = []
        elif token.kind != "comment":
            current.append(token)
    return spans


def statement_at(text: str, offset: int) -> Span | None:
    """The statement under a cursor at `offset` (the one before it when the cursor sits between two)."""
    spans = split_statements(text)
    before = [s for s in spans if s.start <= offset]
    return before[-1] if before else (spans[0] if spans else None)


def check_expression(text: str) -> None:
    """Refuse a condition that is not one expression: empty, a `;` outside literals, unbalanced brackets."""
    depth: list[tuple[str, int]] = []
    significant = 0
    for token in tokenize(text):
        if token.kind == "comment":
            continue
        significant += 1
        if token.kind != "punct":
            continue
        ch = text[token.start]
        if ch == ";":
            raise SqlTextError("a condition is one expression: remove the ';'", token.start)
        if ch in "([":
            depth.append((ch, token.start))
        elif ch in ")]" and (not depth or depth.pop()[0] != {")": "(", "]": "["}[ch]):
            raise SqlTextError(f"unbalanced '{ch}'", token.start)
    if depth:
        raise SqlTextError(f"'{depth[-1][0]}' is never closed", depth[-1][1])
    if not significant:
        raise SqlTextError("the condition is empty", 0)
