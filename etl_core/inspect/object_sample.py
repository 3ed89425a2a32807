"""The ranged sample of an S3 object that the preview reads, parsed for profiles and type checks.

Only the first `PREVIEW_BYTES` are read (never the whole object); a torn last line is dropped.
Records keep their line number in the object (quoted line breaks counted), so a bad value can be
named by line, column and value.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING

from etl_core.browse import PREVIEW_BYTES
from etl_core.errors import D2BError
from etl_core.s3 import read_head
from etl_core.services import Services

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

    @cached_property
    def header(self) -> list[str]:
        return next(csv.reader(io.StringIO(self._text)), [])

    @cached_property
    def records(self) -> list[Record]:
        reader = csv.reader(io.StringIO(self._text))
        next(reader, None)
        records, line = [], reader.line_num + 1
        for row in reader:
            if row:  # pandas skips blank lines too
                records.append(Record(line, tuple(value if value != "" else None for value in row)))
            line = reader.line_num + 1
        return records

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


def read_sample(services: Services, bucket: str, key: str, max_bytes: int = PREVIEW_BYTES) -> ObjectSample:
    """The object's first `max_bytes` (one ranged GET), cut after the last complete line."""
    data, size = read_head(services.s3(), bucket, key, max_bytes)
    partial = len(data) < size
    if partial:
        data = data[: data.rfind(b"\n") + 1]
    return ObjectSample(bucket, key, size, data.removeprefix(UTF8_BOM), partial)
