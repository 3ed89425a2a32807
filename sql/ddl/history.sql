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
