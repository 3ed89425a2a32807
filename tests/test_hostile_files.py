"""A hostile corpus, generated here: each bad file fails staging with the line its record starts on, the
column, and the offending bytes shown escaped; non-CSV content is named as such; the staging tables
keep every row (a checksum of each table is compared)."""

from __future__ import annotations

import bz2
import gzip
import io
import json
import lzma
import os
import subprocess
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from helpers import SharedLoad, run, staging_checksums
from support import ORDERS_HEADER, Env, create_dims, put_dataset

STAGING = ("prepare", "staging")
GOOD = ORDERS_HEADER + "".join(f"{i},1,2022-01-{i:02d},1,10,1,10\n" for i in range(1, 21))  # lines 2..21


def zipped(text: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("orders.csv", text)
    return buffer.getvalue()


def with_line(number: int, text: str) -> str:
    """GOOD with file line `number` replaced by `text`."""
    lines = GOOD.splitlines(keepends=True)
    lines[number - 1] = text
    return "".join(lines)


# name: (object bytes, the exact start of the error after "orders_data/orders.csv: ")
CORPUS: dict[str, tuple[bytes, str]] = {
    "CR-only line endings": (
        GOOD.replace("\n", "\r").encode(),
        (
            "the object uses CR-only line endings (old Mac style): line 1 ends at byte 75 with a CR "
            "and no LF; convert the line endings to LF or CRLF"
        ),
    ),
    "gzip": (
        gzip.compress(GOOD.encode()),
        (
            "the object is a gzip-compressed file, not CSV text (it starts with "
            "'\\x1f\\x8b'); decompress it (gunzip) and upload the .csv"
        ),
    ),
    "zip": (
        zipped(GOOD),
        ("the object is a zip archive (or an .xlsx workbook), not CSV text (it starts with 'PK\\x03\\x04')"),
    ),
    "bzip2": (
        bz2.compress(GOOD.encode()),
        ("the object is a bzip2-compressed file, not CSV text (it starts with 'BZh'); decompress it (bunzip2)"),
    ),
    "xz": (
        lzma.compress(GOOD.encode()),
        (
            "the object is an xz-compressed file, not CSV text (it starts with "
            "'\\xfd7zXZ\\x00'); decompress it (unxz) and upload the .csv"
        ),
    ),
    # The formats Python cannot write: their magic bytes in front of the text are what the console sees first.
    "zstd": (
        b"\x28\xb5\x2f\xfd" + GOOD.encode(),
        (
            "the object is a zstd-compressed file, not CSV text (it starts "
            "with '(\\xb5/\\xfd'); decompress it (unzstd) and upload the .csv"
        ),
    ),
    "7z": (
        b"7z\xbc\xaf\x27\x1c" + GOOD.encode(),
        (
            "the object is a 7-Zip archive, not CSV text (it starts with "
            "'7z\\xbc\\xaf\\'\\x1c'); extract the .csv and upload it"
        ),
    ),
    "Parquet": (
        b"PAR1" + GOOD.encode(),
        ("the object is a Parquet file, not CSV text (it starts with 'PAR1'); export it as CSV and upload that"),
    ),
    ".xls": (
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + GOOD.encode(),
        (
            "the object is an old Excel (.xls) or other "
            "OLE file, not CSV text (it starts with '\\xd0\\xcf\\x11\\xe0'); save the sheet as CSV (UTF-8) and "
            "upload that"
        ),
    ),
    "UTF-16": (
        GOOD.encode("utf-16"),
        ("the object is UTF-16 text, not CSV text (it starts with '\\xff\\xfe'); save it as UTF-8"),
    ),
    "UTF-16 big-endian without a BOM": (
        GOOD.encode("utf-16-be"),
        (
            "the object is UTF-16 text (big-endian, without a byte order mark), not CSV text (it starts with "
            "'\\x00o\\x00r\\x00d\\x00e'); save it as UTF-8"
        ),
    ),
    "UTF-16 little-endian without a BOM": (
        GOOD.encode("utf-16-le"),
        "the object is UTF-16 text (little-endian, without a byte order mark), not CSV text",
    ),
    "other binary": (bytes(range(256)) * 64, "the object holds binary data, not CSV text (a NUL byte at byte 1)"),
    "control bytes": (
        bytes(range(1, 32)) * 200 + b"\n",
        ("the object holds binary data, not CSV text (3,568 control bytes in its first 4,096)"),
    ),
    "a \\. line": (
        with_line(12, "\\.\n").encode(),
        (
            "line 12: the line holds only \\., PostgreSQL's end-of-data "
            "marker, so COPY stopped there after 10 of 20 rows; delete the line, or quote it"
        ),
    ),
    "a stray quote": (
        with_line(4, '3,1,2022-01-03,1,1"0,1,10\n').encode(),
        (
            "line 4, column unit_price (field 5): unterminated CSV quoted field: this quote is never "
            "closed, so COPY read the rest of the file as one field; value '\"0,1,10\\n4,1,"
        ),
    ),
    "a record spanning lines": (
        with_line(3, '2,1,2022-01-02,1,"1\n0",1,10\n').encode(),
        ("line 3, column unit_price (field 5): invalid input syntax for type integer; value '\"1\\n0\"'"),
    ),
    "invalid UTF-8": (
        with_line(5, "4,1,2022-01-04,1,10,1,10\n").encode().replace(b"4,1,2022-01-04", b"4,\xc3\x28,2022-01-04"),
        "line 5, column customer_id (field 2): invalid UTF-8 byte 0xc3",
    ),
    "Latin-1": (
        with_line(6, "5,1,2022-01-05,1,10,1,10\n").encode().replace(b"5,1,2022-01-05", b"5,caf\xe9,2022-01-05"),
        (
            "line 6, column customer_id (field 2): invalid UTF-8 byte 0xe9 ('é' in Latin-1 or Windows-1252?); "
            "the file must be UTF-8: save or convert it as UTF-8; value 'caf\\xe9'"
        ),
    ),
    "a NUL byte": (
        with_line(7, "6,1,2022-01-06,1,10,1,10\n").encode().replace(b"6,1,2022-01-06,1,10", b"6,1,2022-01-06,1,1\x000"),
        (
            "line 7, column unit_price (field 5): a NUL byte (0x00), which a text file cannot hold "
            "(is this a binary file?); value '1\\x000'"
        ),
    ),
    "a value breaking a rule": (
        with_line(8, "7,1,2022-01-07,1,10,0,10\n").encode(),
        ("line 8, column quantity (field 6): value breaks the rule quantity_positive; value '0'"),
    ),
    "an empty required value": (
        with_line(9, "8,,2022-01-08,1,10,1,10\n").encode(),
        "line 9, column customer_id (field 2): empty, but the column needs a value; value ''",
    ),
    "too many fields": (
        with_line(10, "9,1,2022-01-09,1,10,1,10,11\n").encode(),
        "line 10: extra data after last expected column; value '9,1,2022-01-09,1,10,1,10,11'",
    ),
    "not a real day": (
        with_line(11, "10,1,2022-02-30,1,10,1,10\n").encode(),
        "line 11, column order_date (field 3): date/time field value out of range; value '2022-02-30'",
    ),
}


@pytest.fixture(scope="module")
def good_load(make_module_env: Callable[..., Env]) -> SharedLoad:
    """One environment for the tests below: a good load, which each failed load must leave as it was."""
    env = make_module_env()
    create_dims(env)
    return SharedLoad(
        env,
        lambda e: put_dataset(
            e, [(1, 1, "2022-01-01", 1, 10, 1), (2, 1, "2022-01-02", 2, 20, 2)], [(5, 1)], [(1, 1, "2022-01-03", None)]
        ),
    )


@pytest.fixture
def loaded(good_load: SharedLoad) -> tuple[Env, dict[str, str]]:
    return good_load.fresh()


@pytest.mark.parametrize("case", list(CORPUS))
def test_a_hostile_file_is_named_precisely_and_nothing_changes(loaded, case):
    env, before = loaded
    body, expected = CORPUS[case]
    env.put("orders.csv", body)
    staging = run(env, STAGING).stages[1]
    assert staging.status == "failed"
    assert (staging.error or "").startswith(f"orders_data/orders.csv: {expected}"), staging.error
    assert "\n" not in (staging.error or "")  # one line: bytes of the file are shown escaped
    assert len(staging.error or "") < 800
    assert staging_checksums(env) == before


def test_the_cli_exits_1_with_the_message_and_no_traceback(loaded, tmp_path):
    env, before = loaded
    env.put("orders.csv", CORPUS["gzip"][0])
    result = subprocess.run(
        [sys.executable, "-m", "tui.launcher", "--run-all", "--json", "--config", str(env.config_path)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        env={k: v for k, v in os.environ.items() if k != "D2B_WAREHOUSE_URL"},
    )
    assert result.returncode == 1
    staging = json.loads(result.stdout)["stages"][1]
    assert staging["error"].startswith("orders_data/orders.csv: the object is a gzip-compressed file")
    assert "Traceback" not in result.stderr and "gzip-compressed" in result.stderr
    assert staging_checksums(env) == before
    assert Path(tmp_path).is_dir()
