"""One computer's egress proxy: HTTP (absolute-URI requests and CONNECT) and SOCKS5 on the
same listening socket, which lives in the computer's network namespace (the agent bound it
and handed it over); connections are accepted here and dialled from the host.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import h11

from . import socks
from .policy import EgressPolicy, EgressRefused, IPAddress

log = logging.getLogger("celesto_api.local.egress")

CHUNK = 1 << 18
DIAL_TIMEOUT = 10.0
# A client that does not finish its request head in this time is dropped (and idle
# keep-alive connections after it): slow clients must not pin file descriptors forever.
HEAD_TIMEOUT = 60.0
MAX_HEAD = 64 * 1024
LAST_REFUSALS = 5
# Hop-by-hop headers (RFC 9110 7.6.1) and the proxy's own: never forwarded.
HOP_BY_HOP = frozenset(
    {
        b"connection",
        b"keep-alive",
        b"proxy-connection",
        b"proxy-authenticate",
        b"proxy-authorization",
        b"te",
        b"trailer",
        b"upgrade",
        b"expect",
    }
)

Stream = tuple[asyncio.StreamReader, asyncio.StreamWriter]


@dataclass
class EgressStats:
    allowed: int = 0
    refused: int = 0
    bytes_in: int = 0
    bytes_out: int = 0
    open: int = 0
    last_refusals: deque[dict[str, str]] = field(
        default_factory=lambda: deque(maxlen=LAST_REFUSALS)
    )

    def to_dict(self) -> dict[str, Any]:
        return {
            "connections_allowed": self.allowed,
            "connections_refused": self.refused,
            "connections_open": self.open,
            "bytes_in": self.bytes_in,
            "bytes_out": self.bytes_out,
            "last_refusals": list(self.last_refusals),
        }


class Refusal(Exception):
    """A connection that will not be made; ``status`` for HTTP, ``code`` for SOCKS."""

    def __init__(self, reason: str, status: int, code: int) -> None:
        super().__init__(reason)
        self.status = status
        self.code = code


class EgressProxy:
    def __init__(self, listener: socket.socket, policy: EgressPolicy, log_path: Path) -> None:
        self.listener = listener
        self.policy = policy
        self.log_path = log_path
        self.stats = EgressStats()
        self._server: asyncio.Server | None = None
        self._clients: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._accepted, sock=self.listener, limit=CHUNK)

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
        for task in list(self._clients):
            task.cancel()
        if self._clients:
            await asyncio.gather(*self._clients, return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()

    # connections -------------------------------------------------------------------------

    async def _accepted(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._clients.add(task)
        self.stats.open += 1
        try:
            async with asyncio.timeout(HEAD_TIMEOUT):
                first = await reader.read(1)
            if first == bytes([socks.VERSION]):
                await self._serve_socks(reader, writer)
            elif first:
                await self._serve_http(reader, writer, first)
        except (OSError, EOFError, TimeoutError, asyncio.IncompleteReadError):
            pass
        except Exception:
            log.exception("egress proxy connection failed")
        finally:
            self.stats.open -= 1
            self._clients.discard(task)
            writer.close()

    async def _dial(self, kind: str, host: str, port: int) -> Stream:
        """Check ``host:port`` against the policy and connect to the address that passed."""
        try:
            address = await self.policy.resolve(host, port)
        except EgressRefused as exc:
            self._refused(kind, host, port, str(exc))
            raise Refusal(str(exc), 403, socks.NOT_ALLOWED) from None
        try:
            async with asyncio.timeout(DIAL_TIMEOUT):
                upstream = await _open(address, port)
        except TimeoutError:
            raise Refusal(f"{host}:{port} did not answer", 504, socks.HOST_UNREACHABLE) from None
        except ConnectionRefusedError:
            raise Refusal(f"{host}:{port} refused", 502, socks.CONNECTION_REFUSED) from None
        except OSError as exc:
            reason = f"{host}:{port}: {exc.strerror or exc}"
            raise Refusal(reason, 502, socks.NETWORK_UNREACHABLE) from None
        self.stats.allowed += 1
        return upstream

    def _refused(self, kind: str, host: str, port: int, reason: str) -> None:
        self.stats.refused += 1
        stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        self.stats.last_refusals.append(
            {"at": stamp, "kind": kind, "destination": f"{host}:{port}", "reason": reason}
        )
        with contextlib.suppress(OSError), self.log_path.open("a") as sink:
            sink.write(f"{stamp} refused {kind} {host}:{port}: {reason}\n")

    # SOCKS5 ------------------------------------------------------------------------------

    async def _serve_socks(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        try:
            async with asyncio.timeout(HEAD_TIMEOUT):
                host, port = await socks.read_request(reader, writer)
        except socks.SocksError as exc:
            if exc.code is not None:
                writer.write(socks.reply(exc.code))
            await writer.drain()
            return
        try:
            up_reader, up_writer = await self._dial("socks5", host, port)
        except Refusal as exc:
            writer.write(socks.reply(exc.code))
            await writer.drain()
            return
        writer.write(socks.reply(socks.SUCCEEDED))
        await self._relay(reader, writer, up_reader, up_writer)

    # HTTP --------------------------------------------------------------------------------

    async def _serve_http(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, first: bytes
    ) -> None:
        conn = h11.Connection(h11.SERVER, max_incomplete_event_size=MAX_HEAD)
        conn.receive_data(first)
        while True:
            try:
                async with asyncio.timeout(HEAD_TIMEOUT):
                    event = await _next_event(conn, reader)
            except h11.RemoteProtocolError as exc:
                await _send_error(conn, writer, exc.error_status_hint, str(exc))
                return
            if not isinstance(event, h11.Request):
                return
            if event.method == b"CONNECT":
                await self._tunnel(conn, event, reader, writer)
                return
            if not await self._forward(conn, event, reader, writer):
                return
            if conn.our_state is not h11.DONE or conn.their_state is not h11.DONE:
                return
            conn.start_next_cycle()

    async def _tunnel(
        self,
        conn: h11.Connection,
        request: h11.Request,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
    ) -> None:
        target = request.target.decode("ascii", "replace")
        host, _, port_text = target.rpartition(":")
        if not host or not port_text.isdigit():
            await _send_error(conn, writer, 400, f"CONNECT needs host:port, not {target!r}")
            return
        while not isinstance(await _next_event(conn, reader), h11.EndOfMessage):
            pass
        try:
            up_reader, up_writer = await self._dial("connect", host, int(port_text))
        except Refusal as exc:
            await _send_error(conn, writer, exc.status, str(exc))
            return
        writer.write(conn.send(h11.Response(status_code=200, headers=[], reason=b"Connected")))
        early, _closed = conn.trailing_data
        if early:
            up_writer.write(early)
            self.stats.bytes_out += len(early)
        await self._relay(reader, writer, up_reader, up_writer)

    async def _forward(
        self,
        conn: h11.Connection,
        request: h11.Request,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
    ) -> bool:
        """One absolute-URI request; False when the client connection must close."""
        url = urlsplit(request.target.decode("ascii", "replace"))
        if url.scheme != "http" or not url.hostname:
            await _send_error(
                conn, writer, 400, "a proxy request needs an absolute http:// URL "
                "(https goes through CONNECT)"
            )  # fmt: skip
            return False
        try:
            port = url.port or 80
        except ValueError:
            await _send_error(conn, writer, 400, "bad port in URL")
            return False
        try:
            up_reader, up_writer = await self._dial("http", url.hostname, port)
        except Refusal as exc:
            await _send_error(conn, writer, exc.status, str(exc))
            return False
        try:
            return await self._exchange(conn, request, url, reader, writer, up_reader, up_writer)
        finally:
            up_writer.close()

    async def _exchange(
        self,
        conn: h11.Connection,
        request: h11.Request,
        url: Any,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        up_reader: asyncio.StreamReader,
        up_writer: asyncio.StreamWriter,
    ) -> bool:
        upstream = h11.Connection(h11.CLIENT)
        headers = [(k, v) for k, v in request.headers if k.lower() not in HOP_BY_HOP]
        if not any(k.lower() == b"host" for k, _ in headers):
            headers.insert(0, (b"host", url.netloc.encode()))
        headers.append((b"connection", b"close"))
        path = (url.path or "/") + (f"?{url.query}" if url.query else "")
        up_writer.write(
            upstream.send(h11.Request(method=request.method, target=path, headers=headers))
        )
        if conn.they_are_waiting_for_100_continue:
            writer.write(conn.send(h11.InformationalResponse(status_code=100, headers=[])))
        while True:
            event = await _next_event(conn, reader)
            if isinstance(event, h11.Data):
                self.stats.bytes_out += len(event.data)
                up_writer.write(upstream.send(event))
                await up_writer.drain()
            elif isinstance(event, h11.EndOfMessage):
                up_writer.write(upstream.send(h11.EndOfMessage()))
                break
            else:
                return False
        while True:
            try:
                event = await _next_event(upstream, up_reader)
            except h11.RemoteProtocolError as exc:
                if conn.our_state is h11.SEND_RESPONSE:
                    await _send_error(conn, writer, 502, f"bad response from upstream: {exc}")
                return False
            if isinstance(event, h11.InformationalResponse):
                continue
            if isinstance(event, h11.Response):
                kept = [(k, v) for k, v in event.headers if k.lower() not in HOP_BY_HOP]
                writer.write(
                    conn.send(
                        h11.Response(
                            status_code=event.status_code, headers=kept, reason=event.reason
                        )
                    )
                )
            elif isinstance(event, h11.Data):
                self.stats.bytes_in += len(event.data)
                writer.write(conn.send(event))
                await writer.drain()
            elif isinstance(event, h11.EndOfMessage):
                writer.write(conn.send(h11.EndOfMessage()))
                await writer.drain()
                return True
            else:  # upstream closed mid-response: the client must see a broken message
                if conn.our_state is h11.SEND_RESPONSE:
                    await _send_error(conn, writer, 502, "upstream closed without a response")
                return False

    # relay -------------------------------------------------------------------------------

    async def _relay(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        up_reader: asyncio.StreamReader,
        up_writer: asyncio.StreamWriter,
    ) -> None:
        try:
            await asyncio.gather(
                self._pipe(reader, up_writer, outbound=True),
                self._pipe(up_reader, writer, outbound=False),
            )
        finally:
            up_writer.close()

    async def _pipe(
        self, source: asyncio.StreamReader, sink: asyncio.StreamWriter, *, outbound: bool
    ) -> None:
        try:
            while data := await source.read(CHUNK):
                if outbound:
                    self.stats.bytes_out += len(data)
                else:
                    self.stats.bytes_in += len(data)
                sink.write(data)
                await sink.drain()
            if sink.can_write_eof():
                sink.write_eof()
        except OSError:
            # One side broke: close both so the other direction ends too.
            sink.close()


async def _open(address: IPAddress, port: int) -> Stream:
    return await asyncio.open_connection(str(address), port, limit=CHUNK)


async def _next_event(conn: h11.Connection, reader: asyncio.StreamReader) -> Any:
    while True:
        event = conn.next_event()
        if event is not h11.NEED_DATA:
            return event
        conn.receive_data(await reader.read(CHUNK))


async def _send_error(
    conn: h11.Connection, writer: asyncio.StreamWriter, status: int, reason: str
) -> None:
    if conn.our_state not in (h11.IDLE, h11.SEND_RESPONSE):
        return
    body = f"celesto egress proxy: {reason}\n".encode()
    headers = [
        (b"content-type", b"text/plain; charset=utf-8"),
        (b"content-length", str(len(body)).encode()),
        (b"connection", b"close"),
    ]
    with contextlib.suppress(h11.LocalProtocolError):
        writer.write(conn.send(h11.Response(status_code=status, headers=headers)))
        writer.write(conn.send(h11.Data(data=body)))
        writer.write(conn.send(h11.EndOfMessage()))
    with contextlib.suppress(OSError):
        await writer.drain()
