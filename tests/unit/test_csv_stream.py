"""The staging stream reader counts CSV records, not lines, whatever chunk size the body arrives in."""

from __future__ import annotations

import io

from etl_core.events import CancelToken
from etl_core.stages.staging.csv_stream import CsvStreamReader


def test_stream_reader_counts_records_not_lines_across_chunk_boundaries():
    body = io.BytesIO(b'a,b\n1,"x\ny"\n2,"""q"""\n3,"z\n"\n4,w')
    reader = CsvStreamReader(body, "k", 0, CancelToken(), on_progress=lambda _n: None)
    assert reader.read_header() == b"a,b"
    while reader.read(3):  # tiny chunks split quotes and newlines apart
        pass
    assert reader.data_rows == 4
