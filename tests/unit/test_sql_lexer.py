"""The SQL lexer finds statements as PostgreSQL does, checked by hand (tests/test_inspect_lexer.py checks it
against the server's own parser)."""

from __future__ import annotations

import re

import pytest

from etl_core.inspect.sql_lexer import (
    SqlTextError,
    TextPosition,
    check_expression,
    line_column,
    split_statements,
    statement_at,
    tokenize,
)


def words(text: str) -> list[str]:
    return [text[s.start : s.end] for s in split_statements(text)]


@pytest.mark.parametrize(
    "text, statements",
    [
        ("SELECT 1", ["SELECT 1"]),
        ("SELECT 1;", ["SELECT 1"]),
        ("  -- a note\n  SELECT 1 ; -- trailing note", ["SELECT 1"]),
        ("SELECT 1; DROP TABLE x", ["SELECT 1", "DROP TABLE x"]),
        ("SELECT ';'", ["SELECT ';'"]),
        ("SELECT 'it''s; fine'", ["SELECT 'it''s; fine'"]),
        ("SELECT E'\\';' ; DROP TABLE x", ["SELECT E'\\';'", "DROP TABLE x"]),
        ("SELECT '\\'; DROP TABLE x", ["SELECT '\\'", "DROP TABLE x"]),  # no backslash escapes in standard strings
        ("SELECT $$;$$", ["SELECT $$;$$"]),
        ("SELECT $a$ $$ ; $a$; DROP TABLE x", ["SELECT $a$ $$ ; $a$", "DROP TABLE x"]),
        ("SELECT $a$;$b$;$a$", ["SELECT $a$;$b$;$a$"]),
        ("SELECT x$$; DROP TABLE x", ["SELECT x$$", "DROP TABLE x"]),  # x$$ is an identifier, not a dollar quote
        ("SELECT $1; SELECT 2", ["SELECT $1", "SELECT 2"]),
        ('SELECT "a;b""c;"', ['SELECT "a;b""c;"']),
        ("SELECT U&'d\\0061t;a'", ["SELECT U&'d\\0061t;a'"]),
        ("SELECT /* ; /* nested ; */ still ; */ 1", ["SELECT /* ; /* nested ; */ still ; */ 1"]),
        ("SELECT 1 --; DROP TABLE x\n; SELECT 2", ["SELECT 1", "SELECT 2"]),
        (";;  ;", []),
        ("", []),
        ("(SELECT 1)", ["(SELECT 1)"]),
    ],
)
def test_statements_are_split_only_at_semicolons_outside_literals_and_comments(text, statements):
    assert words(text) == statements


def test_first_words_and_the_statement_under_the_cursor():
    text = "select 1;\nWITH x AS (SELECT 2) SELECT * FROM x;\n(values (3))"
    spans = split_statements(text)
    assert [s.first_word for s in spans] == ["select", "with", "("]
    assert statement_at(text, text.index("WITH") + 3) == spans[1]
    assert statement_at(text, text.index(";") + 1) == spans[0]  # between two statements: the one before


@pytest.mark.parametrize(
    "text, problem, offset",
    [
        ("SELECT 'abc", "unterminated quoted string", 7),
        ('SELECT "abc', "unterminated quoted identifier", 7),
        ("SELECT /* /* */ 1", "unterminated /* comment", 7),
        ("SELECT $x$ 1", "unterminated dollar-quoted string $x$", 7),
        ("SELECT E'\\'", "unterminated quoted string", 7),
    ],
)
def test_an_unterminated_literal_or_comment_is_named_with_its_place(text, problem, offset):
    with pytest.raises(SqlTextError, match=re.escape(problem)) as caught:
        split_statements(text)
    assert caught.value.offset == offset


def test_line_and_column_count_from_one():
    text = "SELECT 1,\n  nope\nFROM t"
    # Expected values worked out by hand: "SELECT 1," is 9 characters and its newline the 10th, so
    # "nope" starts at offset 12, after the two spaces that open line 2.
    position = line_column(text, text.index("nope"))
    assert (position.line, position.column, position.offset) == (2, 3, 12)
    assert line_column(text, 0) == TextPosition(offset=0, line=1, column=1)
    assert line_column(text, 9) == TextPosition(offset=9, line=1, column=10)  # the newline ends line 1
    assert line_column(text, 10) == TextPosition(offset=10, line=2, column=1)  # just after it
    assert line_column(text, text.index("FROM")) == TextPosition(offset=17, line=3, column=1)
    # Out-of-range offsets are clamped to the text: before its start, and after its end (line 3, "FROM t" + 1).
    assert line_column(text, -5) == TextPosition(offset=0, line=1, column=1)
    assert line_column(text, 999) == TextPosition(offset=len(text), line=3, column=7)


@pytest.mark.parametrize(
    "condition",
    ["quantity > 3", "name = 'a;b' AND (x IN (1, 2))", "arr[1] = 2 -- note", "note LIKE '%)%'", "$$;$$ <> note"],
)
def test_conditions_that_are_one_expression_pass(condition):
    check_expression(condition)


@pytest.mark.parametrize(
    "condition, problem",
    [
        ("1 = 1; DROP TABLE x", "remove the ';'"),
        ("1 = 1) ; DROP TABLE x; SELECT (1", "unbalanced ')'"),
        ("(1 = 1", "'(' is never closed"),
        ("1 = 1)", "unbalanced ')'"),
        ("arr[1) = 2", "unbalanced ')'"),
        ("  -- only a comment", "the condition is empty"),
        ("'unterminated", "unterminated quoted string"),
    ],
)
def test_conditions_that_are_not_one_expression_are_refused(condition, problem):
    with pytest.raises(SqlTextError, match=re.escape(problem)):
        check_expression(condition)


def test_no_comment_in_the_inspection_sql_names_a_placeholder():
    """format() fills placeholders in comments too: a value with a line break would end the comment."""
    from importlib import resources

    for file in resources.files("sql").joinpath("inspect").iterdir():
        text = file.read_text(encoding="utf-8")
        comments = [text[t.start : t.end] for t in tokenize(text) if t.kind == "comment"]
        assert comments and not [c for c in comments if "{" in c], file.name
