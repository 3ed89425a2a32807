"""What the first bytes of an object say it is: text (None), or a compressed or binary file, named for people.

One table for the staging messages (etl_core/stages/staging/file_kind.py) and the console's preview,
so both call a gzip file a gzip file.
"""

from __future__ import annotations

from dataclasses import dataclass

SNIFF_BYTES = 8192  # enough to find a NUL in a binary file's header


@dataclass(frozen=True)
class ContentKind:
    name: str  # what the preview shows: "gzip-compressed"
    noun: str  # in a sentence: "a gzip-compressed file"
    advice: str  # what the operator should do with it instead
    magic: bytes  # the leading bytes that give it away

    def matches(self, start: bytes) -> bool:
        if not start.startswith(self.magic):
            return False
        return self.magic != b"BZh" or start[3:4].isdigit()  # "BZh" then a block size digit; "BZh..." text is text


KINDS = (
    ContentKind("gzip-compressed", "a gzip-compressed file", "decompress it (gunzip) and upload the .csv", b"\x1f\x8b"),
    ContentKind(
        "zip archive",
        "a zip archive (or an .xlsx workbook)",
        "extract the .csv (or export the sheet) and upload it",
        b"PK\x03\x04",
    ),
    ContentKind("empty zip archive", "an empty zip archive", "upload the .csv itself", b"PK\x05\x06"),
    ContentKind("bzip2-compressed", "a bzip2-compressed file", "decompress it (bunzip2) and upload the .csv", b"BZh"),
    ContentKind("xz-compressed", "an xz-compressed file", "decompress it (unxz) and upload the .csv", b"\xfd7zXZ\x00"),
    ContentKind(
        "zstd-compressed", "a zstd-compressed file", "decompress it (unzstd) and upload the .csv", b"\x28\xb5\x2f\xfd"
    ),
    ContentKind("7-Zip archive", "a 7-Zip archive", "extract the .csv and upload it", b"7z\xbc\xaf\x27\x1c"),
    ContentKind("Parquet file", "a Parquet file", "export it as CSV and upload that", b"PAR1"),
    ContentKind(
        "OLE file (old Excel)",
        "an old Excel (.xls) or other OLE file",
        "save the sheet as CSV (UTF-8) and upload that",
        b"\xd0\xcf\x11\xe0",
    ),
    ContentKind("UTF-16 text", "UTF-16 text", "save it as UTF-8 and upload it again", b"\xff\xfe"),
    ContentKind("UTF-16 text", "UTF-16 text", "save it as UTF-8 and upload it again", b"\xfe\xff"),
)


# UTF-16 without a byte order mark has no magic bytes: it is recognised by its NULs (see `_bomless_utf16`).
UTF16_WITHOUT_BOM = {
    "big-endian": ContentKind(
        "UTF-16 text",
        "UTF-16 text (big-endian, without a byte order mark)",
        "save it as UTF-8 and upload it again",
        b"",
    ),
    "little-endian": ContentKind(
        "UTF-16 text",
        "UTF-16 text (little-endian, without a byte order mark)",
        "save it as UTF-8 and upload it again",
        b"",
    ),
}
_UTF16_SAMPLE = 256  # bytes: a CSV header line's characters are ASCII, so half of these are NUL


def kind_of(start: bytes) -> ContentKind | None:
    """The known kind whose magic bytes `start` begins with (or UTF-16 without a BOM), if any."""
    return next((kind for kind in KINDS if kind.matches(start)), None) or _bomless_utf16(start)


def _bomless_utf16(start: bytes) -> ContentKind | None:
    """UTF-16 text without a BOM: ASCII characters put a NUL in every other byte, and none in between."""
    sample = start[: min(len(start), _UTF16_SAMPLE) // 2 * 2]
    if len(sample) < 4:
        return None
    first, second = sample[0::2], sample[1::2]
    for nuls, others, order in ((first, second, "big-endian"), (second, first, "little-endian")):
        if nuls.count(0) >= 0.9 * len(nuls) and others.count(0) <= 0.05 * len(others):
            return UTF16_WITHOUT_BOM[order]
    return None


def sniff(head: bytes) -> str | None:
    """None when `head` looks like text; else what it is: "gzip-compressed", "zip archive", ..., "binary"."""
    if (kind := kind_of(head)) is not None:
        return kind.name
    if b"\x00" in head[:SNIFF_BYTES]:
        return "binary"
    return None
