"""Exceptions that carry an operator-facing message and the exit code they map to."""

from __future__ import annotations

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_CONFIG = 2
EXIT_UNREACHABLE = 3
EXIT_INTERRUPTED = 130  # SIGINT (Ctrl-C) or the console's cancel
EXIT_HANGUP = 129  # SIGHUP: the terminal closed
EXIT_TERMINATED = 143  # SIGTERM: a scheduler, `kill`, a service manager stopping us


class D2BError(Exception):
    """Base error: `str(err)` is a complete sentence for a person; `exit_code` is the CLI contract."""

    exit_code = EXIT_FAILED


class ConfigError(D2BError):
    """Bad or missing configuration; names the file and the key."""

    exit_code = EXIT_CONFIG

    def __init__(self, path: str, key: str, problem: str):
        self.path, self.key, self.problem = path, key, problem
        self.warnings: list[str] = []  # the file's unknown keys: a missing key is often a misspelt one
        super().__init__(f"{path}: [{key}] {problem}")


class ServiceUnavailable(D2BError):
    """S3 or the warehouse could not be reached (or the embedded services could not start)."""

    exit_code = EXIT_UNREACHABLE


class RunLocked(D2BError):
    """Another run holds the lock for this warehouse and user_id, or the state folder."""

    exit_code = EXIT_FAILED


class DataError(D2BError):
    """A source file or a table holds data the pipeline refuses; names file, line and column."""

    exit_code = EXIT_FAILED


class StageError(D2BError):
    """A stage failed for a reason other than bad data (SQL error, S3 write denied, check failed)."""

    exit_code = EXIT_FAILED


class Stalled(StageError):
    """S3 or the warehouse made no progress for the configured time; names the endpoint and the work."""


class SessionEnded(StageError):
    """The warehouse ended our session (an administrator's pg_terminate_backend, a restart, a failover)."""


class DiskFull(StageError):
    """The warehouse or S3 ran out of disk space; names the path or the endpoint."""


class Cancelled(D2BError):
    """The operator cancelled the run (Ctrl-C, the TUI's cancel key)."""

    exit_code = EXIT_INTERRUPTED


class ExportDeclined(Cancelled):
    """The operator looked at the export preview and cancelled: nothing is written."""
