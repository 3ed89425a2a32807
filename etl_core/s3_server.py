"""moto's S3 server in a child process, so its memory and CPU stay out of the console's process.

Started by `EmbeddedServices`: it prints "host:port" once listening, and exits when its stdin
closes, which also happens when the parent dies, so it never outlives the console.
"""

from __future__ import annotations

import logging
import os
import sys

# Objects and parts up to this size stay in memory instead of moto's temp files: completing a
# multipart upload re-reads every part, and the round trip through disk slowed exports by 8%.
KEY_BUFFER_BYTES = 64 * 1024 * 1024


def main() -> None:
    os.environ.setdefault("MOTO_S3_DEFAULT_KEY_BUFFER_SIZE", str(KEY_BUFFER_BYTES))
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    print(f"{host}:{port}", flush=True)
    sys.stdin.read()  # blocks until the parent closes the pipe or dies
    server.stop()


if __name__ == "__main__":
    main()
