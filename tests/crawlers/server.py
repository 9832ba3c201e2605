"""A real HTTP server on 127.0.0.1 whose pages a test changes between requests.

``server.route(path, handler)`` sets what a path answers; a handler is a ``Page`` (fixed
answer), a list of answers served one after the other (the last one repeats), or a callable
taking the request handler and writing the answer itself (slow drips, endless bodies).
Every request is logged in ``server.requests`` as (path, headers).

``FixtureServer(tls=True)`` speaks https instead: ``server.use_certificate(context)`` sets the
server-side ``ssl.SSLContext`` new connections get, and ``server.server_names`` logs the SNI
name of every handshake (None when the client sent none), failed handshakes included.
"""

from __future__ import annotations

import socket
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Page:
    body: bytes | str = b""
    status: int = 200
    content_type: str = "text/html; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)

    def encoded(self) -> bytes:
        return self.body.encode("utf-8") if isinstance(self.body, str) else self.body


Handler = Page | list[Page] | Callable[[BaseHTTPRequestHandler], None]


class QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address) -> None:
        # Clients that hang up early (byte caps, deadlines) are part of the tests.
        pass


class TLSServer(QuietServer):
    """Wraps each accepted connection in TLS; the handshake runs in the handler's thread."""

    context: ssl.SSLContext | None = None

    def get_request(self) -> tuple[socket.socket, tuple]:
        sock, address = self.socket.accept()
        if self.context is None:
            sock.close()
            raise OSError("no certificate is set")
        wrapped = self.context.wrap_socket(sock, server_side=True, do_handshake_on_connect=False)
        return wrapped, address


class FixtureServer:
    def __init__(self, *, tls: bool = False) -> None:
        self.routes: dict[str, Handler] = {}
        self.counts: dict[str, int] = {}
        self.requests: list[tuple[str, dict[str, str]]] = []
        self.server_names: list[str | None] = []
        self.scheme = "https" if tls else "http"
        self.latency = 0.0
        self.in_flight = 0
        self.max_in_flight = 0
        self._lock = threading.Lock()
        outer = self

        class RequestHandler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format, *args) -> None:
                pass

            def setup(self) -> None:
                if isinstance(self.request, ssl.SSLSocket):
                    # A client that stalls mid-handshake must not hold this thread for ever.
                    self.request.settimeout(5)
                    self.request.do_handshake()  # a failure ends here, in handle_error
                super().setup()

            def do_GET(self) -> None:
                outer._serve(self)

        self.httpd = (TLSServer if tls else QuietServer)(("127.0.0.1", 0), RequestHandler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path: str, *, host: str = "127.0.0.1") -> str:
        return f"{self.scheme}://{host}:{self.port}{path}"

    def use_certificate(self, context: ssl.SSLContext) -> None:
        """Serve new connections with ``context``, logging the SNI name each handshake sends."""

        def record(_connection, server_name: str | None, _context) -> None:
            with self._lock:
                self.server_names.append(server_name)

        context.sni_callback = record
        self.httpd.context = context

    def route(self, path: str, handler: Handler) -> None:
        with self._lock:
            self.routes[path] = handler
            self.counts[path] = 0

    def hits(self, path: str) -> int:
        return sum(1 for p, _ in self.requests if p == path)

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def _serve(self, request: BaseHTTPRequestHandler) -> None:
        path = request.path.split("?", 1)[0]
        with self._lock:
            self.requests.append((request.path, dict(request.headers)))
            handler = self.routes.get(path)
            index = self.counts.get(path, 0)
            self.counts[path] = index + 1
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            if self.latency:
                time.sleep(self.latency)
            # Out of flight before the answer goes out: once the client has read it, it may
            # send the next request before this thread gets to run again.
            with self._lock:
                self.in_flight -= 1
            if handler is None:
                handler = Page("not here", status=404, content_type="text/plain")
            if isinstance(handler, list):
                handler = handler[min(index, len(handler) - 1)]
            if callable(handler) and not isinstance(handler, Page):
                handler(request)
                return
            write(request, handler)
        except (BrokenPipeError, ConnectionResetError):
            pass


def write(request: BaseHTTPRequestHandler, page: Page) -> None:
    body = page.encoded()
    etag = page.headers.get("ETag")
    if etag and request.headers.get("If-None-Match") == etag:
        request.send_response(304)
        request.send_header("ETag", etag)
        request.send_header("Content-Length", "0")
        request.end_headers()
        return
    request.send_response(page.status)
    if page.content_type:
        request.send_header("Content-Type", page.content_type)
    for name, value in page.headers.items():
        request.send_header(name, value)
    request.send_header("Content-Length", str(len(body)))
    request.end_headers()
    request.wfile.write(body)
