"""The proxy on a host listener (the same code serves a computer's socket): how many
connections one computer may hold, how large its egress log may grow, and that it dials the
address it checked (a name that resolves elsewhere the next time cannot slip through)."""

from __future__ import annotations

import asyncio
import ipaddress
import os
import socket
from pathlib import Path

import pytest

from celesto_api.local.egress import EgressPolicy, EgressProxy
from celesto_api.local.egress import proxy as proxy_module
from celesto_api.local.egress.policy import IPAddress
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


class Rebinding:
    """A resolver that gives ``name`` a public-looking address the first time and this
    machine's loopback every time after (what a DNS-rebinding attacker's server does)."""

    def __init__(self) -> None:
        self.asked: list[str] = []

    async def __call__(self, name: str, port: int) -> list[IPAddress]:
        self.asked.append(name)
        first = len(self.asked) == 1
        return [ipaddress.ip_address("198.51.100.7" if first else "127.0.0.1")]


async def test_the_proxy_dials_the_address_it_checked_and_resolves_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The public-looking address may not answer here: give up on it quickly.
    monkeypatch.setattr(proxy_module, "DIAL_TIMEOUT", 1.0)
    target = socket.socket()  # what the name points at the second time
    target.bind(("127.0.0.1", 0))
    target.listen()
    target.setblocking(False)
    port = target.getsockname()[1]
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    resolver = Rebinding()
    proxy = EgressProxy(listener, EgressPolicy(lookup=resolver), tmp_path / "egress.log")
    await proxy.start()
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", listener.getsockname()[1])
        writer.write(f"CONNECT rebind.example:{port} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        status = await reader.readline()
        writer.close()
        # Connected to 198.51.100.7 (if this network answers) or failed to: never loopback.
        assert status.split()[1] in (b"200", b"502", b"504"), status
        assert resolver.asked == ["rebind.example"]  # checked and dialled from one answer
        with pytest.raises(BlockingIOError):
            target.accept()
        # The name now resolves to loopback, and the check sees it.
        assert b" 403 " in await refused_get(listener.getsockname()[1], f"rebind.example:{port}")
        assert resolver.asked == ["rebind.example"] * 2
        assert (
            "rebind.example (127.0.0.1) is this machine" in proxy.stats.last_refusals[-1]["reason"]
        )
        with pytest.raises(BlockingIOError):
            target.accept()
    finally:
        await proxy.close()
        target.close()


def accepted_end(client: socket.socket) -> socket.socket:
    """This process's socket at the other end of ``client`` (the proxy runs in-process)."""
    for name in os.listdir("/proc/self/fd"):
        try:
            candidate = socket.socket(fileno=os.dup(int(name)))
        except OSError:
            continue
        try:
            if (
                candidate.type == socket.SOCK_STREAM
                and candidate.getsockname() == client.getpeername()
                and candidate.getpeername() == client.getsockname()
            ):
                return candidate
        except OSError:
            pass
        candidate.close()
    raise AssertionError("no accepted socket for the client")


async def test_accepted_connections_send_without_nagle(tmp_path: Path) -> None:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    proxy = EgressProxy(listener, EgressPolicy(), tmp_path / "egress.log")
    await proxy.start()
    try:
        client = socket.create_connection(listener.getsockname())
        await await_until(lambda: proxy.stats.open, lambda held: held >= 1, "the accept")
        with accepted_end(client) as accepted:
            assert accepted.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0
        client.close()
    finally:
        await proxy.close()
