"""What an object's first bytes say it is, on real files made by the standard library's own writers."""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import zipfile

import pytest

from etl_core.content_kind import sniff
from etl_core.stages.staging.file_kind import not_csv_text

CSV = b"order_id,customer_id\n1,2\n"


def zipped(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


@pytest.mark.parametrize(
    "data, kind",
    [
        (gzip.compress(CSV), "gzip-compressed"),
        (bz2.compress(CSV), "bzip2-compressed"),
        (lzma.compress(CSV), "xz-compressed"),
        (zipped({"orders.csv": CSV}), "zip archive"),
        (zipped({}), "empty zip archive"),
        (CSV.decode().encode("utf-16"), "UTF-16 text"),  # with its byte order mark
        (b"\x00\x01\x02" + CSV, "binary"),
        (CSV, None),
        (b"BZh is how this text starts\n", None),  # bzip2's magic needs its block-size digit
        (b"", None),
    ],
    ids=["gzip", "bzip2", "xz", "zip", "empty-zip", "utf-16", "binary", "csv", "bzh-text", "empty"],
)
def test_the_first_bytes_name_the_kind(data, kind):
    assert sniff(data) == kind


def test_a_nul_past_the_sniffed_bytes_does_not_make_text_binary():
    assert sniff(CSV * 1000 + b"\x00") is None


@pytest.mark.parametrize(
    "data, start",
    [
        (
            gzip.compress(CSV),
            "the object is a gzip-compressed file, not CSV text (it starts with '\\x1f\\x8b'); decompress it (gunzip)",
        ),
        (zipped({"orders.csv": CSV}), "the object is a zip archive (or an .xlsx workbook), not CSV text"),
        (b"order_id\x00,x\n", "the object holds binary data, not CSV text (a NUL byte at byte 9)"),
        (
            b"order_id,customer_id\r1,2\r",
            "the object uses CR-only line endings (old Mac style): line 1 ends at byte 21",
        ),
    ],
    ids=["gzip", "zip", "nul", "cr-only"],
)
def test_staging_says_why_an_object_is_not_csv_text(data, start):
    assert (not_csv_text(data) or "").startswith(start)


@pytest.mark.parametrize(
    "data", [CSV, b"order_id,customer_id\r\n1,2\r\n", b"a,b\n1,\x002\n"], ids=["lf", "crlf", "nul-later"]
)
def test_csv_text_passes(data):
    assert not_csv_text(data) is None  # a NUL after the header is one bad byte: COPY's own error names it
