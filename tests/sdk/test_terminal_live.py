"""Terminal round trips through a real shell on the local backend."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
from websockets.sync.client import connect

from celesto_api import (
    AsyncCelesto,
    Celesto,
    CelestoAuthenticationError,
    CelestoNetworkError,
    SyncTerminalSession,
    TerminalSession,
)

from .live_helpers import aread_until, read_until


def test_sync_round_trip_resize_detach_reattach(
    sdk: Celesto, running_computer: dict[str, Any]
) -> None:
    session = sdk.computers.open_terminal(running_computer["name"], cols=80, rows=24)
    terminal_id = session.terminal_id
    assert terminal_id and terminal_id.startswith("term_")
    assert "token=***" in repr(session)
    try:
        session.send(b"echo $((6*7))\r")
        read_until(session, b"42")
        session.send(b"stty size\r")
        read_until(session, b"24 80")
        session.resize(100, 30)
        session.send("stty size\r")
        read_until(session, b"30 100")
        session.send(b"export CELESTO_MARK=kept-$((40+2))\r")
        read_until(session, b"export CELESTO_MARK")
    finally:
        session.detach()
    assert session.close_code == 1000
    while session.recv(timeout=5):  # output that arrived before the close is still readable
        pass

    assert session.close_reason == "client detached"

    again = sdk.computers.open_terminal(running_computer["id"], terminal_id=terminal_id)
    with again:
        assert again.terminal_id == terminal_id
        # The screen comes back: the output from before the detach is replayed first.
        replayed = read_until(again, b"export CELESTO_MARK")
        assert b"30 100" in replayed
        again.send(b'echo "[$CELESTO_MARK]"\r')
        read_until(again, b"[kept-42]")
        # Printed by the job itself, so it owns the terminal by then.
        again.send(b"sh -c 'echo busy-$((2*4)); exec sleep 100'\r")
        read_until(again, b"busy-8")
        again.send(b"\x03")  # Ctrl-C reaches the shell as a byte
        again.send(b"echo rc=$?\r")
        read_until(again, b"rc=130")


async def test_async_round_trip_resize_detach_reattach(
    async_sdk: AsyncCelesto, running_computer: dict[str, Any]
) -> None:
    session = await async_sdk.computers.open_terminal(running_computer["id"], cols=90, rows=20)
    terminal_id = session.terminal_id
    async with session:
        await session.send("echo $((7*6))\r")
        await aread_until(session, b"42")
        await session.send(b"stty size\r")
        await aread_until(session, b"20 90")
        await session.resize(132, 43)
        await session.send(b"stty size\r")
        await aread_until(session, b"43 132")
        await session.send(b"ASYNC_MARK=still-here\r")
        await aread_until(session, b"ASYNC_MARK")
    assert session.close_code == 1000
    assert session.close_reason == "client detached"

    info = await async_sdk.computers.terminal(running_computer["id"], terminal_id)
    again = await TerminalSession.connect_gateway(
        info["gateway_url"], info["token"], terminal_id=info["terminal_id"]
    )
    async with again:
        assert b"43 132" in await aread_until(again, b"ASYNC_MARK")  # the screen is replayed
        await again.send(b'echo "<$ASYNC_MARK>"\r')
        await aread_until(again, b"<still-here>")


async def test_async_iteration_ends_when_the_shell_exits(
    async_sdk: AsyncCelesto, running_computer: dict[str, Any]
) -> None:
    session = await async_sdk.computers.open_terminal(running_computer["id"])
    await session.send(b"exit 0\r")
    chunks = [chunk async for chunk in session]
    assert chunks  # at least the echo of "exit"
    assert session.close_code in (1000, 1001)


def test_legacy_connection_with_plain_websockets(
    sdk: Celesto, running_computer: dict[str, Any]
) -> None:
    connection = sdk.computers.get_terminal_connection(running_computer["name"])
    assert connection["url"].endswith(f"/v1/computers/{running_computer['id']}/terminal")
    assert connection["headers"]["Authorization"].startswith("Bearer ")
    assert json.loads(connection["first_message"]) == {"token": sdk._transport.config.api_key}

    with connect(connection["url"], additional_headers=connection["headers"]) as ws:
        ws.send(connection["first_message"])
        ws.send(json.dumps({"type": "resize", "cols": 80, "rows": 24}))
        ws.send("echo legacy-$((1+1))\r")
        seen = b""
        while b"legacy-2" not in seen:
            message = ws.recv(timeout=15)
            seen += message.encode() if isinstance(message, str) else message


def test_legacy_connection_through_the_session_class(
    sdk: Celesto, running_computer: dict[str, Any]
) -> None:
    connection = sdk.computers.get_terminal_connection(running_computer["id"])
    with SyncTerminalSession.connect_legacy(connection) as session:
        assert session.terminal_id is None
        session.send(b"echo legacy-$((2+3))\r")
        read_until(session, b"legacy-5")


def test_bad_token_is_an_authentication_error(
    sdk: Celesto, running_computer: dict[str, Any]
) -> None:
    info = sdk.computers.terminal(running_computer["id"])
    with pytest.raises(CelestoAuthenticationError) as caught:
        SyncTerminalSession.connect_gateway(info["gateway_url"], "not-the-token")
    assert "not-the-token" not in str(caught.value)
    assert "token=***" in str(caught.value)


async def test_async_bad_token(async_sdk: AsyncCelesto, running_computer: dict[str, Any]) -> None:
    info = await async_sdk.computers.terminal(running_computer["id"])
    with pytest.raises(CelestoAuthenticationError):
        await TerminalSession.connect_gateway(info["gateway_url"], info["token"] + "x")


def test_dropped_socket_is_a_network_error(
    sdk: Celesto, running_computer: dict[str, Any], local_server: Any
) -> None:
    session = sdk.computers.open_terminal(running_computer["id"])
    try:
        local_server.set_faults("ws_drop=1,count=1")
        session.send(b"echo drop-me\r")
        with pytest.raises(CelestoNetworkError, match="ended unexpectedly"):
            while session.recv(timeout=15):
                pass
        assert session.close_code not in (None, 1000, 1001)
    finally:
        local_server.set_faults(None)
        session.detach()


def test_debug_logs_hide_credentials(
    sdk: Celesto, running_computer: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    api_key = sdk._transport.config.api_key
    with caplog.at_level(logging.DEBUG, logger="celesto_api.websocket"):
        info = sdk.computers.terminal(running_computer["id"])
        with SyncTerminalSession.connect_gateway(info["gateway_url"], info["token"]) as session:
            session.send(b"echo logged-$((3+4))\r")
            read_until(session, b"logged-7")
        connection = sdk.computers.get_terminal_connection(running_computer["id"])
        with SyncTerminalSession.connect_legacy(connection) as session:
            session.send(b"true\r")
    text = caplog.text
    assert "GET /gateway/terminals/" in text and "token=***" in text
    assert "Authorization: ***" in text
    assert info["token"] not in text
    assert api_key not in text
