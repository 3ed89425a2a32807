"""`--dry-run` and the start of a run check the dimension schema, its four tables and the columns the SQL
reads: a missing one exits 3 naming it, before anything is published or recorded."""

from __future__ import annotations

import json

from test_cli import cli

from etl_core.dimensions import columns_read
from support import put_small_dataset

TABLES = ("orders", "reviews", "shipment_deliveries")


def test_the_columns_checked_are_the_ones_the_sql_reads():
    assert columns_read() == {
        "dim_addresses": (),
        "dim_customers": ("customer_id",),
        "dim_dates": ("calendar_dt", "day_of_the_week_num", "working_day"),
        "dim_products": ("product_id", "product_name"),
    }


def test_a_missing_dimension_schema_fails_the_dry_run_and_the_run_with_exit_3(make_env, tmp_path):
    env = make_env()
    put_small_dataset(env)
    env.rewrite_config(dims_schema="no_such_dims")
    for action in ("--dry-run", "--run-all"):
        result = cli([action, "--json", "--config", str(env.config_path)], tmp_path, timeout=120)
        assert result.returncode == 3, result.stderr
        assert "dimension schema ([warehouse] dims_schema = 'no_such_dims'): schema no_such_dims;" in result.stderr
        assert json.loads(result.stdout)["exit_code"] == 3
    assert env.query(f'SELECT count(*) FROM "{env.user_id}_staging".console_runs') == [(0,)]  # nothing recorded


def test_a_missing_table_or_column_fails_before_anything_is_published_or_recorded(make_env, tmp_path):
    env = make_env()
    put_small_dataset(env)
    good = cli(["--run-all", "--config", str(env.config_path)], tmp_path)
    assert good.returncode == 0, good.stderr
    staged = {t: env.query(f'SELECT * FROM "{env.user_id}_staging".{t} ORDER BY 1, 2') for t in TABLES}
    runs = env.query(f'SELECT run_id, status FROM "{env.user_id}_staging".console_runs ORDER BY 1')
    dims = env.dims_schema
    env.execute(f'DROP TABLE "{dims}".dim_products; ALTER TABLE "{dims}".dim_dates DROP COLUMN working_day')
    env.put(
        "orders.csv",
        "order_id,customer_id,order_date,product_id,unit_price,quantity,total_price\n9,1,2022-02-01,1,1,1,1\n",
    )

    dry = cli(["--dry-run", "--config", str(env.config_path)], tmp_path, timeout=120)
    result = cli(["--run-all", "--config", str(env.config_path)], tmp_path, timeout=120)

    for outcome in (dry, result):
        assert outcome.returncode == 3, outcome.stderr
        assert f"column {dims}.dim_dates.working_day, table {dims}.dim_products; nothing was run" in outcome.stderr
        assert "Traceback" not in outcome.stderr
    assert {t: env.query(f'SELECT * FROM "{env.user_id}_staging".{t} ORDER BY 1, 2') for t in TABLES} == staged
    assert env.query(f'SELECT run_id, status FROM "{env.user_id}_staging".console_runs ORDER BY 1') == runs


def test_a_column_the_operator_may_not_read_is_named(make_env, tmp_path):
    env = make_env()
    put_small_dataset(env)
    role = f"{env.user_id}_reader"
    dims = env.dims_schema
    env.execute(
        f'CREATE ROLE "{role}" LOGIN; GRANT USAGE ON SCHEMA "{dims}" TO "{role}"; '
        f'GRANT SELECT ON ALL TABLES IN SCHEMA "{dims}" TO "{role}"; '
        f'REVOKE SELECT ON "{dims}".dim_products FROM "{role}"; '
        f'GRANT SELECT (product_id) ON "{dims}".dim_products TO "{role}"'
    )
    try:
        url = env.pg_uri.replace("postgres:@", f"{role}:@")
        env.config_path.write_text(env.config_path.read_text().replace(env.pg_uri, url))
        result = cli(["--dry-run", "--config", str(env.config_path)], tmp_path, timeout=120)
        assert result.returncode == 3, result.stderr
        assert f"column {dims}.dim_products.product_name (no SELECT privilege for this user)" in result.stderr
    finally:
        env.execute(f'DROP OWNED BY "{role}"; DROP ROLE "{role}"')
