"""The read-only session against the real Postgres: hostile texts change nothing, cancel works, errors point."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from etl_core.errors import Cancelled
from etl_core.inspect.query_history import QueryHistory
from etl_core.inspect.session import ReadOnlySession
from etl_core.inspect.statement import QueryError, QueryRefused
from etl_core.secrets import register_secret

WAIT_S = 30  # bounded waits for another thread; never reached when things work


@pytest.fixture
def warehouse(make_env):
    """A schema with a table, a sequence and a function that writes; yields (env, services, schema)."""
    env = make_env()
    schema = f"{env.user_id}_staging"
    env.execute(f"""
        CREATE SCHEMA "{schema}";
        CREATE TABLE "{schema}".victim (id int PRIMARY KEY, note text);
        INSERT INTO "{schema}".victim VALUES (1, 'one'), (2, 'two');
        CREATE SEQUENCE "{schema}".victim_seq;
        CREATE FUNCTION "{schema}".sneaky_delete() RETURNS int LANGUAGE plpgsql VOLATILE AS
            $$BEGIN DELETE FROM "{schema}".victim; RETURN 1; END$$;
    """)
    with env.open() as services:
        yield env, services, schema


def state(env, schema) -> tuple[Any, ...]:
    """Everything a hostile statement could change: the rows, the sequence, the schema's tables and routines."""
    return (
        env.query(f'SELECT * FROM "{schema}".victim ORDER BY id'),
        env.query(f'SELECT last_value, is_called FROM "{schema}".victim_seq'),
        env.query(
            "SELECT relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE nspname = %s ORDER BY relname",
            (schema,),
        ),
        env.query(
            "SELECT proname FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
            "WHERE nspname = %s ORDER BY proname",
            (schema,),
        ),
    )


HOSTILE = [
    ("DELETE FROM {s}.victim", "read-only: DELETE is refused"),
    ("UPDATE {s}.victim SET note = 'x'", "read-only: UPDATE is refused"),
    ("INSERT INTO {s}.victim VALUES (3, 'three')", "read-only: INSERT is refused"),
    ("DROP TABLE {s}.victim", "read-only: DROP is refused"),
    ("TRUNCATE {s}.victim", "read-only: TRUNCATE is refused"),
    ("CREATE TABLE {s}.stolen (id int)", "read-only: CREATE is refused"),
    ("CREATE TEMP TABLE stolen AS SELECT 1", "read-only: CREATE is refused"),
    ("SELECT * INTO {s}.stolen FROM {s}.victim", "read-only: SELECT INTO is refused"),
    ("WITH d AS (DELETE FROM {s}.victim RETURNING *) SELECT * FROM d", "read-only: data-modifying statements"),
    ("WITH x AS (SELECT 1) DELETE FROM {s}.victim", "read-only: DELETE is refused"),
    ("COMMIT; DROP TABLE {s}.victim", "one statement at a time"),
    ("SELECT 1; DROP TABLE {s}.victim", "one statement at a time"),
    ("SELECT 1; COMMIT; SET default_transaction_read_only = off; DROP TABLE {s}.victim", "one statement at a time"),
    ("SELECT E'\\';' ; DROP TABLE {s}.victim", "one statement at a time"),
    ("SELECT $$;$$; DELETE FROM {s}.victim", "one statement at a time"),
    ("BEGIN; DELETE FROM {s}.victim; COMMIT", "one statement at a time"),
    ("SET default_transaction_read_only = off", "read-only: SET is refused"),
    ("SET SESSION CHARACTERISTICS AS TRANSACTION READ WRITE", "read-only: SET is refused"),
    ("SET transaction_read_only = off", "read-only: SET is refused"),
    ("SELECT set_config('transaction_read_only', 'off', true)", "read-only: transaction read-write mode"),
    ("SELECT nextval('{s}.victim_seq')", "read-only: cannot execute nextval()"),
    ("SELECT {s}.sneaky_delete()", "read-only: cannot execute DELETE in a read-only transaction"),
    ("SELECT id FROM {s}.victim FOR UPDATE", "read-only: cannot execute SELECT FOR UPDATE"),
    ("SELECT lo_create(0)", "read-only: cannot execute lo_create()"),
    ("EXPLAIN ANALYZE DELETE FROM {s}.victim", "read-only: cannot execute DELETE"),
    ("EXPLAIN ANALYZE WITH d AS (DELETE FROM {s}.victim RETURNING *) SELECT * FROM d", "read-only: cannot execute"),
    ("LOCK TABLE {s}.victim", "read-only: LOCK is refused"),
    ("DO $$BEGIN DELETE FROM {s}.victim; END$$", "read-only: DO is refused"),
    ("PREPARE p AS DELETE FROM {s}.victim", "read-only: PREPARE is refused"),
    ("COPY {s}.victim FROM STDIN", "read-only: COPY is refused"),
    ("VACUUM {s}.victim", "read-only: VACUUM is refused"),
    ("ANALYZE {s}.victim", "read-only: ANALYZE is refused"),
    ("GRANT ALL ON {s}.victim TO PUBLIC", "read-only: GRANT is refused"),
    ("CALL {s}.nothing()", "read-only: CALL is refused"),
    ("NOTIFY d2b", "read-only: NOTIFY is refused"),
]


@pytest.mark.parametrize("template, refusal", HOSTILE, ids=[h[0][:40] for h in HOSTILE])
def test_a_write_or_a_trick_is_refused_and_changes_nothing(warehouse, template, refusal):
    env, services, schema = warehouse
    before = state(env, schema)
    with ReadOnlySession(services) as session:
        with pytest.raises(QueryRefused) as refused:
            session.run(template.format(s=f'"{schema}"'))
        assert refusal in str(refused.value)
        assert state(env, schema) == before
        # The session is still usable, and still read-only.
        assert session.run("SELECT current_setting('transaction_read_only')").rows.page(0).rows == [("on",)]


def test_changing_session_defaults_from_a_query_does_not_open_a_way_to_write(warehouse):
    env, services, schema = warehouse
    before = state(env, schema)
    with ReadOnlySession(services, statement_timeout_s=5) as session:
        # These succeed (they are functions in a SELECT), but every statement starts from our settings again.
        session.run(
            "SELECT set_config('default_transaction_read_only', 'off', false), "
            "set_config('statement_timeout', '0', false), "
            "set_config('standard_conforming_strings', 'off', false)"
        )
        with pytest.raises(QueryRefused):
            session.run(f'SELECT "{schema}".sneaky_delete()')
        settings = (
            session.run(
                "SELECT current_setting('transaction_read_only'), current_setting('statement_timeout'),"
                " current_setting('standard_conforming_strings')"
            )
            .rows.page(0)
            .rows
        )
        assert settings == [("on", "5s", "on")]
    assert state(env, schema) == before


def test_a_session_advisory_lock_taken_by_a_query_is_released_at_once(warehouse):
    env, services, _schema = warehouse
    with ReadOnlySession(services) as session:
        assert session.run("SELECT pg_advisory_lock(4242)").total_rows == 1
        # Another connection (the pipeline's run lock works this way) gets the lock while the session lives on.
        assert env.query("SELECT pg_try_advisory_lock(4242)") == [(True,)]


def test_queries_that_only_read_run_with_their_rows_and_types(warehouse):
    _env, services, schema = warehouse
    with ReadOnlySession(services) as session:
        result = session.run(f"""
            -- literals that look like statements are data
            SELECT id, note, ';' AS semi, $$DROP TABLE x; $$ AS dollar, 'it''s' AS quote
            FROM "{schema}".victim ORDER BY id; -- the trailing semicolon and comment are fine
        """)
        assert [(c.name, c.type_name) for c in result.columns] == [
            ("id", "integer"),
            ("note", "text"),
            ("semi", "text"),
            ("dollar", "text"),
            ("quote", "text"),
        ]
        assert result.rows.page(0).rows == [
            (1, "one", ";", "DROP TABLE x; ", "it's"),
            (2, "two", ";", "DROP TABLE x; ", "it's"),
        ]
        assert result.total_rows == 2 and result.kind == "query"
        values = session.run("VALUES (1, 'a'), (2, 'b')")
        assert values.rows.page(0).rows == [(1, "a"), (2, "b")]
        table = session.run(f'TABLE "{schema}".victim')
        assert table.total_rows == 2


def test_explain_runs_and_explain_analyze_of_a_query_too(warehouse):
    _env, services, schema = warehouse
    with ReadOnlySession(services) as session:
        plan = session.run(f'EXPLAIN SELECT * FROM "{schema}".victim WHERE id = 1')
        assert plan.kind == "explain" and plan.columns[0].name == "QUERY PLAN"
        assert any("victim" in line for (line,) in plan.rows.page(0).rows)
        analyzed = session.run(f'EXPLAIN (ANALYZE, FORMAT TEXT) SELECT count(*) FROM "{schema}".victim')
        assert any("actual time" in line for (line,) in analyzed.rows.page(0).rows)


def test_errors_carry_postgres_message_and_the_place_in_the_text(warehouse):
    _env, services, schema = warehouse
    with ReadOnlySession(services) as session:
        text = f'-- leading note\nSELECT id,\n       nope\nFROM "{schema}".victim;'
        with pytest.raises(QueryError) as caught:
            session.run(text)
        error = caught.value
        assert error.message == 'column "nope" does not exist' and error.sqlstate == "42703"
        assert error.position is not None and (error.position.line, error.position.column) == (3, 8)
        assert text[error.position.offset :].startswith("nope")
        assert "(line 3, column 8)" in str(error)
        with pytest.raises(QueryError) as caught:
            session.run("SELECT 1 +\n")
        position = caught.value.position
        assert caught.value.message == "syntax error at end of input" and position is not None and position.column == 11
        with pytest.raises(QueryError) as caught:  # found when the rows are computed: no position to give
            session.run(f'SELECT 1 / (id - 1) FROM "{schema}".victim')
        assert caught.value.message == "division by zero" and caught.value.position is None
        # Text that cannot parse gets PostgreSQL's own syntax error, at its one position.
        with pytest.raises(QueryError) as caught:
            session.run("SELECT 'oops")
        assert caught.value.message == 'unterminated quoted string at or near "\'oops"'
        at = caught.value.position
        assert str(caught.value).count("line ") == 1 and at is not None and at.column == 8
        with pytest.raises(QueryError) as caught:
            session.run("-- a typo\nselec 1")
        assert not isinstance(caught.value, QueryRefused), "a typo is not a refused command"
        assert caught.value.message == 'syntax error at or near "selec"' and caught.value.sqlstate == "42601"
        at = caught.value.position
        assert at is not None and (at.line, at.column) == (2, 1)
        assert str(caught.value) == 'syntax error at or near "selec" (line 2, column 1)'
        with pytest.raises(QueryError) as caught:
            session.run("SELECT 1 /* never closed")
        assert caught.value.message.startswith("unterminated /* comment") and caught.value.position is not None
        with pytest.raises(QueryRefused) as caught:
            session.run("SELECT 1;\nSELECT 2")
        assert str(caught.value).count("line ") == 1 and "(line 2, column 1)" in str(caught.value)
        with pytest.raises(QueryRefused, match="nothing to run"):
            session.run("  -- only a comment\n;")
        with pytest.raises(QueryError, match=r"NUL character.*\(line 2, column 9\)"):
            session.run("SELECT 1\nSELECT '\x00'")


def test_a_running_query_is_cancelled_from_another_thread_and_the_session_stays_usable(warehouse):
    env, services, _schema = warehouse
    with ReadOnlySession(services, statement_timeout_s=120) as session:
        pid = session.backend_pid
        outcome: list[Exception] = []

        def run_long() -> None:
            try:
                session.run("SELECT pg_sleep(60)")
            except (Cancelled, QueryError) as exc:  # handed to the test thread
                outcome.append(exc)

        worker = threading.Thread(target=run_long)
        worker.start()
        deadline = time.monotonic() + WAIT_S
        while not env.query(
            "SELECT 1 FROM pg_stat_activity WHERE pid = %s AND query LIKE %s AND state = 'active'",
            (pid, "%pg_sleep(60)%"),
        ):
            assert time.monotonic() < deadline, "the query never started"
            time.sleep(0.02)
        started = time.monotonic()
        session.cancel()
        worker.join(WAIT_S)
        assert not worker.is_alive() and time.monotonic() - started < WAIT_S
        assert isinstance(outcome[0], Cancelled) and "cancelled by the operator" in str(outcome[0])
        assert session.run("SELECT 42").rows.page(0).rows == [(42,)]
        assert session.backend_pid == pid  # the same connection: a cancel does not cost a reconnect


def test_the_statement_timeout_stops_a_query_with_a_clear_message(warehouse):
    _env, services, _schema = warehouse
    with ReadOnlySession(services, statement_timeout_s=0.2) as session:
        with pytest.raises(QueryError, match=r"stopped by the statement timeout \(0.2s\)"):
            session.run("SELECT pg_sleep(5)")
        assert session.run("SELECT 1").total_rows == 1


def test_a_held_result_keeps_no_lock_or_snapshot_so_tables_can_be_replaced_while_it_is_open(warehouse):
    env, services, schema = warehouse
    with ReadOnlySession(services) as session:
        result = session.run(f'SELECT * FROM "{schema}".victim ORDER BY id')
        pid = session.backend_pid
        assert env.query("SELECT count(*) FROM pg_locks WHERE pid = %s AND locktype = 'relation'", (pid,)) == [(0,)]
        assert env.query("SELECT backend_xmin FROM pg_stat_activity WHERE pid = %s", (pid,)) == [(None,)]
        # What the staging publication does (AccessExclusiveLock): it must not wait for the open result.
        env.execute(f"""SET lock_timeout = '1s';
            ALTER TABLE "{schema}".victim RENAME TO victim_old;
            CREATE TABLE "{schema}".victim AS SELECT 9 AS id, 'nine' AS note;
            DROP TABLE "{schema}".victim_old;""")
        assert result.rows.page(0).rows == [(1, "one"), (2, "two")]  # the result as it was when it ran


def test_a_lost_connection_is_reported_and_the_next_query_reconnects(warehouse):
    env, services, _schema = warehouse
    with ReadOnlySession(services, page_size=2) as session:
        result = session.run("SELECT g FROM generate_series(1, 10) AS g")
        env.query("SELECT pg_terminate_backend(%s)", (session.backend_pid,))
        with pytest.raises(QueryError, match="no longer available|connection to the warehouse was lost"):
            result.rows.page(3)
        assert session.run("SELECT 7").rows.page(0).rows == [(7,)]
        with pytest.raises(QueryError, match="no longer available"):
            result.rows.page(4)


def test_the_history_keeps_texts_durations_rows_and_errors_without_secrets(warehouse, tmp_path):
    _env, services, schema = warehouse
    register_secret("hunter2-secret")
    history = QueryHistory(tmp_path / "state", max_entries=3)
    with ReadOnlySession(services, history=history) as session:
        session.run(f"SELECT * FROM \"{schema}\".victim WHERE note <> 'hunter2-secret'")
        with pytest.raises(QueryRefused):
            session.run(f'DELETE FROM "{schema}".victim')
        with pytest.raises(QueryError):
            session.run("SELECT nope")
    entries = history.entries()
    assert [(e.rows, e.error is not None) for e in entries] == [(2, False), (None, True), (None, True)]
    assert "hunter2-secret" not in history.path.read_text() and "***" in entries[0].text
    assert (entries[1].error or "").startswith("read-only: DELETE is refused")
    assert (entries[2].error or "").startswith('column "nope" does not exist') and entries[2].duration_s >= 0


def test_the_history_file_stays_bounded_and_survives_a_torn_last_line(tmp_path):
    from datetime import UTC, datetime

    history = QueryHistory(tmp_path, max_entries=5)
    at = datetime(2024, 1, 1, tzinfo=UTC)
    for n in range(23):
        history.append(f"SELECT {n}", at, 0.01, n, None)
    lines = history.path.read_text().splitlines()
    assert 5 <= len(lines) < 10
    assert [e.text for e in history.entries()][-5:] == [f"SELECT {n}" for n in range(18, 23)]
    with open(history.path, "a") as f:
        f.write('{"text": "SELECT torn", "at": "2024')  # a crash mid-write
    assert history.entries()[-1].text == "SELECT 22"
    history.append("SELECT after", at, 0.01, 1, None)
    assert history.entries()[-1].text == "SELECT after"


def test_several_results_stay_open_up_to_a_bound_and_the_oldest_is_closed_on_the_server(warehouse):
    _env, services, _schema = warehouse
    with ReadOnlySession(services, page_size=2, max_open_results=2) as session:
        results = [session.run(f"SELECT g * {n} FROM generate_series(1, 10) AS g") for n in (1, 2, 3)]
        assert results[2].rows.page(4).rows == [(27,), (30,)]
        assert results[1].rows.page(1).rows == [(6,), (8,)]
        with pytest.raises(QueryError, match="at most 2 results stay open"):
            results[0].rows.page(1)
        assert results[0].rows.page(0).rows == [(1,), (2,)]  # the first page stays in memory
        held = "SELECT count(*) FROM pg_cursors WHERE is_holdable"
        assert session.read_all(held)[1] == [(2,)]
        results[1].close()
        assert session.read_all(held)[1] == [(1,)]


def test_psycopg2_parameter_markers_and_braces_in_a_text_are_plain_sql(warehouse):
    _env, services, _schema = warehouse
    with ReadOnlySession(services) as session:
        result = session.run("SELECT '100%' AS pct, '%s' AS marker, '{x}' AS braces, 5 % 3 AS modulo")
        assert result.rows.page(0).rows == [("100%", "%s", "{x}", 2)]


def test_between_statements_the_session_sits_idle_outside_any_transaction(warehouse):
    env, services, schema = warehouse
    with ReadOnlySession(services) as session:
        session.run(f'SELECT * FROM "{schema}".victim')
        with pytest.raises(QueryError):
            session.run("SELECT nope")
        pid = session.backend_pid
        assert env.query("SELECT state, backend_xid, backend_xmin FROM pg_stat_activity WHERE pid = %s", (pid,)) == [
            ("idle", None, None)
        ]


def test_the_inspection_core_never_imports_textual():
    import subprocess
    import sys

    modules = [
        "benchmark",
        "catalog",
        "object_sample",
        "object_types",
        "paging",
        "profile",
        "query_history",
        "save_csv",
        "session",
        "sql_lexer",
        "statement",
        "table_view",
    ]
    code = "".join(f"import etl_core.inspect.{m}\n" for m in modules) + "import sys; print('textual' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"
