"""The operator's queries run as a reader role: on the embedded warehouse its own `d2b_reader`, on
another one the login `D2B_QUERY_URL` names (sql/bootstrap/reader_grants.sql).

The statements the issue measured against a pane that ran as the pipeline's superuser are sent,
while a real run waits on a real lock, and each is refused; the run then succeeds.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from typing import Any

import psycopg2
import pytest

from etl_core.dimension_load import load_dimensions
from etl_core.embedded.reader_role import FORBIDDEN_MEMBERSHIPS, READER_ROLE
from etl_core.errors import ConfigError, ServiceUnavailable
from etl_core.events import RunSummary
from etl_core.inspect.session import ReadOnlySession
from etl_core.inspect.statement import QueryError
from etl_core.pipeline import run_pipeline
from etl_core.query_address import QUERY_URL_ENV
from etl_core.services import Services, open_services
from etl_core.sql_files import render_sql
from helpers import assert_succeeded
from support import Env, put_small_dataset, write_dimension_files

WAIT_S = 60  # bounded waits for the run; never reached when things work


def reader_facts(admin: psycopg2.extensions.connection, role: str) -> tuple[Any, ...]:
    """(can log in, superuser, the forbidden roles it belongs to, reads all data) as the server says."""
    with admin.cursor() as cur:
        cur.execute(
            "SELECT rolcanlogin, rolsuper, "
            "ARRAY(SELECT f FROM unnest(%s::text[]) f WHERE pg_has_role(rolname, f, 'MEMBER')) "
            "FROM pg_roles WHERE rolname = %s",
            (list(FORBIDDEN_MEMBERSHIPS), role),
        )
        return tuple(cur.fetchone() or ())


@pytest.fixture
def embedded_env(make_env: Callable[..., Env]) -> Env:
    env = make_env()
    put_small_dataset(env)
    env.rewrite_config(url="embedded")
    env.set_timeouts(lock_wait_s=60)
    # The tests' files are not the demo dataset: the embedded warehouse needs real dimensions for analytics.
    load_dimensions(env.config, write_dimension_files(env.config_path.parent / "dims"), lambda _m: None)
    return env


def test_the_embedded_warehouse_has_a_reader_role_that_reads_and_nothing_more(embedded_env):
    env = embedded_env
    with open_services(env.config) as services, closing(services.connect(autocommit=True)) as admin:
        assert_succeeded(run_pipeline(services, ["prepare", "staging"]))
        assert reader_facts(admin, READER_ROLE) == (True, False, [])
        with admin.cursor() as cur:
            cur.execute("SELECT pg_has_role(%s, 'pg_read_all_data', 'USAGE')", (READER_ROLE,))
            assert cur.fetchone() == (True,)
        with ReadOnlySession(services) as session:
            role = session.role()
            assert (role.name, role.superuser, role.source) == (READER_ROLE, False, "embedded reader")
            assert "as d2b_reader (reader role)" == role.caption
            _columns, rows = session.read_all(f'SELECT count(*) FROM "{env.user_id}_staging".orders')
            assert rows == [(3,)]
            _columns, rows = session.read_all(f'SELECT count(*) FROM "{env.dims_schema}".dim_products')
            assert rows[0][0] > 0
    # A start on the existing folder mends a reader whose attributes were changed by hand.
    with (
        open_services(env.config) as services,
        closing(services.connect(autocommit=True)) as admin,
        admin.cursor() as cur,
    ):
        cur.execute(f"ALTER ROLE {READER_ROLE} SUPERUSER; GRANT pg_signal_backend TO {READER_ROLE}")
    with open_services(env.config) as services, closing(services.connect(autocommit=True)) as admin:
        assert reader_facts(admin, READER_ROLE) == (True, False, [])


@dataclass
class HeldRun:
    """A staging run in a thread of this process, waiting for a lock another session holds."""

    thread: threading.Thread
    result: list[RunSummary]


@contextmanager
def staging_waiting_for_a_lock(services: Services, env: Env) -> Iterator[HeldRun]:
    """Run staging while a reader of staging.orders holds its lock: the publication waits (bounded by
    `lock_wait_s`) until the block ends, then the run goes on."""
    holder = services.connect(purpose="test holder")  # a superuser session, not the pane's
    try:
        with holder.cursor() as cur:
            cur.execute(f'SELECT count(*) FROM "{env.user_id}_staging".orders')  # keeps its lock until rollback
        result: list[RunSummary] = []
        thread = threading.Thread(target=lambda: result.append(run_pipeline(services, ["staging"])))
        thread.start()
        with closing(services.connect(autocommit=True, purpose="test watcher")) as watcher:
            deadline = time.monotonic() + WAIT_S
            while True:
                with watcher.cursor() as cur:
                    cur.execute(
                        "SELECT 1 FROM pg_stat_activity WHERE application_name = 'd2b-console publish' "
                        "AND wait_event_type = 'Lock'"
                    )
                    if cur.fetchone():
                        break
                assert time.monotonic() < deadline, "the publication never waited for its lock"
                time.sleep(0.05)
        yield HeldRun(thread, result)
    finally:
        holder.rollback()
        holder.close()


def hostile_statements(env: Env) -> list[tuple[str, str]]:
    """(statement, what the refusal says, a regex): each worked in a pane that ran as the superuser."""
    run_lock = f"hashtextextended('d2b-console:{env.user_id}', 0)"
    return [
        ("SELECT pg_read_file('/etc/hostname')", "permission denied for function pg_read_file"),
        (
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE pid <> pg_backend_pid()",
            "permission denied to terminate process",
        ),
        (
            "SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE pid <> pg_backend_pid()",
            "permission denied to cancel query",
        ),
        (f"SELECT pg_advisory_lock({run_lock})", "a run holds its run lock"),
        ("SELECT set_config('role', 'postgres', false)", 'permission denied to set role "postgres"'),
        ("SELECT lo_import('/etc/hostname')", "lo_import"),
        (f'SELECT * FROM "{env.dims_schema}".dim_products FOR UPDATE', "FOR UPDATE|dim_products"),
    ]


def assert_pane_is_harmless_during_a_run(services: Services, env: Env) -> None:
    assert_succeeded(run_pipeline(services, ["prepare", "staging"]))
    with ReadOnlySession(services, lock_timeout_s=1, statement_timeout_s=20) as pane:
        assert not pane.role().superuser
        with staging_waiting_for_a_lock(services, env) as held:
            for statement, refusal in hostile_statements(env):
                with pytest.raises(QueryError) as refused:
                    pane.run(statement)
                assert re.search(refusal, str(refused.value)), (statement, str(refused.value))
                assert held.thread.is_alive(), f"the run ended during {statement!r}"
        held.thread.join(WAIT_S)
        assert not held.thread.is_alive(), "the run never finished once the lock was released"
        assert_succeeded(held.result[0])
        # Taken from the pane when no run holds it, the run lock is let go with the statement.
        _columns, rows = pane.read_all(f"SELECT pg_advisory_lock(hashtextextended('d2b-console:{env.user_id}', 0))")
        assert rows == [("",)]
        assert_succeeded(run_pipeline(services, ["prepare"]))


def test_the_embedded_pane_during_a_run_refuses_what_a_superuser_could_do(embedded_env):
    with open_services(embedded_env.config) as services:
        assert services.query.source == "embedded reader"
        assert_pane_is_harmless_during_a_run(services, embedded_env)


@pytest.fixture
def reader_env(env, pg_uri, monkeypatch) -> Iterator[tuple[Env, str]]:
    """`env` as the documented external setup: the pipeline runs as an operator role
    (operator_grants.sql), the pane as a reader (reader_grants.sql) named by D2B_QUERY_URL, with a
    password, which must never be shown."""
    operator, reader, password = f"op_{env.user_id}", f"rd_{env.user_id}", f"pw-{env.user_id}-reader"
    schemas = {"staging": f"{env.user_id}_staging", "analytics": f"{env.user_id}_analytics", "dims": env.dims_schema}
    with closing(psycopg2.connect(pg_uri)) as admin, admin, admin.cursor() as cur:
        cur.execute(f'CREATE ROLE "{operator}" LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT')
        cur.execute(f"CREATE ROLE \"{reader}\" LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD '{password}'")
        cur.execute(render_sql("bootstrap/operator_grants.sql", operator_role=operator, **schemas))
        cur.execute(render_sql("bootstrap/reader_grants.sql", reader_role=reader, operator_role=operator, **schemas))
    env.config_path.write_text(
        env.config_path.read_text().replace(pg_uri, pg_uri.replace("postgres:@", f"{operator}:@"))
    )
    monkeypatch.setenv(QUERY_URL_ENV, pg_uri.replace("postgres:@", f"{reader}:{password}@"))
    yield env, password


def test_d2b_query_url_names_the_reader_and_hides_its_password(reader_env):
    env, password = reader_env
    with env.open() as services, ReadOnlySession(services) as session:
        assert services.query.source == "query url"
        assert password not in services.query.label and "***" in services.query.label
        role = session.role()
        assert (role.name, role.superuser) == (f"rd_{env.user_id}", False)
        assert role.caption == f"as rd_{env.user_id} (D2B_QUERY_URL)"
        assert_succeeded(run_pipeline(services))  # tables made by the run are readable at once
        for table in (f'"{env.user_id}_staging".orders', f'"{env.user_id}_analytics".agg_shipments'):
            _columns, rows = session.read_all(f"SELECT count(*) > 0 FROM {table}")
            assert rows == [(True,)], table


def test_the_pane_through_d2b_query_url_during_a_run_refuses_what_a_superuser_could_do(reader_env):
    env, _password = reader_env
    env.set_timeouts(lock_wait_s=60)
    with env.open() as services:
        assert_pane_is_harmless_during_a_run(services, env)


def test_a_bad_d2b_query_url_is_a_configuration_error_naming_it(env, monkeypatch):
    monkeypatch.setenv(QUERY_URL_ENV, "mysql://reader:secret-pw@host/db")
    with pytest.raises(ConfigError) as bad:
        env.open()
    assert bad.value.exit_code == 2
    assert f"[environment {QUERY_URL_ENV}]" in str(bad.value) and "secret-pw" not in str(bad.value)


def test_without_a_reader_the_pane_says_it_runs_as_the_pipelines_superuser(env, monkeypatch):
    monkeypatch.delenv(QUERY_URL_ENV, raising=False)
    with env.open() as services, ReadOnlySession(services) as session:
        role = session.role()
        assert (role.name, role.superuser, role.source) == ("postgres", True, "warehouse role")
        assert role.caption == "as postgres (SUPERUSER, the pipeline's role: set D2B_QUERY_URL for a reader)"


def test_a_reader_that_cannot_log_in_is_named_with_its_own_fix(embedded_env, env, monkeypatch):
    """Not "check [warehouse] url": the pipeline's own login works; the reader's is what to fix."""
    with embedded_env.open() as services:
        with services.transaction("test") as cur:  # the embedded reader role gone (by hand, as a DBA could)
            cur.execute(f"DROP OWNED BY {READER_ROLE}; DROP ROLE {READER_ROLE}")
        with pytest.raises(ServiceUnavailable) as refused:
            services.connect(reader=True).close()
        said = str(refused.value)
        assert f"reader role {READER_ROLE}" in said and "quit the console and start it again" in said, said
        assert "[warehouse] url" not in said
        services.connect().close()  # the pipeline's login is fine

    monkeypatch.setenv(QUERY_URL_ENV, env.pg_uri.replace("postgres:@", "no_such_reader:secret-pw@"))
    with env.open() as services:
        with pytest.raises(ServiceUnavailable) as refused:
            services.connect(reader=True).close()
        said = str(refused.value)
        assert f"the reader login of {QUERY_URL_ENV}" in said and "no_such_reader" in said, said
        assert "sql/bootstrap/reader_grants.sql" in said and "[warehouse] url" not in said
        assert "secret-pw" not in said
