"""The egress proxy's byte mover on real loopback TCP: every byte arrives, both ways at
once; a half-close is passed on; a Content-Length body stops at its length; a slow reader
holds the pump back without loss; a reset ends the tunnel; a cancelled pump leaves no pipe
or watcher behind."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import socket
import struct
import threading
from collections.abc import Callable, Iterator
from typing import TypeVar

import pytest

from celesto_api.local.egress.relay import Channel, relay, splice

MIB = 1 << 20
T = TypeVar("T")


def connected_pair() -> tuple[socket.socket, socket.socket]:
    """(the end a test drives, blocking; the end the relay holds)."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        outer = socket.create_connection(listener.getsockname())
        inner, _ = listener.accept()
    return outer, inner


Pair = Callable[..., tuple[socket.socket, socket.socket]]


@pytest.fixture
def pair() -> Iterator[Pair]:
    """Makes connected pairs (the end a test drives; the end the relay holds, non-blocking
    with ``relay_end_blocking=False``), all closed after the test."""
    made: list[socket.socket] = []

    def make(*, relay_end_blocking: bool = True) -> tuple[socket.socket, socket.socket]:
        outer, inner = connected_pair()
        inner.setblocking(relay_end_blocking)
        made.extend((outer, inner))
        return outer, inner

    yield make
    for sock in made:
        sock.close()


def read_all(sock: socket.socket) -> bytes:
    chunks = []
    while chunk := sock.recv(MIB):
        chunks.append(chunk)
    return b"".join(chunks)


def in_thread(target: Callable[[], T]) -> tuple[threading.Thread, list[T]]:
    result: list[T] = []
    thread = threading.Thread(target=lambda: result.append(target()), daemon=True)
    thread.start()
    return thread, result


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


class Counts:
    def __init__(self) -> None:
        self.a_to_b = 0
        self.b_to_a = 0

    def count_a_to_b(self, size: int) -> None:
        self.a_to_b += size

    def count_b_to_a(self, size: int) -> None:
        self.b_to_a += size


async def test_a_tunnel_moves_every_byte_both_ways_at_once(pair: Pair) -> None:
    a_end, a = pair()
    b_end, b = pair()
    up, down = os.urandom(8 * MIB + 123), os.urandom(5 * MIB + 7)

    def talk(sock: socket.socket, payload: bytes) -> bytes:
        def send() -> None:
            sock.sendall(payload)
            sock.shutdown(socket.SHUT_WR)

        writer = threading.Thread(target=send)
        writer.start()
        received = read_all(sock)
        writer.join()
        return received

    counts = Counts()
    a_thread, from_b = in_thread(lambda: talk(a_end, up))
    b_thread, from_a = in_thread(lambda: talk(b_end, down))
    await asyncio.wait_for(
        relay(Channel(a), Channel(b), counts.count_a_to_b, counts.count_b_to_a), 60
    )
    for thread in (a_thread, b_thread):
        await asyncio.to_thread(thread.join, 60)
    assert hashlib.sha256(from_a[0]).digest() == hashlib.sha256(up).digest()
    assert hashlib.sha256(from_b[0]).digest() == hashlib.sha256(down).digest()
    assert (counts.a_to_b, counts.b_to_a) == (len(up), len(down))


async def test_bytes_read_ahead_by_a_parser_go_first(pair: Pair) -> None:
    a_end, a = pair()
    b_end, b = pair()
    client = Channel(a)
    client.buffer += b"early "
    a_end.sendall(b"late")
    a_end.shutdown(socket.SHUT_WR)
    b_end.shutdown(socket.SHUT_WR)
    counts = Counts()
    await asyncio.wait_for(relay(client, Channel(b), counts.count_a_to_b, counts.count_b_to_a), 30)
    assert read_all(b_end) == b"early late"
    assert counts.a_to_b == len(b"early late")


async def test_a_half_close_is_passed_on_and_the_answer_still_comes_back(pair: Pair) -> None:
    a_end, a = pair()
    b_end, b = pair()

    def server() -> bytes:
        request = read_all(b_end)  # ends when the client's half-close comes through
        b_end.sendall(b"answer to " + request)
        b_end.close()
        return request

    server_thread, seen = in_thread(server)
    tunnel = asyncio.ensure_future(relay(Channel(a), Channel(b), lambda _: None, lambda _: None))
    a_end.sendall(b"question")
    a_end.shutdown(socket.SHUT_WR)
    answer = await asyncio.to_thread(read_all, a_end)
    await asyncio.wait_for(tunnel, 30)
    await asyncio.to_thread(server_thread.join, 30)
    assert seen == [b"question"]
    assert answer == b"answer to question"


async def test_a_limited_splice_stops_at_the_limit_and_leaves_the_rest(pair: Pair) -> None:
    source_end, source = pair(relay_end_blocking=False)
    sink_end, sink = pair(relay_end_blocking=False)
    body = os.urandom(3 * MIB + 5)
    writer, _ = in_thread(lambda: source_end.sendall(body + b"next request"))
    # The source stays open: the pump must stop at the length, not wait for an EOF.
    moved = await asyncio.wait_for(splice(source, sink, lambda _: None, len(body)), 30)
    await asyncio.to_thread(writer.join, 30)
    sink.shutdown(socket.SHUT_WR)
    assert moved == len(body)
    assert await asyncio.to_thread(read_all, sink_end) == body
    assert source.recv(100) == b"next request"
    assert await splice(source, sink_end, lambda _: None, 0) == 0


async def test_a_slow_reader_holds_the_pump_back_without_loss(pair: Pair) -> None:
    source_end, source = pair(relay_end_blocking=False)
    sink_end, sink = pair(relay_end_blocking=False)
    body = os.urandom(48 * MIB)
    sent = threading.Event()

    def send() -> None:
        source_end.sendall(body)
        source_end.close()
        sent.set()

    writer, _ = in_thread(send)
    pump = asyncio.ensure_future(splice(source, sink, lambda _: None))
    # More than both sockets' buffers and the pipe hold: nothing is read at the far end
    # yet, so the sender is held back, and the pump with it.
    assert not await asyncio.to_thread(sent.wait, 1.0)
    assert not pump.done()
    received = await asyncio.to_thread(read_all_after_shutdown, sink_end, pump)
    await asyncio.to_thread(writer.join, 30)
    assert await pump == len(body)
    assert hashlib.sha256(received).digest() == hashlib.sha256(body).digest()


def read_all_after_shutdown(sock: socket.socket, pump: asyncio.Future[int]) -> bytes:
    """Read until the pump has moved everything, then what is left (the pump does not
    close its sink, so the end is known by its count, not an EOF)."""
    chunks = []
    sock.settimeout(0.2)
    while True:
        try:
            chunk = sock.recv(MIB)
        except TimeoutError:
            if pump.done():
                break
            continue
        chunks.append(chunk)
    return b"".join(chunks)


async def test_a_reset_on_one_side_ends_both_directions(pair: Pair) -> None:
    a_end, a = pair()
    b_end, b = pair()
    tunnel = asyncio.ensure_future(relay(Channel(a), Channel(b), lambda _: None, lambda _: None))
    a_end.sendall(b"hello")
    assert await asyncio.to_thread(b_end.recv, 5) == b"hello"
    b_end.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    b_end.close()  # RST
    await asyncio.wait_for(tunnel, 30)
    a_end.settimeout(10)
    with contextlib.suppress(ConnectionResetError):  # a reset passed on is an end too
        assert a_end.recv(10) == b""


async def test_a_cancelled_pump_leaves_no_pipe_and_no_watcher(pair: Pair) -> None:
    loop = asyncio.get_running_loop()
    _, source = pair(relay_end_blocking=False)
    _, sink = pair(relay_end_blocking=False)
    before = open_fds()
    pump = asyncio.ensure_future(splice(source, sink, lambda _: None))
    await asyncio.sleep(0)
    assert open_fds() == before + 2  # its pipe
    pump.cancel()
    await asyncio.gather(pump, return_exceptions=True)
    assert open_fds() == before
    assert not loop.remove_reader(source.fileno())
    assert not loop.remove_writer(sink.fileno())
