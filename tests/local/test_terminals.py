"""Durable terminals over real WebSockets into a real shell on a PTY in the sandbox."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import ClientConnection, connect

from celesto_api.local import LocalServer

from .conftest import wait_status


def open_terminal(http: httpx.Client, computer_id: str, terminal_id: str | None = None) -> Any:
    body = {"terminal_id": terminal_id} if terminal_id else None
    response = http.post(f"/v1/computers/{computer_id}/terminals", json=body)
    assert response.status_code == 201, response.text
    return response.json()


def attach(info: dict[str, Any]) -> ClientConnection:
    return connect(f"{info['gateway_url']}?token={info['token']}", open_timeout=10)


def read_until(ws: ClientConnection, pattern: str, timeout: float = 10) -> str:
    seen = b""
    deadline = time.monotonic() + timeout
    while not re.search(pattern, seen.decode(errors="replace")):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise AssertionError(f"{pattern!r} not seen in {seen[-500:]!r}")
        try:
            frame = ws.recv(timeout=remaining)
        except TimeoutError:
            continue
        seen += frame if isinstance(frame, bytes) else frame.encode()
    return seen.decode(errors="replace")


def test_session_info_shape(http: httpx.Client, running_computer_via_http: dict[str, Any]) -> None:
    info = open_terminal(http, running_computer_via_http["id"])
    assert re.fullmatch(r"term_[A-Za-z0-9_-]+", info["terminal_id"])
    assert info["gateway_url"].startswith("ws://127.0.0.1:")
    assert "token=" not in info["gateway_url"]
    assert info["token"] and info["expires_at"].endswith("Z")


def test_type_interrupt_resize_detach_and_reattach(
    http: httpx.Client, running_computer_via_http: dict[str, Any]
) -> None:
    info = open_terminal(http, running_computer_via_http["name"])
    with attach(info) as ws:
        ws.send(json.dumps({"type": "resize", "cols": 100, "rows": 40}))
        ws.send(b"MARK=kept-$((6*7)); stty size\r")
        read_until(ws, r"40 100")
        # Printed by the job itself, so it owns the terminal by then.
        ws.send(b"sh -c 'echo busy-$((2*4)); exec sleep 100'\r")
        read_until(ws, r"busy-8")
        ws.send(b"\x03")
        ws.send(b"echo rc=$?\r")
        read_until(ws, r"rc=130")
        ws.close(1000, "client detached")

    again = open_terminal(http, running_computer_via_http["id"], info["terminal_id"])
    assert again["terminal_id"] == info["terminal_id"]
    assert again["token"] != info["token"]
    with attach(again) as ws:
        replay = read_until(ws, r"rc=130")
        assert "40 100" in replay, "recent output is replayed on reattach"
        ws.send("echo $MARK\r")  # a text frame that is not JSON is input too
        read_until(ws, r"kept-42")


def test_shell_exit_closes_with_1000(
    http: httpx.Client, running_computer_via_http: dict[str, Any]
) -> None:
    info = open_terminal(http, running_computer_via_http["id"])
    with attach(info) as ws:
        ws.send(b"exit 0\r")
        with pytest.raises(ConnectionClosed) as closed:
            while True:
                ws.recv(timeout=10)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1000
    reattach = http.post(
        f"/v1/computers/{running_computer_via_http['id']}/terminals",
        json={"terminal_id": info["terminal_id"]},
    )
    assert reattach.status_code == 404


def test_tokens_are_scoped_to_their_terminal(
    http: httpx.Client, running_computer_via_http: dict[str, Any]
) -> None:
    first = open_terminal(http, running_computer_via_http["id"])
    second = open_terminal(http, running_computer_via_http["id"])
    cross = {**second, "token": first["token"]}
    for bad in (cross, {**first, "token": "forged"}, {**first, "token": ""}):
        with pytest.raises(InvalidStatus):
            attach(bad)


def test_terminal_id_edges(http: httpx.Client, running_computer_via_http: dict[str, Any]) -> None:
    path = f"/v1/computers/{running_computer_via_http['id']}/terminals"
    for bad in ("term_", "t" * 6, "term_" + "a" * 156, "term_bad id"):
        assert http.post(path, json={"terminal_id": bad}).status_code == 422, bad
    for unknown in ("term_x", "term_" + "a" * 155):
        assert http.post(path, json={"terminal_id": unknown}).status_code == 404


def test_legacy_socket_with_header_and_first_message(
    local_server: LocalServer, http: httpx.Client, running_computer_via_http: dict[str, Any]
) -> None:
    url = local_server.base_url.replace("http://", "ws://") + (
        f"/v1/computers/{running_computer_via_http['id']}/terminal"
    )
    with connect(url, additional_headers={"Authorization": f"Bearer {local_server.api_key}"}) as ws:
        ws.send(json.dumps({"token": local_server.api_key}))
        ws.send(json.dumps({"type": "resize", "cols": 90, "rows": 30}))
        ws.send("stty size\r")
        read_until(ws, r"30 90")
    with connect(url) as ws:  # a browser cannot set headers: the first message authenticates
        ws.send(json.dumps({"token": local_server.api_key}))
        ws.send("echo legacy-ok\r")
        read_until(ws, r"legacy-ok")
    with pytest.raises(InvalidStatus):
        connect(url, additional_headers={"Authorization": "Bearer wrong"})
    with connect(url) as ws:
        ws.send(json.dumps({"token": "wrong"}))
        with pytest.raises(ConnectionClosed) as closed:
            while True:
                ws.recv(timeout=10)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1008


def test_oversized_frame_is_refused_and_the_shell_survives(
    http: httpx.Client, running_computer_via_http: dict[str, Any]
) -> None:
    info = open_terminal(http, running_computer_via_http["id"])
    with attach(info) as ws:
        assert ws.ping().wait(10), "pings are answered"
        ws.send(b'MARK=survived-$((40+2)); echo "<$TERM $COLORTERM $(locale charmap)>"\r')
        read_until(ws, r"<xterm-256color truecolor UTF-8>")
        ws.send(b"x" * (1024 * 1024 + 1))
        with pytest.raises(ConnectionClosed) as closed:
            while True:
                ws.recv(timeout=10)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1009
    again = open_terminal(http, running_computer_via_http["id"], info["terminal_id"])
    with attach(again) as ws:
        ws.send(b"echo $MARK\r")
        read_until(ws, r"survived-42")


@pytest.fixture(scope="module")
def short_token_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalServer]:
    with LocalServer(
        data_dir=tmp_path_factory.mktemp("short-tokens"), terminal_token_ttl=1
    ) as server:
        yield server


def test_terminal_tokens_expire(short_token_server: LocalServer) -> None:
    headers = {"Authorization": f"Bearer {short_token_server.api_key}"}
    with httpx.Client(base_url=short_token_server.base_url, headers=headers, timeout=30) as http:
        computer = http.post("/v1/computers", json={}).json()
        assert wait_status(http, computer["id"], "running")["status"] == "running"
        info = open_terminal(http, computer["id"])
        with attach(info) as ws:  # a fresh token works...
            ws.send(b"echo fresh-$((1+1))\r")
            read_until(ws, r"fresh-2")
        time.sleep(1.5)
        with pytest.raises(InvalidStatus) as refused:  # ...an expired one does not
            attach(info)
        assert refused.value.response.status_code == 403
        renewed = open_terminal(http, computer["id"], info["terminal_id"])
        with attach(renewed) as ws:
            ws.send(b"echo renewed-$((2+2))\r")
            read_until(ws, r"renewed-4")
        http.delete(f"/v1/computers/{computer['id']}")
