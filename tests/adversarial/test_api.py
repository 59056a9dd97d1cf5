"""Hostile requests to the API: deep and huge JSON, control characters in ids, lenient
types, malformed terminal frames, silent sockets. Each gets a clear error in the contract's
shape (or is ignored, for frames) while /health keeps answering."""

from __future__ import annotations

import json
import re
import time
from typing import Any

import httpx
import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from celesto_api.local import LocalServer

from .conftest import HealthProbe, run

DEPTH = 100_000


@pytest.mark.parametrize(
    "body",
    [
        "[" * DEPTH + "]" * DEPTH,
        '{"a":' * DEPTH + "1" + "}" * DEPTH,
        '{"vcpus": ' + "9" * 10_000 + "}",
    ],
    ids=["deep-array", "deep-object", "huge-number"],
)
def test_pathological_json_is_a_400(
    health_probe: HealthProbe, http: httpx.Client, body: str
) -> None:
    response = http.post(
        "/v1/computers", content=body, headers={"content-type": "application/json"}
    )
    assert response.status_code == 400, response.text
    assert isinstance(response.json()["detail"], str)


def test_a_huge_json_body_is_a_413_before_it_is_read(
    health_probe: HealthProbe, http: httpx.Client
) -> None:
    body = json.dumps({"command": "x" * (4 << 20), "timeout": 5})
    response = http.post("/v1/computers/any/exec", content=body)
    assert response.status_code == 413, response.text
    assert "larger than" in response.json()["detail"]


@pytest.mark.parametrize(
    ("method", "path", "body", "loc"),
    [
        ("GET", "/v1/computers/abc%00def", None, ["path", "computer_id"]),
        ("POST", "/v1/computers/abc%0Adef/exec", {"command": "id"}, ["path", "computer_id"]),
        ("GET", "/v1/computers?template_id=a%00", None, ["query", "template_id"]),
        ("POST", "/v1/computers/bulk-delete", {"computer_ids": ["a\x00"]}, None),
        ("POST", "/v1/computers", {"image": "ubuntu\x00"}, ["body", "image"]),
        ("POST", "/v1/computers", {"template_id": "scratch\x7f"}, ["body", "template_id"]),
        ("GET", "/v1/deploy/apps/a%00b/status", None, ["path", "app_name"]),
    ],
)
def test_control_characters_in_ids_are_422_naming_the_field(
    health_probe: HealthProbe,
    http: httpx.Client,
    method: str,
    path: str,
    body: Any,
    loc: list[str] | None,
) -> None:
    response = http.request(method, path, json=body)
    assert response.status_code == 422, response.text
    detail = response.json()
    entries = detail.get("errors") or detail["detail"]
    if loc is None:
        loc = ["body", "computer_ids", 0]
    assert entries[0]["loc"] == loc, entries
    assert "control characters" in entries[0]["msg"]


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/v1/computers", {"vcpus": True}, "vcpus"),
        ("/v1/computers", {"vcpus": "2"}, "vcpus"),
        ("/v1/computers", {"ram_mb": False}, "ram_mb"),
        ("/v1/computers", {"external_volume_enabled": 1}, "external_volume_enabled"),
        ("/v1/computers", {"external_volume_enabled": "true"}, "external_volume_enabled"),
        ("/v1/computers/x/exec", {"command": "id", "timeout": True}, "timeout"),
        ("/v1/computers/x/exec", {"command": "id", "timeout": "30"}, "timeout"),
        ("/v1/computers/x/published-ports", {"port": "8000"}, "port"),
        ("/v1/computers/x/published-ports", {"port": 8000, "force": 0}, "force"),
    ],
)
def test_booleans_and_text_are_not_taken_for_numbers(
    health_probe: HealthProbe, http: httpx.Client, path: str, body: dict[str, Any], field: str
) -> None:
    response = http.post(path, json=body)
    assert response.status_code == 422, response.text
    error = response.json()["errors"][0]
    assert error["loc"] == ["body", field], error
    assert error["type"] in ("int_type", "bool_type"), error


def test_numbers_as_the_official_clients_send_them_still_work(
    health_probe: HealthProbe, http: httpx.Client
) -> None:
    created = http.post("/v1/computers", json={"vcpus": 2, "ram_mb": 1024.0})
    assert created.status_code == 201, created.text
    assert created.json()["vcpus"] == 2
    http.delete(f"/v1/computers/{created.json()['id']}")


def read_until(ws: ClientConnection, pattern: str, timeout: float = 15) -> str:
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


BAD_RESIZES = [
    {"type": "resize"},
    {"type": "resize", "cols": 80},
    {"type": "resize", "cols": "80", "rows": "24"},
    {"type": "resize", "cols": True, "rows": False},
    {"type": "resize", "cols": -1, "rows": 0},
    {"type": "resize", "cols": 10**12, "rows": 10**12},
    {"type": "resize", "cols": None, "rows": [24]},
]


def test_malformed_resize_frames_are_ignored_and_the_socket_kept(
    health_probe: HealthProbe, http: httpx.Client, running_computer_via_http: dict[str, Any]
) -> None:
    info = http.post(f"/v1/computers/{running_computer_via_http['id']}/terminals").json()
    with connect(f"{info['gateway_url']}?token={info['token']}", open_timeout=10) as ws:
        for frame in BAD_RESIZES:
            ws.send(json.dumps(frame))
        ws.send(json.dumps({"type": "resize", "cols": 91, "rows": 33}))
        ws.send(b"stty size\r")
        read_until(ws, r"33 91")
        ws.send(b"echo still-$((40+2))\r")
        read_until(ws, r"still-42")
        # Too deep to parse: not a control frame, so it is input (whatever the shell makes of
        # it); the socket still closes cleanly when asked, with a close frame.
        ws.send('{"type": "resize", "cols": ' + "[" * 200_000 + "]" * 200_000 + "}")
        ws.send(json.dumps({"type": "close"}))
        with pytest.raises(ConnectionClosed) as closed:
            while True:
                ws.recv(timeout=30)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1000, closed.value


def test_a_deeply_nested_first_message_is_refused_like_a_wrong_one(
    health_probe: HealthProbe, local_server: LocalServer, running_computer_via_http: dict[str, Any]
) -> None:
    url = (
        local_server.base_url.replace("http://", "ws://")
        + f"/v1/computers/{running_computer_via_http['id']}/terminal"
    )
    with connect(url, open_timeout=10) as ws, pytest.raises(ConnectionClosed) as closed:
        ws.send('{"token":' * 80_000 + '""' + "}" * 80_000)
        ws.recv(timeout=30)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1008


def test_a_silent_legacy_socket_is_closed_within_its_first_message_wait(
    health_probe: HealthProbe, local_server: LocalServer, running_computer_via_http: dict[str, Any]
) -> None:
    url = (
        local_server.base_url.replace("http://", "ws://")
        + f"/v1/computers/{running_computer_via_http['id']}/terminal"
    )
    started = time.monotonic()
    with connect(url, open_timeout=10) as ws, pytest.raises(ConnectionClosed) as closed:
        ws.recv(timeout=30)
    held = time.monotonic() - started
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1008
    print(f"\nan unauthenticated legacy socket was held {held:.2f} s")


def test_exec_still_works_after_the_api_attacks(
    health_probe: HealthProbe, http: httpx.Client, running_computer_via_http: dict[str, Any]
) -> None:
    response = run(http, running_computer_via_http["id"], "echo fine")
    assert response.json()["stdout"] == "fine\n"
