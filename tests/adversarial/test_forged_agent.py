"""A taken-over agent (what PR_SET_DUMPABLE now prevents) answering the server in its place.

The impostor listens where the server reaches the computer's agent; what it sends must
end that computer with the reason, leave other computers working and never stall the
server (which once read a 64 MiB line for 36 s with /health timing out)."""

from __future__ import annotations

import contextlib
import os
import socket
import tempfile
import threading
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from celesto_api.local import LocalServer

from .conftest import HealthProbe, run, wait_status

FLOOD_BYTES = 64 << 20


class Impostor:
    """Accepts the server's agent connections and answers each with ``reply``."""

    def __init__(self, mode: str) -> None:
        self.mode = mode
        self.dir = tempfile.mkdtemp(prefix="imp-", dir="/tmp")
        self.path = os.path.join(self.dir, "agent.sock")
        self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.listener.bind(self.path)
        self.listener.listen(16)
        self.sent = 0
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            with conn, contextlib.suppress(OSError):
                conn.recv(65536)  # the request line (and its fds, dropped)
                self._answer(conn)

    def _answer(self, conn: socket.socket) -> None:
        if self.mode == "flood":
            chunk = b"x" * (1 << 20)
            for _ in range(FLOOD_BYTES // len(chunk)):
                conn.sendall(chunk)
                self.sent += len(chunk)
        elif self.mode == "malformed":
            conn.sendall(b"{this is not json\n")
        elif self.mode == "deep":
            conn.sendall(b"[" * 500_000 + b"]" * 500_000 + b"\n")
        elif self.mode == "wrong-types":
            conn.sendall(b'{"pid": "1"}\n{"exit": true, "timed_out": "no"}\n')
        elif self.mode == "fd-flood":
            null = os.open(os.devnull, os.O_RDONLY)
            try:
                for _ in range(64):
                    socket.send_fds(conn, [b" "], [null] * 8)
            finally:
                os.close(null)

    def close(self) -> None:
        self.listener.close()
        with contextlib.suppress(OSError):
            os.unlink(self.path)
        os.rmdir(self.dir)


@pytest.fixture
def second(http: httpx.Client) -> Iterator[dict[str, Any]]:
    created = http.post("/v1/computers", json={}).json()
    computer = wait_status(http, created["id"], "running")
    assert computer["status"] == "running", computer
    yield computer
    http.delete(f"/v1/computers/{computer['id']}")


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


@pytest.mark.parametrize(
    ("mode", "reason"),
    [
        ("flood", f"sent a reply longer than {1 << 20} bytes"),
        ("malformed", "sent a malformed reply"),
        ("deep", "sent a malformed reply"),
        ("wrong-types", "'pid' is not an integer"),
        ("fd-flood", "sent more than 8 file descriptors"),
    ],
)
def test_an_impostor_agent_ends_only_its_own_computer(
    health_probe: HealthProbe,
    http: httpx.Client,
    local_server: LocalServer,
    running_computer_via_http: dict[str, Any],
    second: dict[str, Any],
    mode: str,
    reason: str,
) -> None:
    assert local_server.backend is not None
    sandbox = local_server.backend.computers.sandbox(running_computer_via_http["id"])
    assert sandbox is not None
    impostor = Impostor(mode)
    fds_before = open_fds()
    try:
        sandbox.client.socket_path = impostor.path  # type: ignore[attr-defined]
        victim = run(http, running_computer_via_http["id"], "echo hello")
        bystander = run(http, second["id"], "echo unaffected")
    finally:
        impostor.close()
    assert victim.status_code == 409, victim.text
    assert reason in victim.json()["detail"], victim.json()
    assert "can no longer be trusted" in victim.json()["detail"]
    assert bystander.status_code == 200 and bystander.json()["stdout"] == "unaffected\n"
    if mode == "flood":
        assert impostor.sent < FLOOD_BYTES, "the server read the whole flood"
    ended = wait_status(http, running_computer_via_http["id"], "error")
    assert ended["status"] == "error", ended
    assert reason in ended["last_error"], ended
    # Received fds were all closed again (a little slack for the server's other work).
    assert open_fds() <= fds_before + 4


def test_an_impostor_behind_a_published_port_gets_a_502_and_ends_its_computer(
    health_probe: HealthProbe,
    http: httpx.Client,
    local_server: LocalServer,
    running_computer_via_http: dict[str, Any],
) -> None:
    assert local_server.backend is not None
    published = http.post(
        f"/v1/computers/{running_computer_via_http['id']}/published-ports", json={"port": 8000}
    )
    assert published.status_code == 200, published.text
    sandbox = local_server.backend.computers.sandbox(running_computer_via_http["id"])
    assert sandbox is not None
    impostor = Impostor("malformed")
    try:
        sandbox.client.socket_path = impostor.path  # type: ignore[attr-defined]
        answer = httpx.get(published.json()["url"], timeout=30)
    finally:
        impostor.close()
    assert answer.status_code == 502, answer.text
    assert "malformed reply" in answer.text
    ended = wait_status(http, running_computer_via_http["id"], "error")
    assert "can no longer be trusted" in ended["last_error"], ended
