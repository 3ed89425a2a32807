#!/usr/bin/env python3
"""d2b-console benchmark: the pipeline measured against the physical limit and the usual approach.

Run (not part of the test suite; about 3 minutes for 1/10/100 on 2 cores):

    .venv/bin/python bench/run_bench.py --scales 1 10 100

Options: --repeat N (best of N for our stages and psql, default 3; 5 for the one-million-row export),
--pandas-multi-max-scale S (pandas to_sql(method="multi") only up to scale S, default 10; above it
the row is marked "not measured"), --skip-runall, --skip-tui, --no-write (do not touch BENCHMARKS.md),
--keep (keep the temp folder), --json PATH (raw results), --report-from PATH (only re-render them),
--only trends (only the history's trends draw, no services, nothing written to BENCHMARKS.md),
--only first-frame (only the console's first frame, typed in tmux, on its own embedded services in a
temp folder: one launch creates them, then --repeat launches, default 3; nothing written to BENCHMARKS.md).

What one run does, for each scale (1 = 10,000 orders, 100 = one million):

1. Services (bench/services.py). The embedded default's own S3 server and Postgres
   (etl_core.embedded's S3Child and EmbeddedPostgres, in a temp folder under /tmp): the S3
   server (`python -m etl_core.embedded.s3_server`) is a SEPARATE process, so its memory and
   CPU are not charged to the contenders; Postgres is pgserver's PostgreSQL 16. Demo dimensions
   are created once in `if_common`.
2. Data (measures/data.py). etl_core.demo_data.upload_demo_dataset writes the three CSVs into the
   S3 server, and the very same bytes are downloaded to local disk for the psql and pandas contenders.
3. Staging load of the three files (measures/staging.py), each contender in its own subprocess
   (peak RSS = ru_maxrss of that process from GNU time, which includes nothing else); ours and
   psql run interleaved:
     ours    run_pipeline(services, ("prepare", "staging")) against the bench S3/Postgres; the
             time is the staging stage's own duration (load + ANALYZE + staging checks),
     psql    `\\copy` of the local files into tables with the same DDL (sql/ddl/staging), one
             transaction per table like our stage (the limit),
     pandas  read_csv + DataFrame.to_sql through SQLAlchemy (method=None, and method="multi"
             with chunksize=1000) into tables with the same DDL (the usual approach).
4. Analytics stage time (measures/analytics.py), EXPLAIN ANALYZE of the three queries, and the
   same stage again with candidate indexes added experimentally (then dropped).
5. Export of the three analytics tables (measures/export.py): our export stage (COPY TO STDOUT
   -> S3 multipart upload) vs `psql \\copy (select ...) to` local files vs pandas read_sql + to_csv.
   The analytics tables hold one row per ingestion day, so this is dominated by fixed costs; the
   same export code path (etl_core.stages.export.export_table / MultipartWriter) is therefore
   also measured on a large table: the one-million-row orders table (with an ingestion_date
   column so the export query applies unchanged), against psql \\copy of the exact same SELECT
   to a local file (interleaved, best of 5), and S3's own tail after the last byte (last part +
   complete).
6. `d2b-console --run-all --demo-scale N` (measures/runall.py) on the embedded default in a fresh
   temp folder: run 1 also generates the demo dataset, run 2 is the steady state. Wall time and
   ru_maxrss of the d2b-console process (the embedded Postgres is a separate daemon and is not
   counted; the embedded S3 server is a child process, reported in its own column).
7. TUI, once (measures/tui.py): launch-to-first-paint of the Textual app (headless
   App.run_test, embedded default with a pre-seeded state folder), and the longest event-loop
   stall while a scale-max staging load runs in the app (a 10 ms timer measuring its own lateness),
   and the history's trends: 13 synthetic series of 365 dates drawn by the TrendsPanel in a headless
   app, from `show` to the next screen refresh (bench/workers/trends.py; `--only trends` alone).

Then it prints a table with pass/fail against the targets of issue #5 (bench/report/) and
rewrites BENCHMARKS.md. What runs in each measured process is in bench/workers/.
"""

import sys
from pathlib import Path

if not __package__:  # run as a script: the repository root makes `bench` importable as a package
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.cli import main  # after the path set-up above

if __name__ == "__main__":
    sys.exit(main())
