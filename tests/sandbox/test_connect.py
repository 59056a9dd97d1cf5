"""connect(port): a TCP socket to a server inside the computer, for port publishing."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

import pytest

from celesto_api.local.sandbox import Sandbox
from tests.waiting import await_until

from .conftest import Harness
from .helpers import check, free_port


async def serve(sandbox: Sandbox, port: int, text: str) -> None:
    await check(
        sandbox,
        f"mkdir -p ~/www && echo {text} > ~/www/whoami.txt && cd ~/www && "
        f"(python3 -m http.server {port} --bind 127.0.0.1 >/dev/null 2>&1 &)",
    )


async def http_get(sandbox: Sandbox, port: int, path: str, timeout: float = 10) -> bytes:

    async def connection() -> socket.socket | None:
        try:
            return await sandbox.connect(port)
        except ConnectionRefusedError:
            return None  # nothing listens yet

    sock = await await_until(connection, what=f"port {port} to listen", timeout=timeout)
    reader, writer = await asyncio.open_connection(sock=sock)
    writer.write(f"GET {path} HTTP/1.0\r\nHost: x\r\n\r\n".encode())
    await writer.drain()
    data = await asyncio.wait_for(reader.read(), timeout)
    writer.close()
    return data


async def test_connect_reaches_a_server_started_by_exec(harness: Harness) -> None:
    sandbox = await harness.start(network="off")
    port = 8000 if harness.kind == "bwrap" else free_port()
    await serve(sandbox, port, "hello")
    response = await http_get(sandbox, port, "/whoami.txt")
    assert response.startswith(b"HTTP/1.0 200")
    assert response.endswith(b"hello\n")


async def test_two_computers_each_serve_port_8000(bwrap_harness: Harness) -> None:
    first, second = (
        await bwrap_harness.start(network="off"),
        await bwrap_harness.start(network="off"),
    )
    await serve(first, 8000, "first")
    await serve(second, 8000, "second")
    assert (await http_get(first, 8000, "/whoami.txt")).endswith(b"first\n")
    assert (await http_get(second, 8000, "/whoami.txt")).endswith(b"second\n")


async def test_closed_port_is_refused(harness: Harness) -> None:
    sandbox = await harness.start(network="off")
    with pytest.raises(ConnectionRefusedError):
        await sandbox.connect(free_port() if harness.kind == "process" else 8000)
    with pytest.raises(ValueError):
        await sandbox.connect(0)


async def test_connect_falls_back_to_ipv6_loopback(harness: Harness) -> None:
    if not socket.has_ipv6 or not Path("/proc/net/if_inet6").read_text().strip():
        pytest.skip("no IPv6 on this host")
    sandbox = await harness.start(network="off")
    port = 8000 if harness.kind == "bwrap" else free_port()
    await check(
        sandbox,
        f"cd ~ && echo six > six.txt && "
        f"(python3 -m http.server {port} --bind ::1 >/dev/null 2>&1 &)",
    )
    assert (await http_get(sandbox, port, "/six.txt")).endswith(b"six\n")
