"""Socket I/O of the egress proxy on raw non-blocking sockets (no asyncio transports, whose
read-ahead would keep the bytes a tunnel must move itself).

Tunnels move bytes with splice(2) through a pipe, socket to socket inside the kernel: the
proxy costs a few system calls per 1 MiB, not a copy through Python.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
import socket
from collections.abc import Callable

CHUNK = 1 << 20
SPLICE_FLAGS = getattr(os, "SPLICE_F_MOVE", 1) | getattr(os, "SPLICE_F_NONBLOCK", 2)
F_SETPIPE_SZ = 1031

Counter = Callable[[int], None]


class Channel:
    """A connected non-blocking socket with a read buffer (for parsers that over-read)."""

    def __init__(self, sock: socket.socket) -> None:
        sock.setblocking(False)
        self.sock = sock
        self.buffer = bytearray()

    async def recv(self, size: int = CHUNK) -> bytes:
        """What is buffered, else the next bytes from the socket (b"" at EOF)."""
        if self.buffer:
            data = bytes(self.buffer[:size])
            del self.buffer[:size]
            return data
        return await asyncio.get_running_loop().sock_recv(self.sock, size)

    async def exactly(self, size: int) -> bytes:
        while len(self.buffer) < size:
            data = await asyncio.get_running_loop().sock_recv(self.sock, CHUNK)
            if not data:
                raise EOFError("the connection closed early")
            self.buffer += data
        return await self.recv(size)

    async def send(self, *pieces: bytes) -> None:
        loop = asyncio.get_running_loop()
        for piece in pieces:
            if piece:
                await loop.sock_sendall(self.sock, piece)

    def close(self) -> None:
        self.sock.close()


async def dial(address: str, port: int) -> Channel:
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setblocking(False)
    try:
        await asyncio.get_running_loop().sock_connect(sock, (address, port))
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    except BaseException:
        sock.close()
        raise
    return Channel(sock)


async def relay(a: Channel, b: Channel, a_to_b: Counter, b_to_a: Counter) -> None:
    """Both directions until both ended; a half-close is passed on as one."""
    for early, sink, count in ((a, b, a_to_b), (b, a, b_to_a)):
        if early.buffer:
            data = bytes(early.buffer)
            early.buffer.clear()
            count(len(data))
            await sink.send(data)
    await asyncio.gather(
        _one_way(a.sock, b.sock, a_to_b),
        _one_way(b.sock, a.sock, b_to_a),
    )


async def _one_way(source: socket.socket, sink: socket.socket, count: Counter) -> None:
    try:
        await splice(source, sink, count)
        with contextlib.suppress(OSError):
            sink.shutdown(socket.SHUT_WR)
    except OSError:
        # One side broke: stop both directions.
        for sock in (source, sink):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)


async def splice(
    source: socket.socket, sink: socket.socket, count: Counter, limit: int | None = None
) -> int:
    """Move bytes from ``source`` to ``sink`` until EOF (or ``limit`` bytes); how many."""
    read_end, write_end = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
    with contextlib.suppress(OSError):
        fcntl.fcntl(write_end, F_SETPIPE_SZ, CHUNK)
    total = 0
    try:
        while limit is None or total < limit:
            want = CHUNK if limit is None else min(CHUNK, limit - total)
            try:
                moved = os.splice(source.fileno(), write_end, want, flags=SPLICE_FLAGS)
            except BlockingIOError:
                await _ready(source, write=False)
                continue
            if moved == 0:
                break
            count(moved)
            total += moved
            while moved:
                try:
                    moved -= os.splice(read_end, sink.fileno(), moved, flags=SPLICE_FLAGS)
                except BlockingIOError:
                    await _ready(sink, write=True)
    finally:
        os.close(read_end)
        os.close(write_end)
    return total


async def _ready(sock: socket.socket, *, write: bool) -> None:
    loop = asyncio.get_running_loop()
    ready: asyncio.Future[None] = loop.create_future()

    def wake() -> None:
        if not ready.done():
            ready.set_result(None)

    fd = sock.fileno()
    if write:
        loop.add_writer(fd, wake)
    else:
        loop.add_reader(fd, wake)
    try:
        await ready
    finally:
        if write:
            loop.remove_writer(fd)
        else:
            loop.remove_reader(fd)
