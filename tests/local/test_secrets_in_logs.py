"""The server's logs never show the API key or a terminal token, even at DEBUG level.

uvicorn writes WebSocket paths with their query string (where the gateway token travels)
at INFO and hands the same logger to websockets for its handshake and frame lines at DEBUG;
the access log sees every path. The test turns all of them up to DEBUG, as an operator
chasing a problem would, and reads what they wrote.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from celesto_api.local import LocalServer

from .test_terminals import attach, open_terminal, read_until

SERVER_LOGGERS = ("uvicorn.error", "uvicorn.access", "celesto_api.local.access")


class Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@pytest.fixture
def server_logs() -> Iterator[Collect]:
    handler = Collect()
    saved = {}
    for name in SERVER_LOGGERS:
        logger = logging.getLogger(name)
        saved[name] = logger.level
        logger.setLevel(logging.DEBUG)
        logger.addHandler(handler)
    yield handler
    for name, level in saved.items():
        logger = logging.getLogger(name)
        logger.removeHandler(handler)
        logger.setLevel(level)


def test_logs_hide_key_and_tokens(
    local_server: LocalServer,
    http: httpx.Client,
    running_computer_via_http: dict[str, Any],
    server_logs: Collect,
) -> None:
    key = local_server.api_key
    info = open_terminal(http, running_computer_via_http["id"])
    token = info["token"]
    # A token in an ordinary query string, a wrong key, a good and a bad gateway token.
    http.get("/v1/computers", params={"token": token})
    httpx.get(f"{local_server.base_url}/v1/computers", headers={"Authorization": "Bearer nope"})
    with attach(info) as ws:
        ws.send(b"echo seen-$((5+5))\r")
        read_until(ws, r"seen-10")
    with pytest.raises(InvalidStatus):
        attach({**info, "token": token[::-1]})
    # The legacy socket: the key in a header and in the first message.
    legacy = local_server.base_url.replace("http://", "ws://") + (
        f"/v1/computers/{running_computer_via_http['id']}/terminal"
    )
    with connect(legacy, additional_headers={"Authorization": f"Bearer {key}"}) as ws:
        ws.send(json.dumps({"token": key}))
        ws.send("echo legacy-$((3+3))\r")
        read_until(ws, r"legacy-6")

    text = "\n".join(server_logs.lines)
    # The lines that would carry the secrets are there, redacted.
    assert f"/gateway/terminals/{info['terminal_id']}?token=***" in text
    assert "GET /v1/computers 200" in text and "GET /v1/computers 401" in text
    assert "authorization: ***" in text.lower()
    assert token not in text and token[::-1] not in text
    assert key not in text
