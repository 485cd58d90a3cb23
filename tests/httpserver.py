"""A tiny threaded HTTP server for tests: each path answers from a script of responses."""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Reply:
    """One scripted answer. ``trickle`` sends the body a few bytes at a time with pauses."""

    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    trickle: float = 0.0
    drop: bool = False
    # Computes the body from the request body (an API answering each message it was sent).
    answer: Callable[[bytes], bytes] | None = None


class FeedServer:
    """Serves scripted replies; the last reply of a path repeats once the script runs out."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        self.scripts: dict[str, list[Reply]] = {}
        self.requests: dict[str, list[dict[str, str]]] = defaultdict(list)
        self.bodies: dict[str, list[bytes]] = defaultdict(list)
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                with server._lock:
                    server.bodies[self.path.split("?")[0]].append(body)
                self.do_GET(body)

            def do_GET(self, request_body: bytes = b"") -> None:
                path = self.path
                with server._lock:
                    server.requests[path.split("?")[0]].append(dict(self.headers))
                    script = server.scripts.get(path) or server.scripts.get(path.split("?")[0])
                    if not script:
                        reply = Reply(status=404, body=b"not found")
                    else:
                        reply = script.pop(0) if len(script) > 1 else script[0]
                if reply.answer is not None:
                    reply = Reply(status=reply.status, body=reply.answer(request_body), headers=reply.headers)
                if reply.delay:
                    time.sleep(reply.delay)
                if reply.drop:
                    self.close_connection = True
                    self.connection.close()
                    return
                self.send_response(reply.status)
                headers = {"Content-Length": str(len(reply.body)), **reply.headers}
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                if reply.trickle:
                    try:
                        for start in range(0, len(reply.body), 16):
                            self.wfile.write(reply.body[start : start + 16])
                            self.wfile.flush()
                            time.sleep(reply.trickle)
                    except OSError:
                        return  # the client gave up, as it should
                else:
                    self.wfile.write(reply.body)

        self.httpd = ThreadingHTTPServer((host, 0), Handler)
        self.httpd.daemon_threads = True
        self.httpd.block_on_close = False  # a trickling reply must not hold up the test's end
        self._thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def base_url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}"

    def url(self, path: str) -> str:
        return self.base_url + path

    def script(self, path: str, *replies: Reply) -> str:
        """Set the replies for ``path`` and return its full URL."""
        with self._lock:
            self.scripts[path] = list(replies)
        return self.url(path)

    def hits(self, path: str) -> int:
        return len(self.requests[path])

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
