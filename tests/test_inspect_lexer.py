"""The SQL lexer and PostgreSQL's own parser agree on where statements end (tests/unit/test_sql_lexer.py
checks the lexer by hand)."""

from __future__ import annotations

import itertools
import random

import psycopg2

from etl_core.inspect.sql_lexer import SqlTextError, split_statements
from etl_core.sql_files import load_sql

# --- against PostgreSQL's own parser ----------------------------------------------------------

FRAGMENTS = [
    "';'",
    "'it''s;'",
    "E'\\';'",
    "E'\\\\'",
    "'\\'",
    "$$;$$",
    "$a$ $$ ; $a$",
    "$a$;$b$;$a$",
    "U&'d\\0061t;a'",
    "1 /* ; */",
    "1 /* /* ; */ ; */",
    "1 -- ;\n",
    "B'1010'",
    "X'1F'",
    "1$$",
    "'a' || ';'",
    "(SELECT ';')",
    "ARRAY[';']",
]
ALIASES = ["", ' AS "x;"', ' AS "a""b"', " AS x$y", " AS x$$"]


def server_verdict(cur, text: str) -> str:
    """ "one", "several" or "malformed", as PostgreSQL's parser sees the text."""
    cur.execute("BEGIN; SET LOCAL standard_conforming_strings = on")
    try:
        cur.execute("SELECT set_config('d2b.inspect_query', %s, true)", (text,))
        cur.execute(load_sql("inspect/confirm_one_query.sql"))
        return "one"
    except psycopg2.Error as exc:
        if exc.pgcode == "42601":
            return "malformed"
        assert exc.pgcode == "42P11" and "multi-query" in (exc.diag.message_primary or ""), (text, exc.pgcode, str(exc))
        return "several"
    finally:
        cur.execute("ROLLBACK")


def our_verdict(text: str) -> str:
    try:
        return "one" if len(split_statements(text)) == 1 else "several"
    except SqlTextError:
        return "malformed"


def test_the_lexer_and_postgres_agree_on_every_generated_text(pg_uri):
    chooser = random.Random(2024)
    statements = [f"SELECT {f}{a}" for f, a in itertools.product(FRAGMENTS, ALIASES)]
    texts = list(statements)
    for _ in range(300):
        parts = chooser.sample(statements, chooser.randint(1, 3))
        glue = chooser.choice(["; ", " ;\n", " -- ;\n; ", "; /* ; */ "])
        texts.append(glue.join(parts) + chooser.choice(["", ";", " -- end"]))
    conn = psycopg2.connect(pg_uri)
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            verdicts = {text: (our_verdict(text), server_verdict(cur, text)) for text in texts}
    finally:
        conn.close()
    assert {server for _ours, server in verdicts.values()} == {"one", "several", "malformed"}  # the corpus covers all
    # A text the server cannot parse runs nothing whatever we say; every other verdict must be the server's.
    assert [text for text, (ours, server) in verdicts.items() if server != "malformed" and ours != server] == []
