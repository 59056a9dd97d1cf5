"""A front on loopback that answers like the Celesto cloud, in front of the real local
server: the cloud's route table lacks the endpoints only the embedded backend offers."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

import httpx

# The endpoints only the embedded local backend has (contract §5: the cloud has list, status
# and chat under /v1/deploy/apps, nothing else): the cloud's router answers them 404.
CLOUD_MISSING = (
    ("POST", re.compile(r"/v1/deploy/apps/[^/]+/stop")),
    ("DELETE", re.compile(r"/v1/deploy/apps/[^/]+")),
    ("GET", re.compile(r"/v1/deploy/apps/[^/]+/logs")),
)
FORWARDED_HEADERS = ("authorization", "content-type", "idempotency-key", "x-current-organization")


class CloudLikeFront(ThreadingHTTPServer):
    """A reverse proxy on loopback in front of the real local server with the cloud's route
    table: the local-only deployment endpoints answer 404 ``{"detail": "Not Found"}`` (what
    the cloud's FastAPI router says for a path it has no route for); every other request
    goes to the local server as it is."""

    daemon_threads = True

    def __init__(self, upstream: str) -> None:
        super().__init__(("127.0.0.1", 0), _FrontHandler)
        self.upstream = httpx.Client(base_url=upstream, timeout=30)
        self.refused: list[str] = []

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _FrontHandler(BaseHTTPRequestHandler):
    server: CloudLikeFront

    def _relay(self) -> None:
        path = urlsplit(self.path).path
        body = self.rfile.read(int(self.headers.get("content-length") or 0))
        if any(self.command == m and pattern.fullmatch(path) for m, pattern in CLOUD_MISSING):
            self.server.refused.append(f"{self.command} {path}")
            self._answer(404, b'{"detail":"Not Found"}', "application/json")
            return
        headers = {k: v for k, v in self.headers.items() if k.lower() in FORWARDED_HEADERS}
        reply = self.server.upstream.request(self.command, self.path, headers=headers, content=body)
        self._answer(reply.status_code, reply.content, reply.headers.get("content-type"))

    def _answer(self, status: int, body: bytes, content_type: str | None) -> None:
        self.send_response(status)
        if content_type:
            self.send_header("content-type", content_type)
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = do_DELETE = do_PUT = do_PATCH = _relay

    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextmanager
def cloud_like_front(upstream: str) -> Iterator[CloudLikeFront]:
    front = CloudLikeFront(upstream)
    thread = threading.Thread(target=front.serve_forever, name="cloud-like", daemon=True)
    thread.start()
    try:
        yield front
    finally:
        front.shutdown()
        front.server_close()
        front.upstream.close()
        thread.join(5)
