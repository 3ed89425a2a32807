"""Client mode loads a file whose lines mix CRLF and LF (COPY alone refuses one), also where a CRLF is split
between two reads; a CR that ends no line is still refused."""

from __future__ import annotations

from datetime import date

from etl_core.stages.staging.csv_stream import READ_SIZE
from helpers import assert_succeeded, run
from support import ORDERS_HEADER, REVIEWS_HEADER, SHIPMENTS_HEADER, Env, create_dims

STAGING = ("prepare", "staging")


def mixed_orders(rows: int) -> bytes:
    """orders.csv with a CRLF header, then lines ending CRLF and LF in turn; one line's CR is the last byte of
    the first READ_SIZE bytes, its LF the first of the next (its order_id padded with zeros to get there)."""
    lines = [ORDERS_HEADER.replace("\n", "\r\n").encode()]
    size, placed = len(lines[0]), False
    for i in range(1, rows + 1):
        line = f"{i},1,2022-01-{i % 28 + 1:02d},1,10,2,20".encode()
        ending = b"\r\n" if i % 2 else b"\n"
        if not placed and size + 2 * (len(line) + 2) > READ_SIZE:
            line, ending, placed = line.rjust(READ_SIZE - 1 - size, b"0"), b"\r\n", True
        lines.append(line + ending)
        size += len(line) + len(ending)
    return b"".join(lines)


def test_a_file_mixing_crlf_and_lf_loads_in_client_mode(make_env):
    env: Env = make_env()
    create_dims(env)
    env.put(
        "orders.csv",
        ORDERS_HEADER + "1,1,2022-01-05,1,10,2,20\r\n2,1,2022-01-06,1,10,2,20\n3,1,2022-01-07,1,10,2,20\r\n",
    )
    env.put("reviews.csv", REVIEWS_HEADER.replace("\n", "\r\n") + "5,1\n4,1\r\n3,1")
    env.put("shipment_deliveries.csv", SHIPMENTS_HEADER + "1,1,2022-01-06,\r\n2,2,,\n")
    summary = run(env, STAGING)
    assert_succeeded(summary)
    orders = env.query(f'SELECT order_id, order_date FROM "{env.user_id}_staging".orders ORDER BY 1')
    assert orders == [(1, date(2022, 1, 5)), (2, date(2022, 1, 6)), (3, date(2022, 1, 7))]
    assert env.query(f'SELECT count(*) FROM "{env.user_id}_staging".reviews') == [(3,)]
    shipments = env.query(f'SELECT * FROM "{env.user_id}_staging".shipment_deliveries ORDER BY 1')
    assert shipments == [(1, 1, date(2022, 1, 6), None), (2, 2, None, None)]


def test_a_large_mixed_file_with_a_crlf_split_between_reads_loads_every_row(make_env):
    env: Env = make_env()
    create_dims(env)
    body = mixed_orders(40_000)
    assert body[READ_SIZE - 1 : READ_SIZE + 1] == b"\r\n", body[READ_SIZE - 20 : READ_SIZE + 5]
    env.put("orders.csv", body)
    env.put("reviews.csv", REVIEWS_HEADER + "5,1\n")
    env.put("shipment_deliveries.csv", SHIPMENTS_HEADER + "1,1,,\n")
    assert_succeeded(run(env, STAGING))
    assert env.query(f'SELECT count(*), max(order_id) FROM "{env.user_id}_staging".orders') == [(40_000, 40_000)]


def test_a_cr_that_ends_no_line_is_still_refused_naming_the_line(make_env):
    env: Env = make_env()
    create_dims(env)
    env.put("orders.csv", ORDERS_HEADER + "1,1,2022-01-05,1,10,2,20\n2,1,2022-01-06,1,1\r0,2,20\n")
    env.put("reviews.csv", REVIEWS_HEADER + "5,1\n")
    env.put("shipment_deliveries.csv", SHIPMENTS_HEADER + "1,1,,\n")
    summary = run(env, STAGING)
    assert summary.stages[1].status == "failed"
    assert (summary.stages[1].error or "").startswith("orders_data/orders.csv: line 3"), summary.stages[1].error
