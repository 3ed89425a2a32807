-- Run history of the console, kept in the operator's staging schema across runs.
CREATE TABLE IF NOT EXISTS {staging}.console_runs (
    run_id         bigserial PRIMARY KEY,
    started_at     timestamptz NOT NULL DEFAULT now(),
    finished_at    timestamptz,
    status         text NOT NULL DEFAULT 'running',  -- running, succeeded, failed, cancelled, abandoned
    stages         text NOT NULL,                    -- the stages asked for, comma separated
    ingestion_date date NOT NULL,
    host           text NOT NULL,
    pid            integer NOT NULL,
    error          text
);

CREATE TABLE IF NOT EXISTS {staging}.console_stage_runs (
    run_id      bigint NOT NULL REFERENCES {staging}.console_runs (run_id) ON DELETE CASCADE,
    stage       text NOT NULL,
    status      text NOT NULL,                       -- running, succeeded, failed, cancelled, skipped
    started_at  timestamptz,
    duration_s  double precision,
    rows        bigint,
    error       text,
    checks      jsonb NOT NULL DEFAULT '[]',
    details     jsonb NOT NULL DEFAULT '{{}}',
    PRIMARY KEY (run_id, stage)
);

-- Backfills (issue 22): one row per `--backfill FROM TO`, the dates it planned to run, so that
-- `--resume` can continue an interrupted one; each of its runs names it.
CREATE TABLE IF NOT EXISTS {staging}.console_backfills (
    backfill_id  bigserial PRIMARY KEY,
    started_at   timestamptz NOT NULL DEFAULT now(),
    finished_at  timestamptz,
    status       text NOT NULL DEFAULT 'running',   -- running, succeeded, failed, cancelled, abandoned
    first_date   date NOT NULL,
    last_date    date NOT NULL,
    reprocess    text NOT NULL,                     -- missing, failed, all
    dates        date[] NOT NULL                    -- the dates it runs, ascending
);

ALTER TABLE {staging}.console_runs ADD COLUMN IF NOT EXISTS backfill_id bigint;

-- Provenance: every source object a run loaded, as S3 described it, and the records loaded from it.
CREATE TABLE IF NOT EXISTS {staging}.console_run_inputs (
    run_id         bigint NOT NULL REFERENCES {staging}.console_runs (run_id) ON DELETE CASCADE,
    table_name     text NOT NULL,
    key            text NOT NULL,
    version_id     text,
    etag           text NOT NULL,
    size           bigint NOT NULL,
    last_modified  timestamptz NOT NULL,
    rows           bigint,                            -- NULL until the file is loaded
    PRIMARY KEY (run_id, table_name)
);
