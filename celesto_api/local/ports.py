"""Published ports: a host listener on 127.0.0.1 per (computer, port), bridged to the
port inside the computer's own network namespace through the sandbox agent.

The listener outlives a stop so the URL stays the same; while the computer is
not running it answers 503, and a closed port inside answers 502.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import socket
from collections.abc import Callable
from dataclasses import dataclass, field

from .sandbox import Sandbox, SandboxError

log = logging.getLogger("celesto_api.local")

SandboxLookup = Callable[[str], Sandbox | None]
NameLookup = Callable[[str], str]
_CHUNK = 64 * 1024


def _http_error(status: str, message: str) -> bytes:
    body = (message + "\n").encode()
    return (
        f"HTTP/1.1 {status}\r\nContent-Type: text/plain; charset=utf-8\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    ).encode() + body


@dataclass
class _Route:
    computer_id: str
    port: int
    server: asyncio.Server
    host_port: int
    connections: set[asyncio.Task[None]] = field(default_factory=set)


class PortBridge:
    def __init__(self, sandbox_for: SandboxLookup, name_for: NameLookup, host: str = "127.0.0.1"):
        self._sandbox_for = sandbox_for
        self._name_for = name_for
        self._host = host
        self._routes: dict[tuple[str, int], _Route] = {}
        # Open connections per sandbox they reach, so a sandbox that is being replaced
        # can be stopped only once its last request has finished.
        self._in_use: dict[int, int] = {}

    def connections_to(self, sandbox: Sandbox) -> int:
        """How many bridged connections are open to ``sandbox`` now."""
        return self._in_use.get(id(sandbox), 0)

    def host_ports(self) -> set[int]:
        """Every host port this bridge listens on."""
        return {route.host_port for route in self._routes.values()}

    def host_port(self, computer_id: str, port: int) -> int | None:
        route = self._routes.get((computer_id, port))
        return route.host_port if route else None

    async def open(self, computer_id: str, port: int, preferred_host_port: int | None) -> int:
        """Start (or keep) the listener; try to keep the host port it had before."""
        existing = self._routes.get((computer_id, port))
        if existing is not None:
            return existing.host_port
        server = None
        if preferred_host_port:
            with contextlib.suppress(OSError):
                server = await self._listen(computer_id, port, preferred_host_port)
        if server is None:
            server = await self._listen(computer_id, port, 0)
        host_port = int(server.sockets[0].getsockname()[1])
        self._routes[(computer_id, port)] = _Route(computer_id, port, server, host_port)
        return host_port

    async def _listen(self, computer_id: str, port: int, host_port: int) -> asyncio.Server:
        async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            await self._serve_connection(computer_id, port, reader, writer)

        return await asyncio.start_server(handle, self._host, host_port, reuse_address=True)

    async def close(self, computer_id: str, port: int) -> None:
        route = self._routes.pop((computer_id, port), None)
        if route is None:
            return
        route.server.close()
        for task in list(route.connections):
            task.cancel()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(route.server.wait_closed(), 2)

    async def close_computer(self, computer_id: str) -> None:
        for key in [key for key in self._routes if key[0] == computer_id]:
            await self.close(*key)

    async def shutdown(self) -> None:
        for key in list(self._routes):
            await self.close(*key)

    async def _serve_connection(
        self,
        computer_id: str,
        port: int,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
    ) -> None:
        route = self._routes.get((computer_id, port))
        task = asyncio.current_task()
        if route is not None and task is not None:
            route.connections.add(task)
        try:
            await self._bridge(computer_id, port, reader, writer)
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            if route is not None and task is not None:
                route.connections.discard(task)
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    async def _bridge(
        self,
        computer_id: str,
        port: int,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
    ) -> None:
        name = self._name_for(computer_id)
        sandbox = self._sandbox_for(computer_id)
        if sandbox is None:
            writer.write(
                _http_error(
                    "503 Service Unavailable",
                    f"The {name} is not running. Start it to reach port {port}.",
                )
            )
            await writer.drain()
            return
        key = id(sandbox)
        self._in_use[key] = self._in_use.get(key, 0) + 1  # before any await: no race
        try:
            try:
                inner = await sandbox.connect(port)
            except (OSError, SandboxError) as exc:  # SandboxError: its agent failed
                refused = isinstance(exc, ConnectionRefusedError) or (
                    isinstance(exc, OSError) and exc.errno == errno.ECONNREFUSED
                )
                reason = "Nothing is listening on" if refused else f"Could not reach ({exc}) "
                message = f"{reason} port {port} inside the {name}."
                writer.write(_http_error("502 Bad Gateway", message))
                await writer.drain()
                return
            await _splice(reader, writer, inner)
        finally:
            left = self._in_use.pop(key) - 1
            if left:
                self._in_use[key] = left


async def _splice(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, inner_sock: socket.socket
) -> None:
    inner_sock.setblocking(False)
    inner_reader, inner_writer = await asyncio.open_connection(sock=inner_sock)

    async def pump(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
        try:
            while data := await src.read(_CHUNK):
                dst.write(data)
                await dst.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            with contextlib.suppress(OSError):
                if dst.can_write_eof():
                    dst.write_eof()

    try:
        await asyncio.gather(pump(reader, inner_writer), pump(inner_reader, writer))
    finally:
        inner_writer.close()
        with contextlib.suppress(Exception):
            await inner_writer.wait_closed()
