"""Host-side servers that computers reach as host.celesto.internal, for the egress tests."""

from __future__ import annotations

import http.server
import socket
import socketserver
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        self.server.hits += 1  # type: ignore[attr-defined]
        self.server.paths.append(self.path)  # type: ignore[attr-defined]


@contextmanager
def file_server(root: Path) -> Iterator[Any]:
    """``python -m http.server`` on a free loopback port; ``.hits`` counts requests and
    ``.paths`` lists their paths."""

    class Handler(_Quiet):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, directory=str(root), **kwargs)

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.hits = 0  # type: ignore[attr-defined]
    server.paths = []  # type: ignore[attr-defined]
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


class _Echo(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        self.server.hits += 1  # type: ignore[attr-defined]
        while data := self.request.recv(65536):
            self.request.sendall(data)


@contextmanager
def echo_server() -> Iterator[Any]:
    """A plain TCP echo server on a free loopback port."""
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _Echo)
    server.hits = 0  # type: ignore[attr-defined]
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def run(http: httpx.Client, computer_id: str, command: str, timeout: int = 60) -> dict[str, Any]:
    response = http.post(
        f"/v1/computers/{computer_id}/exec", json={"command": command, "timeout": timeout}
    )
    assert response.status_code == 200, response.text
    return dict(response.json())


def egress(http: httpx.Client, computer_id: str) -> dict[str, Any]:
    return dict(http.get(f"/v1/computers/{computer_id}").json()["local"]["egress"])
