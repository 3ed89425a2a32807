"""Saving to CSV: every row, compared with the table; atomic on failure, full disk and cancel; no overwrite."""

from __future__ import annotations

import csv
import os
import subprocess
import tempfile
from pathlib import Path

import pytest

from etl_core.errors import Cancelled
from etl_core.events import CancelToken
from etl_core.inspect.catalog import Catalog
from etl_core.inspect.save_csv import SaveError, SaveOptions, SaveProgress, save_result_csv, save_view_csv
from etl_core.inspect.session import ReadOnlySession
from etl_core.inspect.statement import QueryError
from etl_core.inspect.table_view import Equals, TableView

ROWS = 30_000


@pytest.fixture
def table(make_env):
    env = make_env()
    schema = f"{env.user_id}_staging"
    env.execute(f"""CREATE SCHEMA "{schema}";
        CREATE TABLE "{schema}".orders (order_id int PRIMARY KEY, product_id int, note text);
        INSERT INTO "{schema}".orders
        SELECT g, g % 10, CASE WHEN g % 1000 = 0 THEN E'a "quoted",\\nmulti-line note' WHEN g % 3 = 0 THEN NULL
                          ELSE 'note ' || g END
        FROM generate_series(1, {ROWS}) AS g ORDER BY random();""")
    with env.open() as services:
        catalog = Catalog(services)
        yield env, services, catalog, schema
        catalog.close()


def read_csv(path: Path) -> list[list[str]]:
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.reader(f))


def as_csv_rows(rows) -> list[list[str]]:
    return [["" if v is None else str(v) for v in row] for row in rows]


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


def test_a_whole_table_is_saved_in_view_order_with_progress(table, tmp_path):
    env, services, catalog, schema = table
    progress: list[SaveProgress] = []
    target = tmp_path / "orders.csv"
    saved = save_view_csv(
        services, catalog, TableView(schema, "orders"), target, SaveOptions(progress=progress.append), total_rows=ROWS
    )
    written = read_csv(target)
    assert written[0] == ["order_id", "product_id", "note"]
    assert written[1:] == as_csv_rows(env.query(f'SELECT * FROM "{schema}".orders ORDER BY order_id'))
    assert (saved.rows, saved.bytes, saved.path) == (ROWS, target.stat().st_size, target)
    assert [p.bytes_written for p in progress] == sorted(p.bytes_written for p in progress) and len(progress) >= 2
    assert progress[-1].rows_written == ROWS and progress[-1].total_rows == ROWS
    assert all(p.rows_written <= ROWS for p in progress)  # quoted line breaks are not counted as rows
    assert leftovers(tmp_path) == []


def test_a_filtered_view_and_a_query_result_are_saved_whole_not_only_the_visible_page(table, tmp_path):
    env, services, catalog, schema = table
    view = TableView(schema, "orders").sorted_by("order_id", descending=True).where(Equals("product_id", 3))
    save_view_csv(services, catalog, view, tmp_path / "three.csv")
    assert read_csv(tmp_path / "three.csv")[1:] == as_csv_rows(
        env.query(f'SELECT * FROM "{schema}".orders WHERE product_id = 3 ORDER BY order_id DESC')
    )
    with ReadOnlySession(services, page_size=10) as session:
        result = session.run(f"""SELECT order_id, '100%' AS pct, '{{x}}' AS braces
                                 FROM "{schema}".orders WHERE order_id <= 2500 ORDER BY order_id -- the first""")
        saved = save_result_csv(services, result, tmp_path / "result.csv")
    written = read_csv(tmp_path / "result.csv")
    assert saved.rows == 2500 and len(written) == 2501 and written[2500] == ["2500", "100%", "{x}"]


def test_an_existing_file_is_kept_unless_overwriting_is_asked(table, tmp_path):
    _env, services, catalog, schema = table
    target = tmp_path / "orders.csv"
    target.write_text("precious\n")
    view = TableView(schema, "orders").where(Equals("order_id", 1))
    with pytest.raises(SaveError, match="already exists; choose another name or confirm overwriting it"):
        save_view_csv(services, catalog, view, target)
    assert target.read_text() == "precious\n"
    save_view_csv(services, catalog, view, target, SaveOptions(overwrite=True))
    assert read_csv(target) == [["order_id", "product_id", "note"], ["1", "1", "note 1"]]
    assert leftovers(tmp_path) == []


def test_a_cancelled_save_leaves_no_file(table, tmp_path):
    _env, services, catalog, schema = table
    cancel = CancelToken()
    target = tmp_path / "orders.csv"

    def cancel_at_first_progress(_progress) -> None:
        cancel.cancel()

    with ReadOnlySession(services) as session:  # big enough that COPY is still streaming at the first megabyte
        result = session.run(f'SELECT o.*, g FROM "{schema}".orders o, generate_series(1, 20) AS g')
        with pytest.raises(Cancelled, match="no file was written"):
            save_result_csv(services, result, target, SaveOptions(progress=cancel_at_first_progress, cancel=cancel))
    assert not target.exists() and leftovers(tmp_path) == []
    save_view_csv(services, catalog, TableView(schema, "orders"), target)  # the next save works
    assert len(read_csv(target)) == ROWS + 1


def test_a_full_disk_leaves_no_partial_file_and_says_so(table):
    _env, services, catalog, schema = table
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root")
    folder = Path(tempfile.mkdtemp(prefix="inspect-a-full-"))
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=128k", "tmpfs", str(folder)], check=True)
    try:
        with pytest.raises(SaveError, match=r"could not write .*orders.csv: No space left on device; no file was"):
            save_view_csv(services, catalog, TableView(schema, "orders"), folder / "orders.csv")
        assert list(folder.iterdir()) == []
    finally:
        subprocess.run(["umount", str(folder)], check=True)
        folder.rmdir()


def test_a_failing_query_or_a_missing_folder_writes_nothing(table, tmp_path):
    env, services, _catalog, schema = table
    out = tmp_path / "out"
    out.mkdir()
    with ReadOnlySession(services) as session:
        result = session.run(f'SELECT * FROM "{schema}".orders ORDER BY order_id')
    with pytest.raises(SaveError, match="the folder .*nowhere does not exist"):
        save_result_csv(services, result, out / "nowhere" / "orders.csv")
    env.execute(f'DROP TABLE "{schema}".orders')  # the save runs the query again: now it fails
    with pytest.raises(QueryError, match=f'relation "{schema}.orders" does not exist'):
        save_result_csv(services, result, out / "orders.csv")
    assert list(out.iterdir()) == []
