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
from .policy import EgressPolicy, EgressRefused
from .relay import Channel, dial, relay, splice

log = logging.getLogger("celesto_api.local.egress")

CHUNK = 1 << 18
ACCEPT_RETRY_S = 0.1
# Per computer; each costs the server two file descriptors.
MAX_CONNECTIONS = 1024
DIAL_TIMEOUT = 10.0
# A client that does not finish its request head in this time is dropped (and idle
# keep-alive connections after it): slow clients must not pin file descriptors forever.
HEAD_TIMEOUT = 60.0
MAX_HEAD = 64 * 1024
LAST_REFUSALS = 5
MAX_LOG_BYTES = 1 << 20
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
        listener.setblocking(False)
        self.listener = listener
        self.policy = policy
        self.log_path = log_path
        self.stats = EgressStats()
        self._acceptor: asyncio.Task[None] | None = None
        self._clients: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        self._acceptor = asyncio.ensure_future(self._accept_forever())

    async def close(self) -> None:
        tasks = [task for task in (self._acceptor, *self._clients) if task is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self.listener.close()

    # connections -------------------------------------------------------------------------

    async def _accept_forever(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            try:
                sock, _address = await loop.sock_accept(self.listener)
            except OSError as exc:
                # EMFILE and friends: back off rather than spin on a readable listener.
                log.warning("egress proxy cannot accept: %s", exc)
                await asyncio.sleep(ACCEPT_RETRY_S)
                continue
            if len(self._clients) >= MAX_CONNECTIONS:
                # One computer must not use up the server's file descriptors.
                sock.close()
                reason = f"more than {MAX_CONNECTIONS} connections open at once"
                self._refused("accept", "(any)", reason)
                continue
            # Relayed writes go out as they come: with Nagle a reply written in two pieces
            # (a TLS handshake) waits for the computer's delayed ACK, 40 ms, now and then.
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            task = asyncio.ensure_future(self._serve(Channel(sock)))
            self._clients.add(task)
            task.add_done_callback(self._clients.discard)

    async def _serve(self, client: Channel) -> None:
        self.stats.open += 1
        try:
            async with asyncio.timeout(HEAD_TIMEOUT):
                first = await client.recv(CHUNK)
            if first[:1] == bytes([socks.VERSION]):
                client.buffer[:0] = first[1:]
                await self._serve_socks(client)
            elif first:
                await self._serve_http(client, first)
        except (OSError, EOFError, TimeoutError):
            pass
        except Exception:
            log.exception("egress proxy connection failed")
        finally:
            self.stats.open -= 1
            client.close()

    async def _dial(self, kind: str, host: str, port: int) -> Channel:
        """Check ``host:port`` against the policy and connect to the address that passed."""
        try:
            async with asyncio.timeout(DIAL_TIMEOUT):
                address = await self.policy.resolve(host, port)
        except EgressRefused as exc:
            self._refused(kind, f"{host}:{port}", str(exc))
            raise Refusal(str(exc), 403, socks.NOT_ALLOWED) from None
        except TimeoutError:
            raise Refusal(f"looking up {host} took too long", 504, socks.HOST_UNREACHABLE) from None
        try:
            async with asyncio.timeout(DIAL_TIMEOUT):
                upstream = await dial(str(address), port)
        except TimeoutError:
            raise Refusal(f"{host}:{port} did not answer", 504, socks.HOST_UNREACHABLE) from None
        except ConnectionRefusedError:
            raise Refusal(f"{host}:{port} refused", 502, socks.CONNECTION_REFUSED) from None
        except OSError as exc:
            reason = f"{host}:{port}: {exc.strerror or exc}"
            raise Refusal(reason, 502, socks.NETWORK_UNREACHABLE) from None
        self.stats.allowed += 1
        return upstream

    def _count_out(self, size: int) -> None:
        self.stats.bytes_out += size

    def _count_in(self, size: int) -> None:
        self.stats.bytes_in += size

    async def _body_by_splice(
        self,
        conn: h11.Connection,
        response: h11.Response,
        headers: list[tuple[bytes, bytes]],
        length: int,
        origin: h11.Connection,
        client: Channel,
        upstream: Channel,
    ) -> None:
        """A Content-Length body moved in the kernel instead of through h11; the client
        connection closes afterwards (h11 did not see the body, so it cannot go on)."""
        headers = [*headers, (b"connection", b"close")]
        head = h11.Response(
            status_code=response.status_code, headers=headers, reason=response.reason
        )
        await client.send(conn.send(head))
        early = origin.trailing_data[0][:length]
        self.stats.bytes_in += len(early)
        await client.send(early)
        await splice(upstream.sock, client.sock, self._count_in, length - len(early))

    async def _tunnel_to(self, client: Channel, upstream: Channel) -> None:
        try:
            await relay(client, upstream, self._count_out, self._count_in)
        finally:
            upstream.close()

    def _refused(self, kind: str, destination: str, reason: str) -> None:
        self.stats.refused += 1
        stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        self.stats.last_refusals.append(
            {"at": stamp, "kind": kind, "destination": destination, "reason": reason}
        )
        with contextlib.suppress(OSError):
            # A computer that keeps knocking must not fill the disk: keep two files at most.
            if self.log_path.exists() and self.log_path.stat().st_size > MAX_LOG_BYTES:
                self.log_path.replace(self.log_path.with_name(self.log_path.name + ".1"))
            with self.log_path.open("a") as sink:
                sink.write(f"{stamp} refused {kind} {destination}: {reason}\n")

    # SOCKS5 ------------------------------------------------------------------------------

    async def _serve_socks(self, client: Channel) -> None:
        try:
            async with asyncio.timeout(HEAD_TIMEOUT):
                host, port = await socks.read_request(client)
        except socks.SocksError as exc:
            if exc.code is not None:
                await client.send(socks.reply(exc.code))
            return
        try:
            upstream = await self._dial("socks5", host, port)
        except Refusal as exc:
            await client.send(socks.reply(exc.code))
            return
        await client.send(socks.reply(socks.SUCCEEDED))
        await self._tunnel_to(client, upstream)

    # HTTP --------------------------------------------------------------------------------

    async def _serve_http(self, client: Channel, first: bytes) -> None:
        conn = h11.Connection(h11.SERVER, max_incomplete_event_size=MAX_HEAD)
        conn.receive_data(first)
        while True:
            try:
                async with asyncio.timeout(HEAD_TIMEOUT):
                    event = await _next_event(conn, client)
            except h11.RemoteProtocolError as exc:
                await _send_error(conn, client, exc.error_status_hint, str(exc))
                return
            if not isinstance(event, h11.Request):
                return
            if event.method == b"CONNECT":
                await self._tunnel(conn, event, client)
                return
            if not await self._forward(conn, event, client):
                return
            if conn.our_state is not h11.DONE or conn.their_state is not h11.DONE:
                return
            conn.start_next_cycle()

    async def _tunnel(self, conn: h11.Connection, request: h11.Request, client: Channel) -> None:
        target = request.target.decode("ascii", "replace")
        host, _, port_text = target.rpartition(":")
        if not host or not port_text.isdigit():
            await _send_error(conn, client, 400, f"CONNECT needs host:port, not {target!r}")
            return
        while not isinstance(await _next_event(conn, client), h11.EndOfMessage):
            pass
        try:
            upstream = await self._dial("connect", host.strip("[]"), int(port_text))
        except Refusal as exc:
            await _send_error(conn, client, exc.status, str(exc))
            return
        await client.send(conn.send(h11.Response(status_code=200, headers=[], reason=b"Connected")))
        early, _closed = conn.trailing_data
        client.buffer[:0] = early
        await self._tunnel_to(client, upstream)

    async def _forward(self, conn: h11.Connection, request: h11.Request, client: Channel) -> bool:
        """One absolute-URI request; False when the client connection must close."""
        url = urlsplit(request.target.decode("ascii", "replace"))
        if url.scheme != "http" or not url.hostname:
            await _send_error(
                conn, client, 400, "a proxy request needs an absolute http:// URL "
                "(https goes through CONNECT)"
            )  # fmt: skip
            return False
        try:
            port = url.port or 80
        except ValueError:
            await _send_error(conn, client, 400, "bad port in URL")
            return False
        try:
            upstream = await self._dial("http", url.hostname, port)
        except Refusal as exc:
            await _send_error(conn, client, exc.status, str(exc))
            return False
        try:
            return await self._exchange(conn, request, url, client, upstream)
        finally:
            upstream.close()

    async def _exchange(
        self,
        conn: h11.Connection,
        request: h11.Request,
        url: Any,
        client: Channel,
        upstream: Channel,
    ) -> bool:
        origin = h11.Connection(h11.CLIENT)
        headers = [(k, v) for k, v in request.headers if k.lower() not in HOP_BY_HOP]
        if not any(k.lower() == b"host" for k, _ in headers):
            # netloc without any user:password@ part (clients send that as Authorization).
            headers.insert(0, (b"host", url.netloc.rpartition("@")[2].encode()))
        headers.append((b"connection", b"close"))
        path = (url.path or "/") + (f"?{url.query}" if url.query else "")
        await upstream.send(
            origin.send(h11.Request(method=request.method, target=path, headers=headers))
        )
        if conn.they_are_waiting_for_100_continue:
            await client.send(conn.send(h11.InformationalResponse(status_code=100, headers=[])))
        while True:
            event = await _next_event(conn, client)
            if isinstance(event, h11.Data):
                self.stats.bytes_out += len(event.data)
                await upstream.send(*(origin.send_with_data_passthrough(event) or []))
            elif isinstance(event, h11.EndOfMessage):
                await upstream.send(origin.send(h11.EndOfMessage()))
                break
            else:
                return False
        while True:
            try:
                event = await _next_event(origin, upstream)
            except h11.RemoteProtocolError as exc:
                await _send_error(conn, client, 502, f"bad response from upstream: {exc}")
                return False
            if isinstance(event, h11.InformationalResponse):
                continue
            if isinstance(event, h11.Response):
                kept = [(k, v) for k, v in event.headers if k.lower() not in HOP_BY_HOP]
                length = _content_length(request, event)
                if length is not None:
                    await self._body_by_splice(conn, event, kept, length, origin, client, upstream)
                    return False
                head = h11.Response(
                    status_code=event.status_code, headers=kept, reason=event.reason
                )
                await client.send(conn.send(head))
            elif isinstance(event, h11.Data):
                self.stats.bytes_in += len(event.data)
                await client.send(*(conn.send_with_data_passthrough(event) or []))
            elif isinstance(event, h11.EndOfMessage):
                await client.send(conn.send(h11.EndOfMessage()))
                return True
            else:  # upstream closed mid-response: the client must see a broken message
                await _send_error(conn, client, 502, "upstream closed without a response")
                return False


def _content_length(request: h11.Request, response: h11.Response) -> int | None:
    """The body size when it is framed by Content-Length alone (the fast path)."""
    if request.method == b"HEAD" or response.status_code in (204, 304):
        return None
    lengths = [v for k, v in response.headers if k == b"content-length"]
    chunked = any(k == b"transfer-encoding" for k, _ in response.headers)
    if chunked or len(lengths) != 1 or not lengths[0].isdigit():
        return None
    return int(lengths[0])


async def _next_event(conn: h11.Connection, channel: Channel) -> Any:
    while True:
        event = conn.next_event()
        if event is not h11.NEED_DATA:
            return event
        conn.receive_data(await channel.recv(CHUNK))


async def _send_error(conn: h11.Connection, client: Channel, status: int, reason: str) -> None:
    """A plain-text error response, when no response has been started yet."""
    if conn.our_state not in (h11.IDLE, h11.SEND_RESPONSE):
        return
    body = f"celesto egress proxy: {reason}\n".encode()
    headers = [
        (b"content-type", b"text/plain; charset=utf-8"),
        (b"content-length", str(len(body)).encode()),
        (b"connection", b"close"),
    ]
    with contextlib.suppress(h11.LocalProtocolError, OSError):
        await client.send(
            conn.send(h11.Response(status_code=status, headers=headers)),
            conn.send(h11.Data(data=body)),
            conn.send(h11.EndOfMessage()),
        )
