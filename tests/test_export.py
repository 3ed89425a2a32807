"""Exports read back through boto3 and compared line by line with the expected CSV text."""

from __future__ import annotations

import re
import threading

from etl_core.events import LogLine
from helpers import assert_succeeded, run
from support import Env, create_dims, put_dataset


def read_export(env: Env, table: str) -> list[str]:
    key = f"analytics_export/{env.user_id}/{table}.csv"
    body: bytes = env.s3.get_object(Bucket=env.bucket, Key=key)["Body"].read()
    return body.decode().splitlines()


def test_exported_csvs_match_expected_text_and_keep_every_day(make_env):
    env = make_env()
    create_dims(env, holidays=("2022-01-03",), products={1: "alpha", 2: "beta"})
    orders = [(1, 1, "2022-01-03", 1, 100, 2), (2, 2, "2022-05-02", 2, 50, 1), (3, 3, "2022-06-01", 1, 10, 3)]
    reviews = [(5, 1), (5, 1), (4, 1), (3, 2)]
    shipments = [(1, 1, "2022-01-05", "2022-01-07"), (2, 2, None, None), (3, 3, "2022-06-08", None)]
    put_dataset(env, orders, reviews, shipments)
    env.rewrite_config(ingestion_date="2022-09-05")
    assert_succeeded(run(env))
    env.rewrite_config(ingestion_date="2022-09-06")
    summary = run(env)
    assert_succeeded(summary)

    assert read_export(env, "agg_public_holiday") == [
        (
            "ingestion_date,tt_order_hol_jan,tt_order_hol_feb,tt_order_hol_mar,tt_order_hol_apr,tt_order_hol_may,"
            "tt_order_hol_jun,tt_order_hol_jul,tt_order_hol_aug,tt_order_hol_sep,tt_order_hol_oct,tt_order_hol_nov,"
            "tt_order_hol_dec"
        ),
        "2022-09-05,1,0,0,0,0,0,0,0,0,0,0,0",
        "2022-09-06,1,0,0,0,0,0,0,0,0,0,0,0",
    ]
    assert read_export(env, "agg_shipments") == [
        "ingestion_date,tt_late_shipments,tt_undelivered_items",
        "2022-09-05,1,1",
        "2022-09-06,1,1",
    ]
    header = (
        "ingestion_date,product_name,most_ordered_day,is_public_holiday,tt_review_points,pct_one_star_review,"
        "pct_two_star_review,pct_three_star_review,pct_four_star_review,pct_five_star_review,"
        "pct_early_shipments,pct_late_shipments"
    )
    assert read_export(env, "best_performing_product") == [
        header,
        "2022-09-05,alpha,2022-01-03,true,14,0,0,0,33.33,66.67,50,50",
        "2022-09-06,alpha,2022-01-03,true,14,0,0,0,33.33,66.67,50,50",
    ]
    export = summary.stages[-1]
    assert sorted(d["uri"] for d in export.details.values()) == [
        f"s3://{env.bucket}/analytics_export/{env.user_id}/{t}.csv"
        for t in ("agg_public_holiday", "agg_shipments", "best_performing_product")
    ]


def test_false_holiday_flag_is_exported_as_false(make_env):
    env = make_env()
    create_dims(env, products={1: "alpha"})
    put_dataset(env, [(1, 1, "2022-03-01", 1, 10, 1)], [(5, 1)], [])
    assert_succeeded(run(env))
    assert read_export(env, "best_performing_product")[1] == "2022-09-06,alpha,2022-03-01,false,5,0,0,0,0,100,0,0"


def test_export_to_a_missing_bucket_fails_clearly_and_leaves_analytics_intact(make_env):
    env = make_env(export_bucket="no-such-export-bucket")
    create_dims(env, products={1: "alpha"})
    put_dataset(env, [(1, 1, "2022-03-01", 1, 10, 1)], [(5, 1)], [])
    summary = run(env)
    export = summary.stages[-1]
    assert (summary.status, export.status) == ("failed", "failed")
    assert "no-such-export-bucket" in (export.error or "") and "NoSuchBucket" in (export.error or "")
    assert env.query(f'SELECT count(*) FROM "{env.user_id}_analytics".agg_shipments') == [(1,)]


def test_export_refuses_when_the_run_row_is_missing(make_env):
    env = make_env()
    create_dims(env, products={1: "alpha"})
    put_dataset(env, [(1, 1, "2022-03-01", 1, 10, 1)], [(5, 1)], [])
    assert_succeeded(run(env, ("prepare", "staging")))
    summary = run(env, ("export",))
    assert summary.stages[0].status == "failed"
    assert "export refused, analytics checks failed" in (summary.stages[0].error or "")
    listing = env.s3.list_objects_v2(Bucket=env.bucket, Prefix="analytics_export/")
    assert listing.get("KeyCount", 0) == 0


def test_large_objects_go_up_in_parts_and_an_aborted_upload_leaves_nothing(s3, make_env):
    from etl_core.s3 import PART_SIZE, MultipartWriter

    env = make_env()
    line = b"x" * 1023 + b"\n"
    body = line * (2 * PART_SIZE // len(line) + 10)  # a bit over two parts
    writer = MultipartWriter(s3, env.bucket, "out/big.csv")
    for start in range(0, len(body), 65536):
        writer.write(body[start : start + 65536])
    assert writer.upload_id is not None
    assert s3.list_objects_v2(Bucket=env.bucket, Prefix="out/").get("KeyCount", 0) == 0  # not visible yet
    writer.complete()
    assert s3.get_object(Bucket=env.bucket, Key="out/big.csv")["Body"].read() == body

    aborted = MultipartWriter(s3, env.bucket, "out/aborted.csv")
    aborted.write(body)
    aborted.abort()
    assert s3.list_objects_v2(Bucket=env.bucket, Prefix="out/aborted").get("KeyCount", 0) == 0
    assert not s3.list_multipart_uploads(Bucket=env.bucket).get("Uploads")


def test_the_writer_keeps_its_own_copy_of_each_write(s3, make_env):
    from etl_core.s3 import PART_SIZE, MultipartWriter

    env = make_env()
    chunk = bytearray(1024 * 1024)
    expected = b""
    writer = MultipartWriter(s3, env.bucket, "out/reused.csv")
    for n in range(PART_SIZE // len(chunk) + 2):  # over one part: the first part uploads while writes go on
        chunk[:] = bytes([65 + n]) * len(chunk)  # the caller reuses its buffer, as io.BufferedWriter does
        assert writer.write(memoryview(chunk)) == len(chunk)
        expected += bytes(chunk)
    writer.complete()
    assert writer.bytes_written == len(expected)
    assert s3.get_object(Bucket=env.bucket, Key="out/reused.csv")["Body"].read() == expected


def test_time_at_the_export_preview_is_the_operators_not_the_stages(make_env):
    env = make_env()
    create_dims(env, products={1: "alpha"})
    put_dataset(env, [(1, 1, "2022-03-01", 1, 10, 1)], [(5, 1)], [])
    waited = threading.Event()

    def confirm_after_a_while() -> bool:
        waited.wait(3)  # an operator reading the preview for three seconds
        return True

    lines: list[LogLine] = []
    summary = run(
        env, confirm_export=confirm_after_a_while, sink=lambda e: lines.append(e) if isinstance(e, LogLine) else None
    )
    assert_succeeded(summary)
    assert summary.duration_s - sum(s.duration_s for s in summary.stages) >= 3  # in the run, not in the export
    assert any(re.fullmatch(r"export confirmed at the export preview after 3\.\ds", line.message) for line in lines)
