"""Every `Celesto.computers` call against the real local backend."""

from __future__ import annotations

import random
import re
from datetime import datetime
from typing import Any

import httpx
import pytest

from celesto_api import Celesto, CelestoConflictError, CelestoNotFoundError
from tests.waiting import wait_status, wait_until

REQUIRED_COMPUTER_KEYS = {
    "id",
    "name",
    "status",
    "vcpus",
    "ram_mb",
    "disk_size_mb",
    "image",
    "created_at",
    "compute_location",
}


def test_create_get_list_delete(client: Celesto) -> None:
    created = client.computers.create(cpus=1, memory=512, disk="1gb")
    try:
        assert set(created) >= REQUIRED_COMPUTER_KEYS
        assert created["id"].startswith("cmp_")
        assert created["status"] in ("creating", "running")
        assert (created["vcpus"], created["ram_mb"], created["disk_size_mb"]) == (1, 512, 1024)
        running = wait_status(client, created["id"], "running")
        by_name = client.computers.get(created["name"])
        assert by_name["id"] == created["id"] == running["id"]

        listing = client.computers.list()
        assert listing["count"] == len(listing["computers"])
        assert created["id"] in {c["id"] for c in listing["computers"]}
        only_running = client.computers.list(status="running", limit=200)
        assert all(c["status"] == "running" for c in only_running["computers"])
        assert client.computers.list(limit=1)["count"] <= 1
    finally:
        deleted = client.computers.delete(created["id"])
    assert deleted["id"] == created["id"]
    assert deleted["status"] in ("deleting", "deleted")


def test_create_with_template_and_policy(client: Celesto) -> None:
    created = client.computers.create(
        template_id="scratch", network_policy="off", image="ubuntu-desktop-24.04"
    )
    try:
        assert created["template_id"] == "scratch"
        assert created["network_policy"] == {"mode": "off"}
    finally:
        client.computers.delete(created["id"])


def test_idempotency_key_returns_the_same_computer(client: Celesto) -> None:
    key = f"test-{random.getrandbits(64):x}"
    first = client.computers.create(idempotency_key=key)
    try:
        again = client.computers.create(idempotency_key=key)
        assert again["id"] == first["id"]
        other = client.computers.create()
        assert other["id"] != first["id"]
        client.computers.delete(other["id"])
    finally:
        client.computers.delete(first["id"])


def test_exec(client: Celesto, computer: dict[str, Any]) -> None:
    result = client.computers.exec(computer["id"], "echo hello; echo oops >&2; exit 3")
    assert result["exit_code"] == 3
    assert result["stdout"] == "hello\n"
    assert result["stderr"] == "oops\n"
    by_name = client.computers.exec(computer["name"], "echo $((6*7))", timeout=5)
    assert (by_name["exit_code"], by_name["stdout"]) == (0, "42\n")


def test_exec_timeout(client: Celesto, computer: dict[str, Any]) -> None:
    result = client.computers.exec(computer["id"], "sleep 30; echo finished", timeout=1)
    assert result["timed_out"] is True
    assert result["exit_code"] != 0
    assert "finished" not in result["stdout"]


def test_exec_stream(client: Celesto, computer: dict[str, Any]) -> None:
    events = list(
        client.computers.exec_stream(
            computer["id"], "echo one; sleep 0.2; echo two >&2; echo three; exit 4"
        )
    )
    kinds = [event["type"] for event in events]
    assert kinds[0] == "started"
    assert kinds[-1] == "exit"
    stdout = "".join(e["data"] for e in events if e["type"] == "stdout")
    stderr = "".join(e["data"] for e in events if e["type"] == "stderr")
    assert (stdout, stderr) == ("one\nthree\n", "two\n")
    exit_event: Any = events[-1]
    assert exit_event["exit_code"] == 4
    assert exit_event["command_id"]


def test_exec_stream_can_stop_early(client: Celesto, computer: dict[str, Any]) -> None:
    stream = client.computers.exec_stream(computer["id"], "for i in 1 2 3; do echo $i; done")
    first = next(stream)
    assert first["type"] == "started"
    stream.close()  # type: ignore[attr-defined]
    assert client.computers.exec(computer["id"], "true")["exit_code"] == 0


def test_stop_start_and_conflict(client: Celesto, computer: dict[str, Any]) -> None:
    stopped = client.computers.stop(computer["name"])
    assert stopped["status"] in ("stopping", "stopped")
    wait_status(client, computer["id"], "stopped")
    with pytest.raises(CelestoConflictError) as caught:
        client.computers.exec(computer["id"], "true")
    assert caught.value.status_code == 409
    assert "stopped" in caught.value.message
    started = client.computers.start(computer["id"])
    assert started["status"] in ("starting", "running")
    wait_status(client, computer["id"], "running")
    assert client.computers.exec(computer["id"], "echo back")["stdout"] == "back\n"


def test_list_templates(client: Celesto) -> None:
    templates = client.computers.list_templates()
    assert "scratch" in {t["id"] for t in templates}
    for template in templates:
        for key in (
            "id",
            "display_name",
            "description",
            "default_vcpus",
            "default_ram_mb",
            "default_disk_size_mb",
        ):
            assert key in template


def test_command_history(client: Celesto, computer: dict[str, Any]) -> None:
    client.computers.exec(computer["id"], "echo a")
    client.computers.exec(computer["id"], "echo b")
    history = client.computers.list_command_history(computer["id"])
    assert history["count"] == len(history["commands"]) >= 2
    entry = history["commands"][0]
    assert {"command_id", "source", "status"} <= set(entry)
    assert client.computers.list_command_history(computer["name"], limit=1)["count"] == 1


@pytest.mark.parametrize("window", ["1h", "24h"])
def test_observability(client: Celesto, computer: dict[str, Any], window: str) -> None:
    data = client.computers.observability(computer["id"], window=window)
    assert set(data) >= {"latest", "samples"}
    assert isinstance(data["samples"], list)


def test_bulk_delete(client: Celesto) -> None:
    first = client.computers.create()
    second = client.computers.create()
    result = client.computers.bulk_delete([first["id"], second["name"], "cmp_does_not_exist"])
    assert result["deleted"] == 2
    assert set(result.get("deleted_ids", [])) == {first["id"], second["id"]}
    assert result.get("failed_ids") == ["cmp_does_not_exist"]


def test_published_ports(client: Celesto, computer: dict[str, Any]) -> None:
    port = random.randint(20_000, 40_000)
    client.computers.exec(
        computer["id"],
        f"cd /tmp && echo hello-port > index.html && "
        f"(nohup python3 -m http.server {port} --bind 127.0.0.1 >/dev/null 2>&1 &)",
    )
    published = client.computers.publish_port(computer["id"], port)
    assert published["port"] == port
    assert published["computer_id"] == computer["id"]
    assert published["status"]
    url = published.get("url")
    assert url and url.startswith("http://127.0.0.1:")

    def body() -> str:
        try:
            return httpx.get(f"{url.rstrip('/')}/index.html", timeout=2).text
        except httpx.HTTPError:
            return ""

    assert "hello-port" in wait_until(body, lambda text: "hello-port" in text, "the page", 15)

    listed = client.computers.list_published_ports(computer["name"])
    assert port in {p["port"] for p in listed}
    removed = client.computers.unpublish_port(computer["id"], port)
    assert removed["port"] == port
    assert port not in {p["port"] for p in client.computers.list_published_ports(computer["id"])}


def test_publish_default_port(client: Celesto, computer: dict[str, Any]) -> None:
    published = client.computers.publish_port(computer["id"])
    assert published["port"] == 8000
    assert client.computers.unpublish_port(computer["id"])["port"] == 8000


def test_terminal_session_info(client: Celesto, computer: dict[str, Any]) -> None:
    info = client.computers.terminal(computer["name"])
    assert re.fullmatch(r"term_[A-Za-z0-9_-]+", info["terminal_id"])
    assert info["gateway_url"].startswith("ws://127.0.0.1:")
    assert "token=" not in info["gateway_url"]
    assert info["token"]
    assert datetime.fromisoformat(info["expires_at"].replace("Z", "+00:00")).tzinfo is not None
    again = client.computers.terminal(computer["id"], info["terminal_id"])
    assert again["terminal_id"] == info["terminal_id"]
    assert again["token"] != info["token"]


def test_unknown_computer_is_not_found(client: Celesto) -> None:
    with pytest.raises(CelestoNotFoundError):
        client.computers.terminal("cmp_does_not_exist")
