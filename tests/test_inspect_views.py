"""Table views on the real Postgres: a stated order, sort and filter on the server, columns through the Inspector."""

from __future__ import annotations

from datetime import date

import pytest

from etl_core.errors import D2BError
from etl_core.inspect.catalog import Catalog, ColumnInfo
from etl_core.inspect.session import ReadOnlySession
from etl_core.inspect.statement import QueryRefused
from etl_core.inspect.table_view import Condition, Equals, FilterError, TableView, open_view


@pytest.fixture
def tables(make_env):
    """orders (a key, inserted out of order), reviews (no key), pairs (a two-column key)."""
    env = make_env()
    schema = f"{env.user_id}_staging"
    env.execute(f"""CREATE SCHEMA "{schema}";
        CREATE TABLE "{schema}".orders (order_id int PRIMARY KEY, product_id int NOT NULL, quantity int,
                                        order_date date NOT NULL, note varchar(20));
        INSERT INTO "{schema}".orders
        SELECT g, g % 10, CASE WHEN g % 9 = 0 THEN NULL ELSE g % 4 END, DATE '2022-01-01' + g % 30,
               CASE WHEN g % 2 = 0 THEN 'even' END
        FROM generate_series(1, 1000) AS g ORDER BY random();
        CREATE TABLE "{schema}".reviews (review int, product_id int);
        INSERT INTO "{schema}".reviews VALUES (5, 2), (3, 1), (5, 1), (1, 2), (3, 1);
        CREATE TABLE "{schema}".pairs (a int, b text, c int, PRIMARY KEY (b, a));
        INSERT INTO "{schema}".pairs VALUES (2, 'x', 1), (1, 'y', 2), (1, 'x', 3);""")
    with env.open() as services, ReadOnlySession(services, page_size=50) as session:
        catalog = Catalog(services)
        yield env, session, catalog, schema
        catalog.close()


def ids(view_result, page=0):
    return [row[0] for row in view_result.result.rows.page(page).rows]


def test_a_table_is_paged_in_primary_key_order_and_the_caption_says_so(tables):
    _env, session, catalog, schema = tables
    view = open_view(session, catalog, TableView(schema, "orders"))
    assert ids(view) == list(range(1, 51)) and ids(view, 19) == list(range(951, 1001))
    page = view.result.rows.page(2)
    assert view.caption(page) == "rows 101–150 of 1,000 · ordered by order_id (primary key)"


def test_a_table_without_a_key_is_ordered_by_all_its_columns_and_says_so(tables):
    _env, session, catalog, schema = tables
    view = open_view(session, catalog, TableView(schema, "reviews"))
    assert view.result.rows.page(0).rows == [(1, 2), (3, 1), (3, 1), (5, 1), (5, 2)]
    assert view.query.order_note == "ordered by all columns (review, product_id): the table has no primary key"
    composite = open_view(session, catalog, TableView(schema, "pairs"))
    assert composite.result.rows.page(0).rows == [(1, "x", 3), (2, "x", 1), (1, "y", 2)]  # key (b, a)
    assert composite.query.order_note == "ordered by b, a (primary key)"


def test_sorting_is_done_by_the_server_with_the_key_as_tie_breaker(tables):
    env, session, catalog, schema = tables
    early = []
    view = open_view(
        session,
        catalog,
        TableView(schema, "orders").sorted_by("quantity", descending=True),
        on_first_page=lambda _columns, page: early.append(page),
    )
    assert early[0].rows == view.result.rows.page(0).rows and early[0].total_rows is None  # shown before the rest
    expected = env.query(
        f'SELECT order_id, quantity FROM "{schema}".orders ORDER BY quantity DESC NULLS FIRST, order_id'
    )
    every = [row for n in range(view.result.rows.page_count) for row in view.result.rows.page(n).rows]
    assert [(r[0], r[2]) for r in every] == expected
    assert every[0][2] is None  # descending puts NULLs first, as PostgreSQL does
    assert view.query.order_note == "ordered by quantity descending, then order_id (primary key)"
    ascending = open_view(session, catalog, TableView(schema, "orders").sorted_by("order_date"))
    first = ascending.result.rows.page(0).rows
    assert [r[3] for r in first] == [date(2022, 1, 1)] * 33 + [date(2022, 1, 2)] * 17
    assert [r[0] for r in first[:3]] == [30, 60, 90]


def test_filters_are_pushed_to_the_server_typed_and_null_aware(tables):
    env, session, catalog, schema = tables
    orders = TableView(schema, "orders")
    seven = open_view(session, catalog, orders.where(Equals("product_id", 7)))
    assert seven.result.total_rows == 100 and {r[1] for r in seven.result.rows.page(0).rows} == {7}
    typed_text = open_view(session, catalog, orders.where(Equals("product_id", "7")))  # text typed by the operator
    assert typed_text.result.total_rows == 100
    no_quantity = open_view(session, catalog, orders.where(Equals("quantity", None)))
    assert (
        no_quantity.result.total_rows
        == env.query(f'SELECT count(*) FROM "{schema}".orders WHERE quantity IS NULL')[0][0]
        == 111
    )
    one_day = open_view(session, catalog, orders.where(Equals("order_date", date(2022, 1, 5))))
    assert one_day.result.total_rows == 34
    both = open_view(session, catalog, orders.where(Equals("product_id", 7)).where(Condition("quantity >= 3")))
    assert ids(both) == [
        r[0]
        for r in env.query(
            f'SELECT order_id FROM "{schema}".orders WHERE product_id = 7 AND quantity >= 3 ORDER BY order_id LIMIT 50'
        )
    ]
    assert both.caption(both.result.rows.page(0)).endswith(
        "where product_id = 7 and (quantity >= 3) · ordered by order_id (primary key)"
    )
    quote = open_view(session, catalog, orders.where(Equals("note", "it's; DROP TABLE x")))
    assert quote.result.total_rows == 0


def test_a_typed_condition_must_be_one_expression_and_its_errors_point_into_it(tables):
    env, session, catalog, schema = tables
    orders = TableView(schema, "orders")
    with pytest.raises(FilterError, match="remove the ';'") as caught:
        open_view(session, catalog, orders.where(Condition("quantity > 1; DROP TABLE x")))
    assert caught.value.position is not None
    assert caught.value.position.column == 13 and caught.value.filter_index == 0
    with pytest.raises(FilterError, match=r"unbalanced '\)'"):
        open_view(session, catalog, orders.where(Condition("1 = 1) ; DROP TABLE x; SELECT (1")))
    with pytest.raises(FilterError) as caught:
        open_view(session, catalog, orders.where(Equals("product_id", 1)).where(Condition("quantity >\n nope")))
    error = caught.value
    assert error.filter_index == 1 and 'column "nope" does not exist' in error.message
    assert error.position is not None and (error.position.line, error.position.column) == (2, 2)
    with pytest.raises(QueryRefused, match="read-only"):
        open_view(session, catalog, orders.where(Condition("order_id = lo_create(0)")))  # a function that writes
    assert env.query(f'SELECT count(*) FROM "{schema}".orders') == [(1000,)]


def test_identifiers_are_checked_against_the_real_columns(tables):
    _env, session, catalog, schema = tables
    with pytest.raises(D2BError, match="has no column 'quantity; DROP TABLE x'; its columns are order_id, product_id"):
        open_view(session, catalog, TableView(schema, "orders").sorted_by("quantity; DROP TABLE x"))
    with pytest.raises(D2BError, match="has no column"):
        open_view(session, catalog, TableView(schema, "orders").where(Equals('x" = 1 OR "y', 1)))
    with pytest.raises(D2BError, match=f"table {schema}.nope does not exist"):
        open_view(session, catalog, TableView(schema, "nope"))


def test_the_inspector_lists_types_nullability_and_the_primary_key(tables):
    _env, _session, catalog, schema = tables
    orders = catalog.describe(schema, "orders")
    assert orders.columns == (
        ColumnInfo("order_id", "integer", False, True),
        ColumnInfo("product_id", "integer", False, False),
        ColumnInfo("quantity", "integer", True, False),
        ColumnInfo("order_date", "date", False, False),
        ColumnInfo("note", "varchar(20)", True, False),
    )
    assert orders.primary_key == ("order_id",)
    assert catalog.describe(schema, "pairs").primary_key == ("b", "a")
    assert catalog.describe(schema, "reviews").primary_key == ()


def test_an_open_view_does_not_block_the_staging_publication(env):
    from helpers import assert_succeeded, run

    assert_succeeded(run(env, ("prepare", "staging")))
    staging = f"{env.user_id}_staging"
    env.execute(f"INSERT INTO \"{staging}\".orders VALUES (99, 1, DATE '2022-01-03', 1, 1, 1, 1)")
    with env.open() as services, ReadOnlySession(services, page_size=2) as session:
        catalog = Catalog(services)
        view = open_view(session, catalog, TableView(staging, "orders"))
        assert view.result.total_rows == 4
        # The stage replaces the table (AccessExclusiveLock) while the view is open: it must not wait.
        assert_succeeded(run(env, ("staging",)))
        assert [r[0] for r in view.result.rows.page(1).rows] == [3, 99]  # the view shows the rows it was opened on
        assert open_view(session, catalog, TableView(staging, "orders")).result.total_rows == 3
        catalog.close()


def test_a_condition_with_percent_signs_and_braces_is_plain_sql(tables):
    env, session, catalog, schema = tables
    view = open_view(session, catalog, TableView(schema, "orders").where(Condition("note LIKE 'ev%' AND '{x}' <> ''")))
    assert view.result.total_rows == env.query(f"SELECT count(*) FROM \"{schema}\".orders WHERE note LIKE 'ev%'")[0][0]
