"""A file that fails a blocking check (a header only) never replaces the live staging tables."""

from __future__ import annotations

from typing import Any

from test_cli import cli

from support import ORDERS_HEADER, put_small_dataset

TABLES = ("orders", "reviews", "shipment_deliveries")


def test_a_header_only_orders_file_publishes_nothing_and_every_staging_table_keeps_its_rows(make_env, tmp_path):
    env = make_env(allow_empty_files=False)  # the shipped default
    put_small_dataset(env)

    def contents() -> dict[str, list[tuple[Any, ...]]]:
        return {t: env.query(f'SELECT * FROM "{env.user_id}_staging".{t} ORDER BY 1, 2') for t in TABLES}

    good = cli(["--run-all", "--config", str(env.config_path)], tmp_path)
    assert good.returncode == 0, good.stderr
    before = contents()
    assert all(before.values()), before
    env.put("orders.csv", ORDERS_HEADER)
    env.put("reviews.csv", "review,product_id\n1,2\n")  # a new, valid file: must not be published either

    result = cli(["--run-all", "--config", str(env.config_path)], tmp_path)

    assert result.returncode == 1, result.stderr
    assert "orders_data/orders.csv has no data rows (a header only)" in result.stderr
    assert "nothing was published" in result.stderr
    assert contents() == before
    leftovers = env.query(
        "SELECT tablename FROM pg_tables WHERE schemaname = %s AND tablename LIKE %s",
        (f"{env.user_id}_staging", "%load%"),
    )
    assert leftovers == []
