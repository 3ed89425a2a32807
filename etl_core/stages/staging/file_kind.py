"""Is the object CSV text at all? Compressed files, other binary content and CR-only line endings, named."""

from __future__ import annotations

from etl_core.content_kind import kind_of
from etl_core.stages.staging.file_errors import escaped

_TEXT_CONTROLS = b"\0\t\n\r\x0c"  # NUL: counted on its own


def not_csv_text(start: bytes) -> str | None:
    """Why an object beginning with `start` is not CSV text (for the message), or None when it may be."""
    if (kind := kind_of(start)) is not None:
        return (
            f"the object is {kind.noun}, not CSV text (it starts with {escaped(start[: len(kind.magic) or 8])}); "
            f"{kind.advice}"
        )
    first_line = start.partition(b"\n")[0]
    nul = first_line.find(b"\0")  # a NUL further on may be one bad byte in a text file: COPY's error names it
    if nul >= 0:
        return f"the object holds binary data, not CSV text (a NUL byte at byte {nul + 1}); upload the CSV file itself"
    sample = start[:4096]
    controls = sum(1 for byte in sample if byte < 32 and byte not in _TEXT_CONTROLS)
    if controls >= max(16, len(sample) // 20):
        return (
            f"the object holds binary data, not CSV text ({controls:,} control bytes in its first "
            f"{len(sample):,}); upload the CSV file itself"
        )
    if b"\r" in first_line.rstrip(b"\r"):
        cr = first_line.index(b"\r")
        return (
            f"the object uses CR-only line endings (old Mac style): line 1 ends at byte {cr + 1} with a CR and "
            "no LF; convert the line endings to LF or CRLF and upload it again"
        )
    return None
