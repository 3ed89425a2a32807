-- What each succeeded stage published (a fingerprint) and the fingerprints of what it read, so
-- that a result computed from an older input is shown as stale (etl_core/lineage.py).
CREATE TABLE IF NOT EXISTS {staging}.console_stage_outputs (
    run_id      bigint NOT NULL REFERENCES {staging}.console_runs (run_id) ON DELETE CASCADE,
    stage       text NOT NULL,
    fingerprint text NOT NULL,
    inputs      jsonb NOT NULL DEFAULT '{{}}',  -- stage read -> the fingerprint it read
    PRIMARY KEY (run_id, stage)
);
