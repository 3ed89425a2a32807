"""The d2b-console benchmark: the pipeline side by side with `psql \\copy` (the limit) and pandas (the usual approach).

Entry: `python bench/run_bench.py` (see `bench.cli`). Layout: `settings` (names and targets),
`measure` (a contender in its own process, its wall time and peak RSS), `workers` (what runs in
that process), `services` (the S3 server and Postgres the contenders share), `measures` (one
module per thing measured), `runner` (every scale in turn), `report` (tables, verdicts, output).
"""
