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
  instead of forwarding;
- "never-close": stop forwarding this connection (both ways) after `after_bytes` went in `direction`, and from
  then on the proxy never passes a close, in either direction, on any connection (new ones included,
  which still forward their bytes): a path that loses the FIN of every connection;
- "black-hole": after `after_bytes` went in `direction`, every connection (new ones included) stops
  forwarding and passes no close: new connections are accepted and never answered;
- "sink": once the server has completed the authentication (its first ReadyForQuery) and `after_bytes`
  more went up, swallow everything the client sends, forward nothing, pass no close: a warehouse
  that accepts a session and then never answers.
With `after_auth`, a Postgres connection's `after_bytes` count from the end of its authentication.
`heal()` ends every fault: held connections are dropped (their closes pass), new ones forward normally.
Each rule fires `times` times, then passes.
"""

from __future__ import annotations

import contextlib
import select
import socket
import struct
import threading
import time
from dataclasses import dataclass, field

READY_FOR_QUERY = b"Z\x00\x00\x00\x05"  # the server's first one ends the authentication
HTTP_VERBS = (b"GET ", b"PUT ", b"POST", b"HEAD", b"DELE")
ANSWERS = {
    "503": (b"503 Slow Down", b"SlowDown"),
    "501": (b"501 Not Implemented", b"NotImplemented"),
    "507": (b"507 Insufficient Storage", b"InsufficientStorage"),
    "403": (b"403 Forbidden", b"AccessDenied"),
}


def reset(upstream: socket.socket) -> None:
    """Drop a connection to the server with a reset, not a close: a request cut short must not pass for a
    whole one (moto's HTTP server takes a close in the middle of the headers for their end, and stores
    an empty object at the key of a PUT that never finished)."""
    with contextlib.suppress(OSError):
        upstream.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    upstream.close()


@dataclass
class Rule:
    match: str  # substring of the request line (or of a Postgres startup packet)
    action: str  # "cut", "hold", "stall", "never-close", "black-hole", "sink" or a status of ANSWERS
    after_bytes: int = 0  # bytes forwarded (in `direction`) before the action
    times: int = 1  # how many connections (requests) it applies to
    direction: str = "down"  # for "stall": "down" (server to client) or "up" (client to server)
    after_auth: bool = False  # count `after_bytes` from the server's first ReadyForQuery (always so for "sink")
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
        self.never_close = False  # set by a "never-close" rule: no close passes, in either direction
        self.black_hole = threading.Event()  # set by a "black-hole" rule (or a test): nothing passes at all
        self._healed = threading.Event()
        self.held = 0  # connections currently held open without forwarding
        threading.Thread(target=self._accept_loop, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def add(self, rule: Rule) -> Rule:
        with self._lock:
            self.rules.append(rule)
        return rule

    def heal(self) -> None:
        """End every fault: held connections are dropped, and from now on everything passes."""
        with self._lock:
            healed, self._healed = self._healed, threading.Event()
            self.never_close = False
            self.black_hole.clear()
            for rule in self.rules:
                rule.hits = rule.times  # spent
        healed.set()

    def close(self) -> None:
        self._stopping = True
        for rule in self.rules:
            rule.release.set()
        self._healed.set()
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

    def _hold(self, client: socket.socket, upstream: socket.socket | None = None) -> None:
        """Keep these sockets open, reading nothing and passing nothing, until the proxy heals or closes."""
        healed = self._healed
        with self._lock:
            self.held += 1
        try:
            healed.wait()
        finally:
            with self._lock:
                self.held -= 1
            client.close()
            if upstream is not None:
                reset(upstream)

    def _fire(self, rule: Rule) -> None:
        """A "never-close" or "black-hole" rule changes the whole path."""
        if rule.action == "never-close":
            self.never_close = True
        elif rule.action == "black-hole":
            self.black_hole.set()
        rule.fired.set()

    def _serve(self, client: socket.socket) -> None:
        if self.black_hole.is_set():
            self._hold(client)  # accepted, never answered
            return
        upstream = socket.create_connection(self.upstream)
        rule: Rule | None = None
        first = True
        sent = {"down": 0, "up": 0}  # bytes forwarded each way since the rule was picked
        stalled: set[socket.socket] = set()  # sources no longer read
        authenticated = False  # the server sent its first ReadyForQuery (for "sink")
        idle_since = time.monotonic()
        try:
            while True:
                if self.black_hole.is_set():
                    self._hold(client, upstream)
                    return
                sources = [s for s in (client, upstream) if s not in stalled]
                readable, _, _ = select.select(sources, [], [], 0.5)
                if stalled and rule and rule.release.is_set():
                    reset(upstream)  # a released stall drops the connection
                    return
                if not readable:
                    if stalled or self.never_close or time.monotonic() - idle_since < 30:
                        continue
                    return
                idle_since = time.monotonic()
                if client in readable:
                    data = client.recv(65536)
                    if not data:
                        if self.never_close or (rule and rule.action == "sink" and authenticated):
                            self._hold(client, upstream)  # the client's close never reaches the server
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
                    # After the rule is picked (a request's first bytes may be the whole request).
                    armed = rule is not None and (authenticated or not (rule.after_auth or rule.action == "sink"))
                    if rule and rule.action == "sink" and authenticated:
                        if sent["up"] + len(data) > rule.after_bytes:
                            upstream.sendall(data[: max(0, rule.after_bytes - sent["up"])])
                            rule.fired.set()
                            self._swallow(client, upstream)
                            return
                    elif (
                        rule
                        and armed
                        and rule.action in ("stall", "never-close", "black-hole")
                        and rule.direction == "up"
                        and sent["up"] + len(data) > rule.after_bytes
                    ):
                        upstream.sendall(data[: max(0, rule.after_bytes - sent["up"])])
                        sent["up"] = rule.after_bytes
                        if rule.action != "stall":
                            self._fire(rule)
                            self._hold(client, upstream)
                            return
                        rule.fired.set()
                        stalled.add(client)  # its socket fills up: the client's writes block
                        continue
                    upstream.sendall(data)
                    sent["up"] += len(data)
                if upstream in readable:
                    data = upstream.recv(65536)
                    if not data:
                        if self.never_close:
                            self._hold(client, upstream)  # the server's close never reaches the client
                        return
                    waits_for_auth = rule and (rule.after_auth or rule.action == "sink")
                    if waits_for_auth and not authenticated and READY_FOR_QUERY in data:
                        authenticated = True
                        sent["up"] = 0
                        client.sendall(data)
                        continue
                    armed = rule is not None and (authenticated or not (rule.after_auth or rule.action == "sink"))
                    # "cut" and "hold" act on the server's bytes; "stall" and the path faults in their direction
                    down_rule = rule if armed and rule and rule.action != "sink" else None
                    if down_rule and down_rule.action not in ("cut", "hold") and down_rule.direction != "down":
                        down_rule = None
                    if down_rule and sent["down"] + len(data) > down_rule.after_bytes:
                        client.sendall(data[: max(0, down_rule.after_bytes - sent["down"])])
                        sent["down"] = down_rule.after_bytes
                        if down_rule.action in ("never-close", "black-hole"):
                            self._fire(down_rule)
                            self._hold(client, upstream)
                            return
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

    def _swallow(self, client: socket.socket, upstream: socket.socket) -> None:
        """Read and drop whatever the client sends, answer nothing, pass no close, until healed."""
        healed = self._healed
        with self._lock:
            self.held += 1
        try:
            while not healed.is_set() and not self.black_hole.is_set():
                readable, _, _ = select.select([client], [], [], 0.5)
                if readable and not client.recv(65536):
                    healed.wait()  # the client closed: the server is never told
        except OSError:
            pass
        finally:
            with self._lock:
                self.held -= 1
            if self.black_hole.is_set() and not healed.is_set():
                healed.wait()

    @staticmethod
    def _answer(client: socket.socket, status: bytes, code: bytes) -> None:
        body = b"<Error><Code>" + code + b"</Code><Message>injected</Message></Error>"
        client.sendall(
            b"HTTP/1.1 " + status + b"\r\nContent-Type: application/xml\r\nConnection: close\r\n"
            b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body
        )
