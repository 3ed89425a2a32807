"""The embedded S3 server as a child process (`python -m etl_core.embedded.s3_server`), seen from the owner.

The child runs in a session of its own, so the terminal's Ctrl-C and hang-up reach only the
console, which decides; it exits when its stdin closes, so it never outlives the console. Its
clients fail at once, with a sentence, when it has stopped or could not store an object: the
hooks raise from botocore's own events, so the stage sees that sentence instead of a retry loop
or a bare ClientError.
"""

from __future__ import annotations

import select
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

from etl_core.errors import ServiceUnavailable

EMBEDDED_ACCESS_KEY = "embedded"  # moto accepts any key; these are not secrets
START_TIMEOUT_S = 60  # the child loads every stored object before it listens
STOP_TIMEOUT_S = 5
STORE_FAILED_STATUS = 507  # the child's answer when its store cannot be written (see durable_app)


class S3Child:
    """Spawn the server on a store folder, learn its address, watch it, stop it."""

    def __init__(self, store: Path, region: str):
        self.store = store
        self.region = region
        self.log_file = store / "server.log"
        self._process: Any = None
        self.endpoint: str | None = None

    def spawn(self, lock_fd: int | None = None) -> None:
        """Start the server; with `lock_fd`, the state folder stays locked until the child has exited."""
        self.store.mkdir(parents=True, exist_ok=True)
        with open(self.log_file, "ab") as log:
            self._process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "etl_core.embedded.s3_server",
                    "--store",
                    str(self.store),
                    "--region",
                    self.region,
                ],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=log,
                text=True,
                pass_fds=() if lock_fd is None else (lock_fd,),
                start_new_session=True,
            )

    def await_ready(self) -> None:
        ready, _, _ = select.select([self._process.stdout], [], [], START_TIMEOUT_S)
        line = self._process.stdout.readline().strip() if ready else ""
        if not line:
            exited = self._process.poll()
            self.stop()
            why = (
                f"exited ({describe_exit(exited)})"
                if exited is not None
                else f"did not start within {START_TIMEOUT_S}s"
            )
            raise ServiceUnavailable(
                f"the embedded S3 server {why}: {self._last_log_line() or 'no message'}; see {self.log_file}"
            )
        self.endpoint = f"http://{line}"

    def exit_code(self) -> int | None:
        """None while the child runs (or before it started); its exit status once it has ended."""
        return self._process.poll() if self._process is not None else None

    def client(self) -> Any:
        from etl_core.s3 import make_s3_client  # boto3: not needed to start the server (the console's early start)

        client = make_s3_client(
            self.region, self.endpoint, access_key=EMBEDDED_ACCESS_KEY, secret_key=EMBEDDED_ACCESS_KEY
        )
        events = client.meta.events
        for event in ("before-call.s3", "needs-retry.s3", "after-call-error.s3"):
            events.register(event, self._fail_if_stopped)
        events.register("after-call.s3", _fail_if_not_stored)
        return client

    def _fail_if_stopped(self, **_event: Any) -> None:
        """Stop a request (and botocore's retries) at once when the server is gone."""
        code = self.exit_code()
        if code is not None:
            raise ServiceUnavailable(
                f"the embedded S3 server stopped ({describe_exit(code)}); the objects it had stored are kept "
                f"in {self.store}; run again: the next start restarts it (its log: {self.log_file})"
            )

    def _last_log_line(self) -> str:
        try:
            with open(self.log_file, "rb") as log:
                log.seek(max(0, log.seek(0, 2) - 4096))
                lines = log.read().decode("utf-8", "replace").strip().splitlines()
        except OSError:
            return ""
        return lines[-1][:300] if lines else ""

    def stop(self) -> None:
        if self._process is not None:
            try:
                self._process.stdin.close()  # the server exits when its stdin closes
            except OSError:
                pass  # it had already gone
            try:
                self._process.wait(STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
            self._process.stdout.close()
            self._process = None


def _fail_if_not_stored(http_response: Any, parsed: dict[str, Any], **_event: Any) -> None:
    """The store's own sentence (a full disk, with its path) instead of botocore's ClientError."""
    if http_response.status_code == STORE_FAILED_STATUS:
        raise ServiceUnavailable(parsed.get("Error", {}).get("Message") or "the embedded S3 store could not be written")


def describe_exit(code: int | None) -> str:
    if code is not None and code < 0:
        return f"killed by {signal.Signals(-code).name}"
    return f"exit code {code}"
