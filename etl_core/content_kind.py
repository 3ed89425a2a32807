"""What the first bytes of an object say it is: text (None), or a compressed or binary file, named for people.

Shared by the staging messages and the console's preview, so both call a gzip file a gzip file.
"""

from __future__ import annotations

SNIFF_BYTES = 8192  # enough to find a NUL in a binary file's header

_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"\x1f\x8b", "gzip-compressed"),
    (b"PK\x03\x04", "zip archive"),
    (b"\xfd7zXZ\x00", "xz-compressed"),
    (b"\x28\xb5\x2f\xfd", "zstd-compressed"),
    (b"PAR1", "Parquet file"),
)


def sniff(head: bytes) -> str | None:
    """None when `head` looks like text; else what it is: "gzip-compressed", "zip archive", ..., "binary"."""
    for magic, kind in _MAGIC:
        if head.startswith(magic):
            return kind
    if head[:3] == b"BZh" and head[3:4].isdigit() and head[4:10] == b"1AY&SY":
        return "bzip2-compressed"
    if b"\x00" in head[:SNIFF_BYTES]:
        return "binary"
    return None
