"""The embedded default: a real PostgreSQL (pgserver) and a real S3 HTTP API (moto) in the state folder.

One concept per module: `supervisor` starts and stops them together, `postgres` the database,
`s3_child` the S3 server process (which runs `s3_server`), `s3_store` the objects on disk,
`runtime_dir` the environment pgserver needs, `state_lock` the one owner of the folder.
"""

from etl_core.embedded.supervisor import EmbeddedServices

__all__ = ["EmbeddedServices"]
