"""The demo dataset at one scale: into the S3 server, and the very same bytes onto local disk."""

from __future__ import annotations

import time
from dataclasses import dataclass

from bench.context import Bench, say
from bench.settings import BUCKET, PREFIX
from etl_core import demo_data
from etl_core.stages.staging.sources import SOURCE_FILES


@dataclass(frozen=True)
class Dataset:
    paths: dict[str, str]  # table -> local copy, for psql and pandas
    rows: int
    bytes: int
    files: dict[str, int]  # object name -> data rows

    def summary(self) -> dict[str, object]:
        return {"rows": self.rows, "bytes": self.bytes, "files": self.files}


def generate(bench: Bench, scale: float) -> Dataset:
    started = time.perf_counter()
    s3 = bench.services.s3
    files = demo_data.upload_demo_dataset(s3, BUCKET, PREFIX, scale)
    local = bench.tmp / f"data-{scale:g}"
    local.mkdir(exist_ok=True)
    paths, total_bytes = {}, 0
    for source in SOURCE_FILES:
        path = local / source.names[0]
        s3.download_file(BUCKET, PREFIX + source.names[0], str(path))
        paths[source.table] = str(path)
        total_bytes += path.stat().st_size
    rows = sum(f.rows for f in files)
    say(f"scale {scale:g}: {rows:,} rows, {total_bytes / 1e6:.1f} MB generated in {time.perf_counter() - started:.1f}s")
    return Dataset(paths, rows, total_bytes, {f.key_name: f.rows for f in files})
