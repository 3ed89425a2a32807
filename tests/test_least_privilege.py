"""The DBA bootstrap (sql/bootstrap/operator_grants.sql) is enough for a non-superuser to run everything."""

from __future__ import annotations

import psycopg2
import pytest

from etl_core.sql_files import render_sql
from helpers import assert_succeeded, run
from support import create_dims, put_dataset


def test_operator_role_runs_the_whole_pipeline_and_cannot_write_dimensions(make_env, pg_uri):
    env = make_env()
    role = f"op_{env.user_id}"
    create_dims(env, holidays=("2022-01-03",))  # created by the superuser, like a real if_common
    put_dataset(env, [(1, 1, "2022-01-03", 1, 100, 2)], [(5, 1)], [(1, 1, "2022-01-05", None)])
    admin = psycopg2.connect(pg_uri)
    with admin, admin.cursor() as cur:
        cur.execute(f'CREATE ROLE "{role}" LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT')
        cur.execute(
            render_sql(
                "bootstrap/operator_grants.sql",
                operator_role=role,
                staging=f"{env.user_id}_staging",
                analytics=f"{env.user_id}_analytics",
                dims=env.dims_schema,
            )
        )
    admin.close()
    operator_uri = pg_uri.replace("postgres:@", f"{role}:@")
    env.config_path.write_text(env.config_path.read_text().replace(pg_uri, operator_uri))
    assert env.config.warehouse.url == operator_uri

    summary = run(env)
    assert_succeeded(summary)
    assert summary.stages[1].rows == 3

    conn = psycopg2.connect(operator_uri)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT current_user, rolsuper FROM pg_roles WHERE rolname = current_user")
            assert cur.fetchone() == (role, False)
            with pytest.raises(psycopg2.errors.InsufficientPrivilege):
                cur.execute(f"INSERT INTO \"{env.dims_schema}\".dim_products VALUES (99, 'x', 'y')")
    finally:
        conn.close()
