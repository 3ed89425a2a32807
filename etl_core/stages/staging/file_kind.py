"""Is the object CSV text at all? Compressed files, other binary content and CR-only line endings, named."""

from __future__ import annotations

from etl_core.stages.staging.file_errors import escaped

# (leading bytes, what the file is, what to do), checked on the object's first bytes.
_MAGIC = (
    (b"\x1f\x8b", "a gzip-compressed file", "decompress it (gunzip) and upload the .csv"),
    (b"PK\x03\x04", "a zip archive (or an .xlsx workbook)", "extract the .csv (or export the sheet) and upload it"),
    (b"PK\x05\x06", "an empty zip archive", "upload the .csv itself"),
    (b"BZh", "a bzip2-compressed file", "decompress it (bunzip2) and upload the .csv"),
    (b"\xfd7zXZ\x00", "an xz-compressed file", "decompress it (unxz) and upload the .csv"),
    (b"\x28\xb5\x2f\xfd", "a zstd-compressed file", "decompress it (unzstd) and upload the .csv"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive", "extract the .csv and upload it"),
    (b"PAR1", "a Parquet file", "export it as CSV and upload that"),
    (b"\xd0\xcf\x11\xe0", "an old Excel (.xls) or other OLE file", "save the sheet as CSV (UTF-8) and upload that"),
    (b"\xff\xfe", "UTF-16 text", "save it as UTF-8 and upload it again"),
    (b"\xfe\xff", "UTF-16 text", "save it as UTF-8 and upload it again"),
)
_TEXT_CONTROLS = b"\0\t\n\r\x0c"  # NUL: counted on its own


def not_csv_text(start: bytes) -> str | None:
    """Why an object beginning with `start` is not CSV text (for the message), or None when it may be."""
    for magic, kind, advice in _MAGIC:
        if start.startswith(magic):
            if kind == "a bzip2-compressed file" and not start[3:4].isdigit():
                continue  # "BZh" then a block size digit; any other text starting BZh is fine
            return f"the object is {kind}, not CSV text (it starts with {escaped(start[:len(magic)])}); {advice}"
    first_line = start.partition(b"\n")[0]
    nul = first_line.find(b"\0")  # a NUL further on may be one bad byte in a text file: COPY's error names it
    if nul >= 0:
        return (f"the object holds binary data, not CSV text (a NUL byte at byte {nul + 1}); upload the CSV file "
                "itself")
    sample = start[:4096]
    controls = sum(1 for byte in sample if byte < 32 and byte not in _TEXT_CONTROLS)
    if controls >= max(16, len(sample) // 20):
        return (f"the object holds binary data, not CSV text ({controls:,} control bytes in its first "
                f"{len(sample):,}); upload the CSV file itself")
    if b"\r" in first_line.rstrip(b"\r"):
        cr = first_line.index(b"\r")
        return (f"the object uses CR-only line endings (old Mac style): line 1 ends at byte {cr + 1} with a CR and "
                "no LF; convert the line endings to LF or CRLF and upload it again")
    return None
