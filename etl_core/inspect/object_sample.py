"""The ranged sample of an S3 object that the preview reads, parsed for profiles and type checks.

Only the first `PREVIEW_BYTES` are read (never the whole object); a torn last line is dropped.
Records are cut by staging's own reader (`etl_core.stages.staging.records`, PostgreSQL's CSV
rules) and keep their line number in the object (quoted line breaks counted), so a bad value can
be named by line, column and value exactly as staging would name it.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING

from etl_core.browse import PREVIEW_BYTES
from etl_core.errors import D2BError
from etl_core.s3 import read_head
from etl_core.services import Services
from etl_core.stages.staging.records import Record as StagingRecord
from etl_core.stages.staging.records import records as staging_records
from etl_core.stages.staging.records import unquoted

if TYPE_CHECKING:
    import pandas

UTF8_BOM = b"\xef\xbb\xbf"


@dataclass(frozen=True)
class Record:
    line: int  # line of the object where the record starts (the header is line 1)
    values: tuple[str | None, ...]  # None for an empty field, which COPY loads as NULL


@dataclass
class ObjectSample:
    bucket: str
    key: str
    size: int  # bytes of the whole object
    data: bytes = field(repr=False)  # complete lines only
    partial: bool  # True when the object is longer than the sample

    @property
    def uri(self) -> str:
        return f"s3://{self.bucket}/{self.key}"

    @property
    def header_line(self) -> bytes:
        return self.data.partition(b"\n")[0].removesuffix(b"\r")

    @property
    def data_start(self) -> int:
        """Offset of the first data line in `data`."""
        return min(len(self.data.partition(b"\n")[0]) + 1, len(self.data))

    @cached_property
    def header(self) -> list[str]:
        line = self.header_line
        return [_text(raw) or "" for raw in _fields(line)] if line else []

    @cached_property
    def records(self) -> list[Record]:
        found = []
        for record in staging_records([self.data], self.data_start):
            if record.data:  # pandas skips blank lines too
                found.append(Record(record.line, tuple(_text(raw) for _offset, raw in record.fields())))
        return found

    @cached_property
    def frame(self) -> pandas.DataFrame:
        """The sample as pandas reads it: its inferred dtypes; only an empty field is missing (as for COPY)."""
        try:
            import pandas  # loaded only when a sample is profiled
        except ModuleNotFoundError:  # an optional extra, out of the lean default install
            raise D2BError("profiling an S3 sample needs pandas: pip install 'd2b-console[profile]'") from None
        return pandas.read_csv(io.StringIO(self._text), keep_default_na=False, na_values=[""])

    @property
    def scope(self) -> str:
        """What a number computed over the sample is over: "the first 2,314 rows of s3://... (a sample)"."""
        rows = len(self.records)
        if self.partial:
            return (
                f"the first {rows:,} rows of {self.uri} (a sample: its first {len(self.data) // 1024:,} KB "
                f"of {self.size:,} bytes)"
            )
        return f"all {rows:,} rows of {self.uri}"

    @cached_property
    def _text(self) -> str:
        return self.data.decode("utf-8", errors="replace")


def _fields(line: bytes) -> list[bytes]:
    return [raw for _offset, raw in StagingRecord(1, 1, 0, line, 0, True).fields()]


def _text(raw: bytes) -> str | None:
    """A field as COPY reads it, as text (None for an unquoted empty field: NULL)."""
    value, quoted = unquoted(raw)
    return value.decode("utf-8", errors="replace") if value or quoted else None


def read_sample(services: Services, bucket: str, key: str, max_bytes: int = PREVIEW_BYTES) -> ObjectSample:
    """The object's first `max_bytes` (one ranged GET), cut after the last complete line."""
    data, size = read_head(services.s3(), bucket, key, max_bytes)
    partial = len(data) < size
    if partial:
        data = data[: data.rfind(b"\n") + 1]
    return ObjectSample(bucket, key, size, data.removeprefix(UTF8_BOM), partial)
