"""Interactive terminal sessions over WebSocket (contract §4).

Two ways in:

* the durable **gateway** flow: ``POST …/terminals`` gives ``gateway_url`` + ``token``; the
  token goes in the ``token`` query parameter, nothing else is sent. Detaching keeps the
  shell; attach again with the same ``terminal_id``.
* the **legacy** direct socket (the seed's ``get_terminal_connection``): ``Authorization``
  handshake header, then ``{"token": key}`` as the first message.

Keystrokes go out as binary frames, resizes as JSON text frames; output arrives as bytes
(text frames are UTF-8 encoded). :class:`TerminalSession` is the asyncio client,
:class:`SyncTerminalSession` the blocking one; both are written once (`_Session`: what is
sent, how a close is reported) and each only does its socket's I/O. Tokens and keys never
appear in a repr or an exception: URLs are shown with ``token=***``.
"""

from __future__ import annotations

import functools
import inspect
import json
import logging
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Coroutine, Iterator, Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar
from urllib.parse import SplitResult, parse_qsl, quote, urlencode, urlsplit, urlunsplit

from . import limits
from . import validation as check
from ._bootstrap import httpx
from ._redact import RedactingFilter
from ._transport import error_from_response
from .exceptions import (
    CelestoError,
    CelestoNetworkError,
    CelestoValidationError,
    redact_url,
    scrub_secrets,
)
from .types import TerminalConnection

if TYPE_CHECKING:
    from websockets.asyncio.client import ClientConnection as AsyncConnection
    from websockets.sync.client import ClientConnection as BlockingConnection

__all__ = [
    "SyncTerminalSession",
    "TerminalSession",
    "gateway_socket_url",
    "legacy_socket_url",
]

# websockets logs handshake headers and frames at DEBUG level; they carry the gateway token
# or, on the legacy socket, the API key. Everything goes through this scrubbed logger.
socket_logger = logging.getLogger("celesto_api.websocket")
socket_logger.addFilter(RedactingFilter())

OPEN_TIMEOUT = 10.0
CLOSE_TIMEOUT = 5.0
_WS_SCHEMES = {"https": "wss", "http": "ws", "wss": "wss", "ws": "ws"}


# --- pure helpers shared by both sessions --------------------------------------------------


def _to_ws_scheme(url: str, field: str) -> tuple[str, SplitResult]:
    parts = urlsplit(url)
    scheme = _WS_SCHEMES.get(parts.scheme)
    if scheme is None or not parts.hostname:
        raise CelestoValidationError(
            f"{field} must be a ws(s) or http(s) URL (got {redact_url(url)!r})", field=field
        )
    return scheme, parts


def gateway_socket_url(gateway_url: str, token: str) -> str:
    """``gateway_url`` with ``token=<token>`` replacing any token it already carries."""
    if not token:
        raise CelestoValidationError("the terminal token is empty", field="token")
    scheme, parts = _to_ws_scheme(gateway_url, "gateway_url")
    query = [
        (key, value)
        for key, value in parse_qsl(parts.query, keep_blank_values=True)
        if key != "token"
    ]
    query.append(("token", token))
    return urlunsplit((scheme, parts.netloc, parts.path, urlencode(query), ""))


def legacy_socket_url(base_url: str, computer_id: str) -> str:
    """The direct socket ``/v1/computers/{id}/terminal`` (ids only, names are not resolved)."""
    scheme, parts = _to_ws_scheme(base_url, "base_url")
    path = f"{parts.path.rstrip('/')}/v1/computers/{quote(computer_id, safe='')}/terminal"
    return urlunsplit((scheme, parts.netloc, path, "", ""))


def resize_frame(cols: int, rows: int) -> str:
    cols, rows = check.terminal_size(cols, rows)
    return json.dumps({"type": "resize", "cols": cols, "rows": rows})


def input_frame(data: bytes | bytearray | memoryview | str) -> bytes:
    if isinstance(data, str):
        return data.encode("utf-8")
    if isinstance(data, bytes | bytearray | memoryview):
        return bytes(data)
    raise CelestoValidationError(
        f"terminal input must be bytes or str (got {type(data).__name__})", field="data"
    )


def output_bytes(message: str | bytes) -> bytes:
    return message.encode("utf-8") if isinstance(message, str) else bytes(message)


def _handshake_error(exc: Exception, url: str, secrets: tuple[str | None, ...]) -> CelestoError:
    from websockets.exceptions import InvalidStatus

    shown = redact_url(url)
    if isinstance(exc, InvalidStatus):
        reply = exc.response
        response = httpx.Response(
            reply.status_code,
            headers=list(reply.headers.raw_items()),
            content=bytes(reply.body or b""),
        )
        return error_from_response(
            response, secrets, context=f"Could not attach to the terminal at {shown}: "
        )
    detail = scrub_secrets(str(exc), secrets) if str(exc) else ""
    return CelestoNetworkError(
        f"Could not connect to the terminal at {shown}: {type(exc).__name__}"
        + (f": {detail}" if detail else "")
    )


def _closed_error(
    code: int | None, reason: str | None, secrets: tuple[str | None, ...] = ()
) -> CelestoNetworkError:
    shown = scrub_secrets(reason or "", secrets)
    return CelestoNetworkError(
        f"The terminal connection ended unexpectedly (code={code}, reason={shown!r})"
    )


class _CloseInfo(Protocol):
    @property
    def close_code(self) -> int | None: ...

    @property
    def close_reason(self) -> str | None: ...


def _connect_options(headers: Mapping[str, str] | None, open_timeout: float) -> dict[str, Any]:
    return {
        "additional_headers": dict(headers) if headers else None,
        "max_size": limits.TERMINAL_MAX_MESSAGE_BYTES,
        "compression": None,
        "open_timeout": open_timeout,
        "close_timeout": CLOSE_TIMEOUT,
        "logger": socket_logger,
    }


@functools.cache
def _blocking_connect_extras() -> dict[str, Any]:
    """websockets 17 deprecates using the blocking ``connect()`` result without ``with``
    unless ``legacy=True`` is passed; older versions do not know that argument."""
    from websockets.sync.client import connect

    return {"legacy": True} if "legacy" in inspect.signature(connect).parameters else {}


def _secrets_of(token: str | None, headers: Mapping[str, str] | None) -> tuple[str | None, ...]:
    found: list[str | None] = [token]
    for name, value in (headers or {}).items():
        if name.lower() == "authorization":
            found.append(value.removeprefix("Bearer ").strip())
    return tuple(found)


@dataclass(frozen=True)
class _Dial:
    """Everything needed to open a session, checked before any socket is opened."""

    url: str
    options: dict[str, Any]
    opening_frames: tuple[str, ...]
    terminal_id: str | None
    secrets: tuple[str | None, ...]

    def handshake_error(self, exc: Exception) -> CelestoError:
        return _handshake_error(exc, self.url, self.secrets)


# The session as seen by its user, written once. Opened / Done are what `connect…` and the
# sending calls return: the session and None for the blocking driver, coroutines of them for
# the asyncio one. A driver supplies only the I/O: `_open`, `_transmit`, `_close`, `recv`.
Opened = TypeVar("Opened")
Done = TypeVar("Done")


class _Session(ABC, Generic[Opened, Done]):
    _connection: _CloseInfo

    def __init__(
        self,
        connection: _CloseInfo,
        *,
        url: str,
        terminal_id: str | None,
        secrets: tuple[str | None, ...],
    ) -> None:
        self._connection = connection
        self._url = url
        self._terminal_id = terminal_id
        self._secrets = secrets

    @classmethod
    def connect(
        cls,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        first_message: str | None = None,
        terminal_id: str | None = None,
        cols: int = limits.TERMINAL_DEFAULT_COLS,
        rows: int = limits.TERMINAL_DEFAULT_ROWS,
        open_timeout: float = OPEN_TIMEOUT,
        _token: str | None = None,
    ) -> Opened:
        """Open the socket at ``url``, send ``first_message`` (if any) and the first resize.

        A refused handshake raises the contract's error for its status (e.g.
        :class:`CelestoAuthenticationError`); an unreachable host :class:`CelestoNetworkError`.
        """
        frames = (first_message,) if first_message else ()
        dial = _Dial(
            url=url,
            options=_connect_options(headers, open_timeout),
            opening_frames=(*frames, resize_frame(cols, rows)),
            terminal_id=terminal_id,
            secrets=_secrets_of(_token, headers),
        )
        return cls._open(dial)

    @classmethod
    def connect_gateway(
        cls,
        gateway_url: str,
        token: str,
        *,
        terminal_id: str | None = None,
        cols: int = limits.TERMINAL_DEFAULT_COLS,
        rows: int = limits.TERMINAL_DEFAULT_ROWS,
        open_timeout: float = OPEN_TIMEOUT,
    ) -> Opened:
        """Attach through the gateway: ``token`` goes in the URL's ``token`` parameter."""
        return cls.connect(
            gateway_socket_url(gateway_url, token),
            terminal_id=terminal_id,
            cols=cols,
            rows=rows,
            open_timeout=open_timeout,
            _token=token,
        )

    @classmethod
    def connect_legacy(
        cls,
        connection: TerminalConnection,
        *,
        cols: int = limits.TERMINAL_DEFAULT_COLS,
        rows: int = limits.TERMINAL_DEFAULT_ROWS,
        open_timeout: float = OPEN_TIMEOUT,
    ) -> Opened:
        """Attach to the legacy direct socket described by ``get_terminal_connection``."""
        return cls.connect(
            connection["url"],
            headers=connection["headers"],
            first_message=connection["first_message"],
            cols=cols,
            rows=rows,
            open_timeout=open_timeout,
        )

    @property
    def terminal_id(self) -> str | None:
        """The durable session id (``term_…``); None on the legacy socket."""
        return self._terminal_id

    @property
    def url(self) -> str:
        """The socket URL with its token hidden."""
        return redact_url(self._url)

    @property
    def close_code(self) -> int | None:
        return self._connection.close_code

    @property
    def close_reason(self) -> str | None:
        return self._connection.close_reason

    @property
    def closed(self) -> bool:
        return self._connection.close_code is not None

    def send(self, data: bytes | str) -> Done:
        """Keystrokes, sent as one binary frame."""
        return self._transmit(input_frame(data))

    def resize(self, cols: int, rows: int) -> Done:
        """Tell the remote terminal its new size (clamped to at least 1 by 1)."""
        return self._transmit(resize_frame(cols, rows))

    def detach(self) -> Done:
        """Close with 1000 "client detached"; the remote shell keeps running."""
        return self._close(limits.TERMINAL_DETACH_CLOSE_CODE, limits.TERMINAL_DETACH_REASON)

    def close(self) -> Done:
        """The same as :meth:`detach`."""
        return self.detach()

    def _closed(self) -> CelestoNetworkError:
        return _closed_error(self.close_code, self.close_reason, self._secrets)

    def _end_of_output(self, closing: Exception) -> bytes:
        """What a read that met the end of the socket returns: ``b""`` when the session
        ended normally; a broken-off connection raises :class:`CelestoNetworkError`."""
        from websockets.exceptions import ConnectionClosedOK

        if isinstance(closing, ConnectionClosedOK):
            return b""
        raise self._closed() from None

    @classmethod
    @abstractmethod
    def _open(cls, dial: _Dial) -> Opened:
        """Connect and send the opening frames (the driver's I/O)."""

    @abstractmethod
    def _transmit(self, frame: bytes | str) -> Done:
        """Send one frame; a closed socket raises :class:`CelestoNetworkError`."""

    @abstractmethod
    def _close(self, code: int, reason: str) -> Done:
        """Close the socket with ``code`` and ``reason``."""

    def __repr__(self) -> str:
        state = "closed" if self.closed else "open"
        return (
            f"{type(self).__name__}(terminal_id={self._terminal_id!r}, "
            f"url={self.url!r}, state={state!r})"
        )


# --- asyncio ------------------------------------------------------------------------------


class TerminalSession(_Session[Coroutine[Any, Any, "TerminalSession"], Coroutine[Any, Any, None]]):
    """An attached terminal (asyncio). Iterate it for output; ``detach()`` keeps the shell.

    ``connect``, ``connect_gateway``, ``connect_legacy``, ``send``, ``resize`` and ``detach``
    are awaited."""

    _connection: AsyncConnection

    @classmethod
    async def _open(cls, dial: _Dial) -> TerminalSession:
        from websockets.asyncio.client import connect
        from websockets.exceptions import WebSocketException

        try:
            connection = await connect(dial.url, **dial.options)
        except (WebSocketException, OSError, TimeoutError) as exc:
            raise dial.handshake_error(exc) from None
        session = cls(connection, url=dial.url, terminal_id=dial.terminal_id, secrets=dial.secrets)
        try:
            for frame in dial.opening_frames:
                await connection.send(frame)
        except WebSocketException:
            await connection.close()
            raise session._closed() from None
        return session

    async def _transmit(self, frame: bytes | str) -> None:
        from websockets.exceptions import ConnectionClosed

        try:
            await self._connection.send(frame)
        except ConnectionClosed:
            raise self._closed() from None

    async def _close(self, code: int, reason: str) -> None:
        await self._connection.close(code, reason)

    async def recv(self) -> bytes:
        """The next output chunk; ``b""`` once the session ended normally.

        Raises :class:`CelestoNetworkError` when the connection broke off.
        """
        from websockets.exceptions import ConnectionClosed

        try:
            return output_bytes(await self._connection.recv())
        except ConnectionClosed as closing:
            return self._end_of_output(closing)

    async def __aiter__(self) -> AsyncIterator[bytes]:
        while chunk := await self.recv():
            yield chunk

    async def __aenter__(self) -> TerminalSession:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.detach()


# --- blocking -----------------------------------------------------------------------------


class SyncTerminalSession(_Session["SyncTerminalSession", None]):
    """The blocking twin of :class:`TerminalSession` (websockets' threaded client)."""

    _connection: BlockingConnection

    @classmethod
    def _open(cls, dial: _Dial) -> SyncTerminalSession:
        from websockets.exceptions import WebSocketException
        from websockets.sync.client import connect

        try:
            connection = connect(dial.url, **dial.options, **_blocking_connect_extras())
        except (WebSocketException, OSError, TimeoutError) as exc:
            raise dial.handshake_error(exc) from None
        session = cls(connection, url=dial.url, terminal_id=dial.terminal_id, secrets=dial.secrets)
        try:
            for frame in dial.opening_frames:
                connection.send(frame)
        except WebSocketException:
            connection.close()
            raise session._closed() from None
        return session

    def _transmit(self, frame: bytes | str) -> None:
        from websockets.exceptions import ConnectionClosed

        try:
            self._connection.send(frame)
        except ConnectionClosed:
            raise self._closed() from None

    def _close(self, code: int, reason: str) -> None:
        self._connection.close(code, reason)

    def recv(self, timeout: float | None = None) -> bytes:
        """The next output chunk; ``b""`` once the session ended normally.

        Raises :class:`CelestoNetworkError` when the connection broke off, ``TimeoutError``
        when ``timeout`` seconds pass without output.
        """
        from websockets.exceptions import ConnectionClosed

        try:
            return output_bytes(self._connection.recv(timeout))
        except ConnectionClosed as closing:
            return self._end_of_output(closing)

    def __iter__(self) -> Iterator[bytes]:
        while chunk := self.recv():
            yield chunk

    def __enter__(self) -> SyncTerminalSession:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.detach()
