"""The embedded S3 server as a child process (`python -m etl_core.embedded.s3_server`)."""

from __future__ import annotations

import select
import subprocess
import sys
from typing import Any

from etl_core.errors import ServiceUnavailable
from etl_core.s3 import make_s3_client

EMBEDDED_ACCESS_KEY = "embedded"  # moto accepts any key; these are not secrets
S3_START_TIMEOUT_S = 30


class S3Child:
    """Spawn the server, learn its address, stop it; `endpoint` once it listens."""

    def __init__(self, region: str):
        self.region = region
        self._process: Any = None
        self.endpoint: str | None = None

    @property
    def running(self) -> bool:
        return self._process is not None

    def spawn(self, lock_fd: int | None = None) -> None:
        """Start the server; with `lock_fd`, the state folder stays locked until the child has exited."""
        self._process = subprocess.Popen(
            [sys.executable, "-m", "etl_core.embedded.s3_server"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
            pass_fds=() if lock_fd is None else (lock_fd,),
            start_new_session=True)  # the terminal's Ctrl-C and hang-up reach only the console

    def await_ready(self) -> None:
        ready, _, _ = select.select([self._process.stdout], [], [], S3_START_TIMEOUT_S)
        line = self._process.stdout.readline().strip() if ready else ""
        if not line:
            self.stop()
            raise ServiceUnavailable(f"the embedded S3 server did not start within {S3_START_TIMEOUT_S}s; "
                                     "check that the moto[server] package is installed (pip install 'moto[server]')")
        self.endpoint = f"http://{line}"

    def client(self) -> Any:
        return make_s3_client(self.region, self.endpoint,
                              access_key=EMBEDDED_ACCESS_KEY, secret_key=EMBEDDED_ACCESS_KEY)

    def stop(self) -> None:
        if self._process is not None:
            self._process.stdin.close()  # the server exits when its stdin closes
            try:
                self._process.wait(10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
            self._process = None
