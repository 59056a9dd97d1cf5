"""The proxy's own limits, on a host listener (the same code serves a computer's socket):
how many connections one computer may hold, and how large its egress log may grow."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

import pytest

from celesto_api.local.egress import EgressPolicy, EgressProxy
from celesto_api.local.egress import proxy as proxy_module
from tests.waiting import await_until


async def refused_get(port: int, target: str) -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(f"GET http://{target}/ HTTP/1.1\r\nHost: {target}\r\n\r\n".encode())
    await writer.drain()
    reply = await reader.read()
    writer.close()
    return reply


async def test_connections_beyond_the_cap_are_closed_and_logged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(proxy_module, "MAX_CONNECTIONS", 5)
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    port = listener.getsockname()[1]
    proxy = EgressProxy(listener, EgressPolicy(), tmp_path / "egress.log")
    await proxy.start()
    try:
        held = [await asyncio.open_connection("127.0.0.1", port) for _ in range(5)]
        await await_until(lambda: proxy.stats.open, lambda held: held >= 5, "5 held open")
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        assert await reader.read() == b""  # closed at once
        writer.close()
        assert proxy.stats.refused == 1
        assert proxy.stats.last_refusals[-1]["kind"] == "accept"
        for _, held_writer in held:
            held_writer.close()
        await await_until(lambda: proxy.stats.open, lambda held: held == 0, "all closed")
        # Room again.
        assert b" 403 " in await refused_get(port, "10.0.0.1")
    finally:
        await proxy.close()


async def test_the_egress_log_keeps_two_files_at_most(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(proxy_module, "MAX_LOG_BYTES", 300)
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    log = tmp_path / "egress.log"
    proxy = EgressProxy(listener, EgressPolicy(), log)
    await proxy.start()
    try:
        for n in range(20):
            assert b" 403 " in await refused_get(listener.getsockname()[1], f"10.0.0.{n}")
    finally:
        await proxy.close()
    rotated = tmp_path / "egress.log.1"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["egress.log", "egress.log.1"]
    assert log.stat().st_size <= 300 + 200 and rotated.stat().st_size <= 300 + 200
    assert "refused http 10.0.0.19:80: 10.0.0.19 is a private address" in log.read_text()
    assert proxy.stats.refused == 20 and len(proxy.stats.last_refusals) == 5
