"""Staging: stream the three source objects from S3 into `COPY ... FROM STDIN` at once, all or nothing.

Each file loads into a fresh table that replaces the live one inside its own transaction; the
three transactions commit together once every file has loaded, so one bad file leaves every
staging table exactly as it was, and readers never block.

Modules: `sources` (the files and finding them), `csv_stream` (the object as COPY reads it),
`copy_errors` (COPY's errors for people), `tables` (DDL, key, swap), `load` (one file),
`progress` (one bar for all files), `stage` (the stage itself).
"""

from etl_core.stages.staging.stage import run_staging

__all__ = ["run_staging"]
