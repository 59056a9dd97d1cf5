"""ASGI middlewares of the local server: request ids, a redacting access log, bearer
auth, body size limits and the fault-injection switch."""

from __future__ import annotations

import asyncio
import hmac
import http
import json
import logging
import time
import uuid
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .faults import FaultInjector
from .stage_timing import mark, open_clock, server_timing

log = logging.getLogger("celesto_api.local.access")

PUBLIC_PATHS = ("/health", "/v1/health")
# The terminal gateway authenticates by its own short-lived token, not the API key.
GATEWAY_PREFIX = "/gateway/"
MAX_JSON_BODY = 1024 * 1024
MAX_UPLOAD_BODY = 100 * 1024 * 1024


async def _send_json(send: Send, status: int, body: Any, headers: dict[str, str]) -> None:
    payload = json.dumps(body).encode()
    raw_headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(payload)).encode()),
    ]
    raw_headers += [(k.lower().encode(), v.encode()) for k, v in headers.items()]
    await send({"type": "http.response.start", "status": status, "headers": raw_headers})
    await send({"type": "http.response.body", "body": payload})


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            return bytes(value).decode("latin-1")
    return None


class RequestIdMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = uuid.uuid4().hex
        started = time.perf_counter()
        status_holder = {"status": 0}
        marks = open_clock()

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                status_holder["status"] = message["status"]
                headers = list(message.get("headers", []))
                headers.append((b"x-request-id", request_id.encode()))
                mark("respond")
                timing = server_timing(marks)
                if timing is not None:
                    headers.append((b"server-timing", timing))
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            # Path only: query strings may carry terminal tokens.
            log.info(
                "%s %s %s %.1fms",
                scope["method"],
                scope["path"],
                status_holder["status"],
                (time.perf_counter() - started) * 1000,
            )


class AuthMiddleware:
    def __init__(self, app: ASGIApp, api_key: str) -> None:
        self.app = app
        self._expected = f"Bearer {api_key}".encode()

    def authorized(self, scope: Scope) -> bool:
        given = (_header(scope, b"authorization") or "").encode()
        return hmac.compare_digest(given, self._expected)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in PUBLIC_PATHS:
            await self.app(scope, receive, send)
            return
        if not self.authorized(scope):
            given = _header(scope, b"authorization")
            detail = (
                "Missing API key: send 'Authorization: Bearer <key>'."
                if not given
                else "Invalid API key."
            )
            await _send_json(send, 401, {"detail": detail}, {"www-authenticate": "Bearer"})
            return
        await self.app(scope, receive, send)


class BodyLimitMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = MAX_UPLOAD_BODY if scope["path"].startswith("/v1/deploy/") else MAX_JSON_BODY
        declared = _header(scope, b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await _send_json(
                send, 413, {"detail": f"Request body is larger than {limit} bytes."}, {}
            )
            return
        received = 0
        too_large = False
        response_started = False

        async def limited_receive() -> Message:
            nonlocal received, too_large
            if too_large:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    # Frameworks turn body errors into a generic 400; stop the app reading
                    # instead and answer 413 ourselves.
                    too_large = True
                    return {"type": "http.disconnect"}
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal response_started
            if too_large:
                return
            if message["type"] == "http.response.start":
                response_started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, guarded_send)
        except Exception:
            if not too_large:
                raise
        if too_large and not response_started:
            await _send_json(
                send, 413, {"detail": f"Request body is larger than {limit} bytes."}, {}
            )


def injected_error_body(status: int) -> dict[str, Any]:
    """What an injected failure answers: the cloud's shape for that status (contract §6)."""
    if status == 402:
        return {
            "detail": {
                "error_code": "trial_expired",
                "message": "Your free trial has ended; add credit to keep using computers "
                "(injected fault).",
            }
        }
    try:
        phrase = http.HTTPStatus(status).phrase
    except ValueError:
        phrase = "Server error"
    return {"detail": f"{phrase} (injected fault)."}


class FaultMiddleware:
    """Injected latency, 5xx or 402 (before or after the work is done) and 429 (with
    Retry-After) on the API routes."""

    def __init__(self, app: ASGIApp, faults: FaultInjector) -> None:
        self.app = app
        self.faults = faults

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        eligible = (
            scope["type"] == "http"
            and path.startswith("/v1/")
            and not path.startswith("/v1/local/")
            and path not in PUBLIC_PATHS
        )
        if not eligible:
            await self.app(scope, receive, send)
            return
        decision = self.faults.draw_http()
        if decision.latency_s:
            await asyncio.sleep(decision.latency_s)
        if decision.error_status == 429:
            await _send_json(
                send,
                429,
                {"detail": "Rate limit exceeded (injected fault)."},
                {"retry-after": str(decision.retry_after)},
            )
            return
        if decision.after_handling:

            async def discard(message: Message) -> None:
                return None

            await self.app(scope, receive, discard)
        if decision.error_status is not None:
            status = decision.error_status
            await _send_json(send, status, injected_error_body(status), {})
            return
        await self.app(scope, receive, send)
