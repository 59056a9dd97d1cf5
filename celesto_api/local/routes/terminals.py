"""Terminals: ``POST …/terminals`` (durable gateway flow), the gateway WebSocket, and the
legacy direct socket ``/v1/computers/{id}/terminal``."""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import logging
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, WebSocket
from starlette.websockets import WebSocketDisconnect, WebSocketState

from ..backend import LocalBackend
from ..errors import ApiError
from ..schemas import TerminalRequest
from ..terminals import PtySession, TerminalService
from ..text_rules import Printable
from .deps import backend_dependency, get_backend

log = logging.getLogger("celesto_api.local")
router = APIRouter()
Backend = Annotated[LocalBackend, Depends(backend_dependency)]
POLICY_VIOLATION = 1008
# An unauthenticated socket is held this long at most, waiting for its {"token": ...}.
FIRST_MESSAGE_TIMEOUT_S = 2


class _InjectedDrop(Exception):
    pass


def gateway_url(backend: LocalBackend, terminal_id: str) -> str:
    base = backend.base_url.replace("http://", "ws://", 1).replace("https://", "wss://", 1)
    return f"{base}/gateway/terminals/{terminal_id}"


@router.post("/v1/computers/{computer_id}/terminals", status_code=201)
async def open_terminal(
    computer_id: Printable,
    backend: Backend,
    body: Annotated[TerminalRequest | None, Body()] = None,
) -> dict[str, Any]:
    terminal_id = body.terminal_id if body else None
    session, token, expires_at = await backend.terminals.open(computer_id, terminal_id)
    return {
        "terminal_id": session.terminal_id,
        "gateway_url": gateway_url(backend, session.terminal_id),
        "token": token,
        "expires_at": expires_at,
    }


@router.websocket("/gateway/terminals/{terminal_id}")
async def gateway(websocket: WebSocket, terminal_id: str) -> None:
    backend: LocalBackend = get_backend(websocket)
    token = websocket.query_params.get("token", "")
    session = backend.terminals.redeem(terminal_id, token)
    if session is None:
        await websocket.close(code=POLICY_VIOLATION, reason="invalid or expired terminal token")
        return
    await websocket.accept()
    await _bridge(websocket, backend, session)


@router.websocket("/v1/computers/{computer_id}/terminal")
async def legacy_terminal(websocket: WebSocket, computer_id: Printable) -> None:
    backend: LocalBackend = get_backend(websocket)
    expected = f"Bearer {backend.api_key}".encode()
    header_ok = hmac.compare_digest(websocket.headers.get("authorization", "").encode(), expected)
    if not header_ok and "authorization" in websocket.headers:
        await websocket.close(code=POLICY_VIOLATION, reason="invalid API key")
        return
    await websocket.accept()
    if not header_ok and not await _first_message_authenticates(websocket, backend.api_key):
        await websocket.close(code=POLICY_VIOLATION, reason="invalid API key")
        return
    try:
        session, _token, _expires = await backend.terminals.open(computer_id, None, legacy=True)
    except ApiError as exc:
        await websocket.send_text(json.dumps({"type": "error", "message": str(exc.detail)}))
        await websocket.close(code=POLICY_VIOLATION, reason=str(exc.detail)[:120])
        return
    await _bridge(websocket, backend, session)


async def _first_message_authenticates(websocket: WebSocket, api_key: str) -> bool:
    try:
        text = await asyncio.wait_for(websocket.receive_text(), FIRST_MESSAGE_TIMEOUT_S)
        token = json.loads(text).get("token", "")
    except (
        TimeoutError,
        WebSocketDisconnect,
        ValueError,
        AttributeError,
        KeyError,
        RecursionError,  # a deeply nested first message
    ):
        return False
    return isinstance(token, str) and hmac.compare_digest(token.encode(), api_key.encode())


def _control(text: str) -> dict[str, Any] | None:
    """A JSON control frame (resize, close, token), or None when the text is input."""
    if not text.startswith("{"):
        return None
    try:
        message = json.loads(text)
    except (ValueError, RecursionError):
        return None
    if isinstance(message, dict) and (
        message.get("type") in ("resize", "close") or "token" in message
    ):
        return message
    return None


def _resize_size(control: dict[str, Any]) -> tuple[int, int] | None:
    """(cols, rows) of a resize frame, or None when either is missing or not a number."""
    size = []
    for key in ("cols", "rows"):
        value = control.get(key)
        if isinstance(value, bool) or not isinstance(value, int | float):
            return None
        if not 0 < value < 1 << 16:
            return None
        size.append(int(value))
    return size[0], size[1]


async def _bridge(websocket: WebSocket, backend: LocalBackend, session: PtySession) -> None:
    terminals: TerminalService = backend.terminals
    close_requested = False

    async def send(data: bytes) -> None:
        if backend.faults.draw_ws_drop():
            raise _InjectedDrop
        await websocket.send_bytes(data)

    async def receive() -> None:
        nonlocal close_requested
        while True:
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                return
            if message.get("bytes") is not None:
                terminals.write(session, message["bytes"])
                continue
            text = message.get("text") or ""
            control = _control(text)
            if control is None:
                terminals.write(session, text.encode())
            elif control.get("type") == "resize":
                size = _resize_size(control)
                if size is None:
                    log.warning("ignored a terminal resize frame without numeric cols and rows")
                else:
                    terminals.resize(session, *size)
            elif control.get("type") == "close":
                close_requested = True
                return

    attachment = terminals.attach(session, send)
    pump = asyncio.ensure_future(terminals.pump(session, attachment))
    reader = asyncio.ensure_future(receive())
    try:
        done, _ = await asyncio.wait({pump, reader}, return_when=asyncio.FIRST_COMPLETED)
        if pump in done:
            error = pump.exception()
            if isinstance(error, _InjectedDrop):
                await _close(websocket, 1011, "connection dropped (injected fault)")
            elif error is None:
                code = session.exit_code
                reason = "shell exited" if code is None else f"shell exited with status {code}"
                await _close(websocket, 1000, reason)
        elif close_requested or session.legacy:
            terminals.kill(session)
            await _close(websocket, 1000, "terminal closed")
    finally:
        for task in (pump, reader):
            task.cancel()
            with contextlib.suppress(BaseException):
                await task
        terminals.detach(session, attachment)
        if session.legacy:
            terminals.kill(session)


async def _close(websocket: WebSocket, code: int, reason: str) -> None:
    if websocket.application_state == WebSocketState.CONNECTED:
        with contextlib.suppress(Exception):
            await websocket.close(code=code, reason=reason)
