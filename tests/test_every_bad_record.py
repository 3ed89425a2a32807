"""A refused file names every bad record in one run, in line order: in the error, in --json and in a reject
report (CSV) in the state folder; nothing of it is loaded and the staging tables keep their rows."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

from etl_core.stages.staging.file_check import FileCheck
from etl_core.stages.staging.file_scan import FileScan
from etl_core.stages.staging.sources import SOURCE_FILES
from etl_core.stages.staging.table_columns import ExpectedColumn
from etl_core.stages.staging.value_checks import ColumnCheck
from helpers import assert_succeeded, run
from support import ORDERS_HEADER, REVIEWS_HEADER, create_dims, put_dataset

STAGING = ("prepare", "staging")


def orders_with(bad: dict[int, str], lines: int = 14) -> str:
    """Good orders on file lines 2..lines, with the given lines replaced."""
    rows = [f"{n},1,2022-01-{n % 28 + 1:02d},1,10,1,10\n" for n in range(2, lines + 1)]
    for line, text in bad.items():
        rows[line - 2] = text
    return ORDERS_HEADER + "".join(rows)


# Four kinds of bad record, on lines 3, 6, 9 and 12 (the orders.csv took five runs to find them).
FOUR_BAD = orders_with(
    {
        3: "3,1,5 Sep 22,1,10,1,10\n",  # not an ISO date
        6: "6,1,2022-01-06,1,10,0,10\n",  # breaks quantity_positive
        9: "9,x,2022-01-09,1,10,1,10\n",  # not an integer
        12: "5,1,2022-01-12,1,10,1,10\n",  # order_id 5 again (line 5)
    }
)


def loaded_env(make_env):
    env = make_env()
    create_dims(env)
    put_dataset(env, [(1, 1, "2022-01-01", 1, 10, 1)], [(5, 1)], [])
    assert_succeeded(run(env, STAGING))
    return env


def staged_orders(env) -> list[tuple[object, ...]]:
    rows: list[tuple[object, ...]] = env.query(f'SELECT * FROM "{env.user_id}_staging".orders ORDER BY order_id')
    return rows


def test_one_run_names_every_bad_record_in_line_order_with_a_reject_report(make_env):
    env = loaded_env(make_env)
    before = staged_orders(env)
    env.put("orders.csv", FOUR_BAD)
    staging = run(env, STAGING).stages[1]
    assert staging.status == "failed" and staging.error
    lines = staging.error.splitlines()
    assert lines[0].startswith("orders_data/orders.csv: 4 bad records, the first on line 3 (every bad record is in "), (
        staging.error
    )
    assert lines[1:] == [
        "  line 3, column order_date (field 3): not an ISO date (YYYY-MM-DD); value '5 Sep 22'",
        "  line 6, column quantity (field 6): value breaks the rule quantity_positive; value '0'",
        "  line 9, column customer_id (field 2): invalid input syntax for type integer; value 'x'",
        "  line 12, column order_id (field 1): duplicate key value, first seen on line 5; value '5'",
    ]
    (rejected,) = staging.details["rejected"]
    assert rejected["bad_records"] == 4 and rejected["table"] == "orders"
    assert [(r["line"], r["column"], r["value"]) for r in rejected["records"]] == [
        (3, "order_date", "5 Sep 22"),
        (6, "quantity", "0"),
        (9, "customer_id", "x"),
        (12, "order_id", "5"),
    ]
    report = Path(rejected["report"])
    assert str(report) in lines[0] and report.is_relative_to(env.config.console.state_dir)
    with report.open(newline="") as file:
        rows = list(csv.DictReader(file))
    assert [(r["key"], r["line"], r["column"], r["problem"][:20]) for r in rows] == [
        ("orders_data/orders.csv", "3", "order_date", "not an ISO date (YYY"),
        ("orders_data/orders.csv", "6", "quantity", "value breaks the rul"),
        ("orders_data/orders.csv", "9", "customer_id", "invalid input syntax"),
        ("orders_data/orders.csv", "12", "order_id", "duplicate key value,"),
    ]
    assert staged_orders(env) == before  # whole or not at all


def test_beyond_100_bad_records_the_message_says_how_many_more_and_the_report_has_them_all(make_env):
    env = loaded_env(make_env)
    env.put("orders.csv", orders_with({n: f"{n},1,2022-01-01,1,-1,1,10\n" for n in range(2, 152)}, lines=160))
    staging = run(env, STAGING).stages[1]
    assert staging.error
    lines = staging.error.splitlines()
    assert lines[0].startswith("orders_data/orders.csv: 150 bad records, the first on line 2")
    assert len(lines) == 1 + 100 + 1 and lines[-1] == "  and 50 more (in the reject report)"
    assert lines[100].startswith("  line 101, column unit_price (field 5)")
    (rejected,) = staging.details["rejected"]
    assert rejected["bad_records"] == 150 and len(rejected["records"]) == 100
    with Path(rejected["report"]).open(newline="") as file:
        assert [int(r["line"]) for r in csv.DictReader(file)] == list(range(2, 152))


def test_two_bad_files_are_both_named_in_one_run(make_env):
    env = loaded_env(make_env)
    env.put("orders.csv", FOUR_BAD)
    env.put("reviews.csv", REVIEWS_HEADER + "5,1\n9,1\n4,1\n0,2\n")
    staging = run(env, STAGING).stages[1]
    assert staging.error
    assert [(r["table"], r["bad_records"]) for r in staging.details["rejected"]] == [("orders", 4), ("reviews", 2)]
    assert "orders_data/reviews.csv: 2 bad records, the first on line 3" in staging.error
    assert "  line 5, column review (field 1): value breaks the rule review_between_1_and_5; value '0'" in (
        staging.error.splitlines()
    )


def test_the_cli_json_lists_each_bad_record_with_key_line_column_problem_and_value(make_env, tmp_path):
    env = loaded_env(make_env)
    env.put("orders.csv", FOUR_BAD)
    result = subprocess.run(
        [sys.executable, "-m", "etl_core", "--stage", "staging", "--json", "--config", str(env.config_path)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        env={k: v for k, v in os.environ.items() if k != "D2B_WAREHOUSE_URL"},
    )
    assert result.returncode == 1, result.stderr
    staging = json.loads(result.stdout)["stages"][0]
    records = staging["details"]["rejected"][0]["records"]
    assert records[0] == {
        "key": "orders_data/orders.csv",
        "line": 3,
        "column": "order_date",
        "field": 3,
        "problem": "not an ISO date (YYYY-MM-DD)",
        "value": "5 Sep 22",
    }
    assert [r["line"] for r in records] == [3, 6, 9, 12]
    assert "line 12, column order_id (field 1): duplicate key value" in result.stderr
    assert "Traceback" not in result.stderr


def test_the_integer_check_agrees_with_postgresqls_own_input_function(env):
    """int4 as PostgreSQL 16 reads it: spaces, signs, bases, underscores, 32 bits."""
    check = ColumnCheck(ExpectedColumn("n", "integer", True))
    values = [
        "0", "-0", "+7", " 12 ", "\t3\n", "007", "1_000", "1__0", "_1", "1_", "0x1F", "0X_ff", "0o17", "0b101",
        "0x", "0b2", "2147483647", "2147483648", "-2147483648", "-2147483649", "1e3", "1.0", "12a", "- 1",
        "0x7FFFFFFF", "0x80000000", "99999999999999999999999999999999999999999", "", "١٢",
    ]  # fmt: skip
    rows = env.query("SELECT v, pg_input_is_valid(v, 'integer') FROM unnest(%s::text[]) AS v", (values,))
    postgres = {value: valid for value, valid in rows}
    ours = {value: check.problem(value.encode()) is None for value in values if value}
    assert ours == {value: postgres[value] for value in values if value}


def test_a_plain_scan_and_a_record_by_record_scan_find_the_same_records():
    """The fast path (one regular expression over whole lines) clears exactly what the exact check clears."""
    source = SOURCE_FILES[0]
    data = FOUR_BAD.split("\n", 1)[1].encode() + b'20,1,"2022-01-20",1,10,1,10\n21,1,2022-02-29,1,10,1,10\n'
    fast = FileScan(FileCheck.for_source(source, list(source.columns))).feed_all([data])
    byte_by_byte = FileScan(FileCheck.for_source(source, list(source.columns))).feed_all(
        [data[i : i + 1] for i in range(len(data))]
    )
    assert [(b.line, b.column) for b in fast.bad] == [(b.line, b.column) for b in byte_by_byte.bad]
    assert [(b.line, b.column) for b in fast.bad][-1] == (16, "order_date")  # 2022 is no leap year
    assert fast.records == byte_by_byte.records == 15
