"""Published ports bridge real HTTP into each computer's own network namespace."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from celesto_api.local import LocalServer
from tests.waiting import wait_until

from .conftest import wait_status


def _serve(http: httpx.Client, computer_id: str, text: str, port: int = 8000) -> None:
    command = (
        f"mkdir -p ~/site && echo '{text}' > ~/site/whoami.txt && "
        f"cd ~/site && (python3 -m http.server {port} --bind 127.0.0.1 >/dev/null 2>&1 &)"
    )
    assert (
        http.post(f"/v1/computers/{computer_id}/exec", json={"command": command}).status_code == 200
    )


def _get(url: str, timeout: float = 10) -> httpx.Response:
    """The answer once the server inside listens (502 until then)."""
    return wait_until(
        lambda: httpx.get(url),
        lambda response: response.status_code != 502,
        f"{url} to answer",
        timeout,
    )


def test_two_computers_each_publish_port_8000(
    http: httpx.Client, local_server: LocalServer
) -> None:
    if local_server.isolation != "bwrap":
        pytest.skip("without network namespaces two computers cannot both listen on :8000")
    boxes: list[dict[str, Any]] = []
    for label in ("box-0", "box-1"):
        computer = http.post("/v1/computers", json={}).json()
        wait_status(http, computer["id"], "running")
        _serve(http, computer["id"], f"I am {label}")
        boxes.append(computer)
    try:
        for label, computer in zip(("box-0", "box-1"), boxes, strict=True):
            record = http.post(
                f"/v1/computers/{computer['id']}/published-ports", json={"port": 8000}
            ).json()
            response = _get(record["url"] + "whoami.txt")
            assert response.status_code == 200
            assert response.text == f"I am {label}\n"
    finally:
        for computer in boxes:
            http.delete(f"/v1/computers/{computer['id']}")


def test_closed_port_answers_502_and_stopped_computer_503(
    http: httpx.Client, running_computer_via_http: dict[str, Any]
) -> None:
    record = http.post(
        f"/v1/computers/{running_computer_via_http['id']}/published-ports", json={"port": 8765}
    ).json()
    response = httpx.get(record["url"])
    assert response.status_code == 502
    assert "8765" in response.text

    http.post(f"/v1/computers/{running_computer_via_http['id']}/stop")
    wait_status(http, running_computer_via_http["id"], "stopped")
    response = httpx.get(record["url"])
    assert response.status_code == 503
    assert running_computer_via_http["name"] in response.text


def test_published_port_survives_restart_of_the_computer(
    http: httpx.Client, running_computer_via_http: dict[str, Any]
) -> None:
    record = http.post(
        f"/v1/computers/{running_computer_via_http['id']}/published-ports", json={"port": 8080}
    ).json()
    http.post(f"/v1/computers/{running_computer_via_http['id']}/stop")
    wait_status(http, running_computer_via_http["id"], "stopped")
    http.post(f"/v1/computers/{running_computer_via_http['id']}/start")
    wait_status(http, running_computer_via_http["id"], "running")
    _serve(http, running_computer_via_http["id"], "back", port=8080)
    listed = http.get(f"/v1/computers/{running_computer_via_http['id']}/published-ports").json()
    assert [p["url"] for p in listed] == [record["url"]]
    assert _get(record["url"] + "whoami.txt").text == "back\n"
    http.delete(f"/v1/computers/{running_computer_via_http['id']}/published-ports/8080")
    with pytest.raises(httpx.ConnectError):
        httpx.get(record["url"])


def test_websocket_traffic_crosses_the_bridge(
    http: httpx.Client, running_computer_via_http: dict[str, Any]
) -> None:
    script = (Path(__file__).parent / "assets" / "ws_hello.py").read_text()
    command = f"cat > ~/ws.py <<'EOF'\n{script}EOF\n(python3 ~/ws.py >/dev/null 2>&1 &)"
    http.post(f"/v1/computers/{running_computer_via_http['id']}/exec", json={"command": command})
    record = http.post(
        f"/v1/computers/{running_computer_via_http['id']}/published-ports", json={"port": 8090}
    ).json()
    from websockets.sync.client import connect

    url = record["url"].replace("http://", "ws://")

    def greeting() -> object:
        """What the server inside says first, or why it could not be reached (yet)."""
        try:
            with connect(url, open_timeout=5) as ws:
                return ws.recv(timeout=5)
        except Exception as exc:
            return exc

    assert wait_until(greeting, lambda said: said == "hello", "the greeting", 10) == "hello"
