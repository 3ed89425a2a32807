"""Types of an S3 object next to what the staging table expects, and the sampled values that would not load."""

from __future__ import annotations

import pandas

from etl_core.inspect.catalog import Catalog
from etl_core.inspect.object_sample import read_sample
from etl_core.inspect.object_types import check_object_types, expected_columns, parse_create_table
from etl_core.stages.staging.sources import SOURCE_FILES
from helpers import assert_succeeded, run
from support import ORDERS_HEADER

TEXT = str(pandas.Series(["a"]).dtype)  # "str" with pandas 3, "object" before

BAD_ORDERS = ORDERS_HEADER + (
    "1,1,2022-01-03,1,100,2,200\n"  # line 2: fine
    "2,2,2022-13-45,1,100,2,200\n"  # line 3: not a date
    "3,3,2022-01-03,1,100,x,200\n"  # line 4: not an integer
    "4,4,2022-01-03,1,-5,2,200\n"  # line 5: breaks unit_price_not_negative
    "5,,2022-01-03,1,100,2,200\n"  # line 6: empty in a NOT NULL column
    '6,6,2022-01-03,1,100,"1\n2",200\n'  # lines 7-8: a quoted line break, still not an integer
    "7,7,2022-02-30,1,100,2,9999999999\n"  # line 9: no 30 February; out of integer range
)


def test_sampled_values_that_would_not_load_are_named_by_line_column_and_value(env):
    env.put("orders.csv", BAD_ORDERS)
    with env.open() as services:
        types = check_object_types(services, read_sample(services, env.bucket, "orders_data/orders.csv"))
    assert types.table == "orders" and types.scope == f"all 7 rows of s3://{env.bucket}/orders_data/orders.csv"
    found = [(b.line, b.column, b.value) for b in types.bad_values]
    assert found == [
        (3, "order_date", "2022-13-45"),
        (4, "quantity", "x"),
        (5, "unit_price", "-5"),
        (6, "customer_id", ""),
        (7, "quantity", '"1\n2"'),
        (9, "order_date", "2022-02-30"),
        (9, "total_price", "9999999999"),
    ]
    problems = {(b.line, b.column): b.problem for b in types.bad_values}
    # staging's own words: the preview and staging share their checks (etl_core.stages.staging.file_check)
    assert problems[(3, "order_date")] == "date/time field value out of range"
    assert problems[(4, "quantity")] == "invalid input syntax for type integer"
    assert problems[(5, "unit_price")] == "value breaks the rule unit_price_not_negative"
    assert problems[(6, "customer_id")] == "empty, but the column needs a value"
    assert problems[(9, "total_price")] == "value is out of range for type integer"
    assert types.bad_value_count == 7
    columns = {c.column: (c.pandas_dtype, c.expected_type, c.nullable, c.bad_values) for c in types.columns}
    assert columns == {
        "order_id": ("int64", "integer", False, 0),
        "customer_id": ("float64", "integer", False, 1),
        "order_date": (TEXT, "date", False, 2),
        "product_id": ("int64", "integer", False, 0),
        "unit_price": ("int64", "integer", False, 1),
        "quantity": (TEXT, "integer", False, 2),
        "total_price": ("int64", "integer", False, 1),
    }


def test_a_clean_object_has_no_bad_values_and_nullable_dates_may_be_empty(env):
    with env.open() as services:
        types = check_object_types(services, read_sample(services, env.bucket, "orders_data/shipment_deliveries.csv"))
    assert types.table == "shipment_deliveries" and types.bad_values == () and types.note == ""
    assert [(c.column, c.expected_type, c.nullable) for c in types.columns] == [
        ("shipment_id", "integer", False),
        ("order_id", "integer", False),
        ("shipment_date", "date", True),
        ("delivery_date", "date", True),
    ]


def test_an_object_that_is_not_a_source_file_gets_pandas_types_only(env):
    env.put("notes.csv", "a,b\n1,x\n2,y\n")
    with env.open() as services:
        types = check_object_types(services, read_sample(services, env.bucket, "orders_data/notes.csv"))
    assert types.table is None and "not a source file" in types.note
    assert [(c.column, c.pandas_dtype, c.expected_type) for c in types.columns] == [
        ("a", "int64", None),
        ("b", TEXT, None),
    ]


def test_the_expected_types_read_from_the_ddl_are_those_of_the_loaded_staging_tables(env):
    assert_succeeded(run(env, ("prepare", "staging")))
    with env.open() as services:
        catalog = Catalog(services)
        try:
            for source in SOURCE_FILES:
                live = catalog.describe(f"{env.user_id}_staging", source.table)
                assert [(c.name, c.type_name, c.nullable) for c in live.columns] == [
                    (c.name, c.type_name, c.nullable) for c in expected_columns(source)
                ], source.table
        finally:
            catalog.close()


def test_the_ddl_reader_takes_types_with_arguments_and_skips_table_constraints():
    columns = parse_create_table("""
        -- a comment (with a parenthesis
        CREATE TABLE {schema}.{table} (
            amount  numeric(10, 2) NOT NULL CONSTRAINT amount_positive CHECK (amount > (0)),
            label   varchar(20) DEFAULT 'a,b',
            at      timestamp with time zone,
            PRIMARY KEY (amount),
            CONSTRAINT table_rule CHECK (label <> '')
        );""")
    assert [(c.name, c.type_name, c.nullable, [r.name for r in c.rules]) for c in columns] == [
        ("amount", "numeric(10, 2)", False, ["amount_positive"]),
        ("label", "varchar(20)", True, []),
        ("at", "timestamp with time zone", True, []),
    ]
    assert columns[0].rules[0].expression == "amount > (0)"
