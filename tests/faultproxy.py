"""A small TCP proxy of our own between a client and the S3 server, to inject network faults for real.

Rules match the first request line of a connection (e.g. "GET /bucket/orders_data/orders.csv")
and act on the server's answer: cut the connection after N bytes, hold it after N bytes until
released, or answer 503 instead of forwarding. Each rule fires `times` times, then passes.
"""

from __future__ import annotations

import select
import socket
import threading
from dataclasses import dataclass, field


@dataclass
class Rule:
    match: str                     # substring of the request line
    action: str                    # "cut", "hold" or "503"
    after_bytes: int = 0           # server bytes forwarded before the action
    times: int = 1                 # how many connections it applies to
    fired: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)
    hits: int = 0


class FaultProxy:
    def __init__(self, upstream_host: str, upstream_port: int):
        self.upstream = (upstream_host, upstream_port)
        self.rules: list[Rule] = []
        self.requests: list[bytes] = []  # first bytes of every request seen
        self._lock = threading.Lock()
        self._server = socket.create_server(("127.0.0.1", 0))
        self.port = self._server.getsockname()[1]
        self._stopping = False
        threading.Thread(target=self._accept_loop, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def add(self, rule: Rule) -> Rule:
        with self._lock:
            self.rules.append(rule)
        return rule

    def close(self) -> None:
        self._stopping = True
        for rule in self.rules:
            rule.release.set()
        self._server.close()

    def _accept_loop(self) -> None:
        while not self._stopping:
            try:
                client, _ = self._server.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _pick_rule(self, request: bytes) -> Rule | None:
        line = request.split(b"\r\n", 1)[0].decode("latin-1")
        with self._lock:
            for rule in self.rules:
                if rule.match in line and rule.hits < rule.times:
                    rule.hits += 1
                    return rule
        return None

    def _serve(self, client: socket.socket) -> None:
        upstream = socket.create_connection(self.upstream)
        rule: Rule | None = None
        first = True
        sent = 0
        try:
            while True:
                readable, _, _ = select.select([client, upstream], [], [], 30)
                if not readable:
                    return
                if client in readable:
                    data = client.recv(65536)
                    if not data:
                        return
                    if first or data[:4] in (b"GET ", b"PUT ", b"POST", b"HEAD", b"DELE"):
                        # keep-alive connections carry several requests: match each request line
                        rule = self._pick_rule(data) if data[:1].isalpha() else rule
                        with self._lock:
                            self.requests.append(data[:2048])
                        first = False
                        sent = 0
                        if rule and rule.action == "503":
                            rule.fired.set()
                            body = b"<Error><Code>SlowDown</Code><Message>injected</Message></Error>"
                            client.sendall(b"HTTP/1.1 503 Slow Down\r\nContent-Type: application/xml\r\n"
                                           b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)
                            rule = None
                            continue
                    upstream.sendall(data)
                if upstream in readable:
                    data = upstream.recv(65536)
                    if not data:
                        return
                    if rule and sent + len(data) > rule.after_bytes:
                        keep = max(0, rule.after_bytes - sent)
                        client.sendall(data[:keep])
                        rule.fired.set()
                        if rule.action == "hold":
                            rule.release.wait(120)
                        return  # "cut", or a held connection released: drop it mid-body
                    client.sendall(data)
                    sent += len(data)
        except OSError:
            return
        finally:
            client.close()
            upstream.close()
