"""A small TCP proxy of our own between a client and a server (S3 or Postgres), to inject network faults for real.

Rules match the first bytes of a request: an HTTP request line (e.g. "GET /bucket/orders_data/orders.csv")
or, for Postgres, anything in the startup packet (e.g. the application name "d2b-console staging").
Actions:
- "cut": drop the connection after the server sent `after_bytes`;
- "hold": stop forwarding the server's bytes after `after_bytes` until released, then drop;
- "stall": stop forwarding (and reading) in one `direction` ("down": server to client, "up": client to
  server) after `after_bytes` went that way, without closing, until released; the other direction
  keeps flowing. A stalled "up" fills the client's socket, a stalled "down" the server's;
- "503" / "501" / "507" / "403": answer that HTTP status (SlowDown / NotImplemented / InsufficientStorage /
  AccessDenied)
  instead of forwarding.
Each rule fires `times` times, then passes.
"""

from __future__ import annotations

import select
import socket
import threading
from dataclasses import dataclass, field

HTTP_VERBS = (b"GET ", b"PUT ", b"POST", b"HEAD", b"DELE")
ANSWERS = {
    "503": (b"503 Slow Down", b"SlowDown"),
    "501": (b"501 Not Implemented", b"NotImplemented"),
    "507": (b"507 Insufficient Storage", b"InsufficientStorage"),
    "403": (b"403 Forbidden", b"AccessDenied"),
}


@dataclass
class Rule:
    match: str  # substring of the request line (or of a Postgres startup packet)
    action: str  # "cut", "hold", "stall" or a status of ANSWERS
    after_bytes: int = 0  # bytes forwarded (in `direction`) before the action
    times: int = 1  # how many connections (requests) it applies to
    direction: str = "down"  # for "stall": "down" (server to client) or "up" (client to server)
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
        # An HTTP request is matched on its request line; anything else (a Postgres startup packet) whole.
        line = request.split(b"\r\n", 1)[0] if request[:4] in HTTP_VERBS else request
        text = line.decode("latin-1")
        with self._lock:
            for rule in self.rules:
                if rule.match in text and rule.hits < rule.times:
                    rule.hits += 1
                    return rule
        return None

    def _serve(self, client: socket.socket) -> None:
        upstream = socket.create_connection(self.upstream)
        rule: Rule | None = None
        first = True
        sent = {"down": 0, "up": 0}  # bytes forwarded each way since the rule was picked
        stalled: set[socket.socket] = set()  # sources no longer read
        try:
            while True:
                sources = [s for s in (client, upstream) if s not in stalled]
                readable, _, _ = select.select(sources, [], [], 0.5 if stalled else 30)
                if stalled and rule and rule.release.is_set():
                    return  # a released stall drops the connection
                if not readable:
                    if stalled:
                        continue
                    return
                if client in readable:
                    data = client.recv(65536)
                    if not data:
                        return
                    if first or data[:4] in HTTP_VERBS:
                        # keep-alive connections carry several requests: match each request line
                        rule = self._pick_rule(data) if (first or data[:1].isalpha()) else rule
                        with self._lock:
                            self.requests.append(data[:2048])
                        first = False
                        sent = {"down": 0, "up": 0}
                        if rule and rule.action in ANSWERS:
                            rule.fired.set()
                            # Then close: the rest of a request body must not reach the server as a request.
                            self._answer(client, *ANSWERS[rule.action])
                            return
                    if (
                        rule
                        and rule.action == "stall"
                        and rule.direction == "up"
                        and sent["up"] + len(data) > rule.after_bytes
                    ):
                        upstream.sendall(data[: max(0, rule.after_bytes - sent["up"])])
                        sent["up"] = rule.after_bytes
                        rule.fired.set()
                        stalled.add(client)  # its socket fills up: the client's writes block
                        continue
                    upstream.sendall(data)
                    sent["up"] += len(data)
                if upstream in readable:
                    data = upstream.recv(65536)
                    if not data:
                        return
                    down_rule = rule if rule and (rule.action != "stall" or rule.direction == "down") else None
                    if down_rule and sent["down"] + len(data) > down_rule.after_bytes:
                        client.sendall(data[: max(0, down_rule.after_bytes - sent["down"])])
                        sent["down"] = down_rule.after_bytes
                        down_rule.fired.set()
                        if down_rule.action == "stall":
                            stalled.add(upstream)  # the server's socket fills up; the client waits
                            continue
                        if down_rule.action == "hold":
                            down_rule.release.wait(120)
                        return  # "cut", or a held connection released: drop it mid-body
                    client.sendall(data)
                    sent["down"] += len(data)
        except OSError:
            return
        finally:
            client.close()
            upstream.close()

    @staticmethod
    def _answer(client: socket.socket, status: bytes, code: bytes) -> None:
        body = b"<Error><Code>" + code + b"</Code><Message>injected</Message></Error>"
        client.sendall(
            b"HTTP/1.1 " + status + b"\r\nContent-Type: application/xml\r\nConnection: close\r\n"
            b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body
        )
