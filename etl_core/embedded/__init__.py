"""The embedded default: a real PostgreSQL (pgserver's binaries) and a real S3 HTTP API (moto) in the state folder.

One concept per module: `supervisor` starts and stops them together (`EmbeddedServices`);
`state_folder` and `state_lock` make sure one OS user and one process own the folder;
`postgres` (with `postmaster`, `postgres_errors`, `service_user`) runs the database and
`watchdog` stops it when its owner dies; `s3_child` runs the S3 server (`s3_server`) whose
objects `s3_store` keeps on disk; `disk_space` tells a full disk from other failures.

Nothing is imported here: the child processes (`python -m etl_core.embedded.watchdog`, ...)
load only what they use.
"""
