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


def test_create_get_list_delete(sdk: Celesto) -> None:
    created = sdk.computers.create(cpus=1, memory=512, disk="1gb")
    try:
        assert set(created) >= REQUIRED_COMPUTER_KEYS
        assert created["id"].startswith("cmp_")
        assert created["status"] in ("creating", "running")
        assert (created["vcpus"], created["ram_mb"], created["disk_size_mb"]) == (1, 512, 1024)
        running = wait_status(sdk, created["id"], "running")
        by_name = sdk.computers.get(created["name"])
        assert by_name["id"] == created["id"] == running["id"]

        listing = sdk.computers.list()
        assert listing["count"] == len(listing["computers"])
        assert created["id"] in {c["id"] for c in listing["computers"]}
        only_running = sdk.computers.list(status="running", limit=200)
        assert all(c["status"] == "running" for c in only_running["computers"])
        assert sdk.computers.list(limit=1)["count"] <= 1
    finally:
        deleted = sdk.computers.delete(created["id"])
    assert deleted["id"] == created["id"]
    assert deleted["status"] in ("deleting", "deleted")


def test_create_with_template_and_policy(sdk: Celesto) -> None:
    created = sdk.computers.create(
        template_id="scratch", network_policy="off", image="ubuntu-desktop-24.04"
    )
    try:
        assert created["template_id"] == "scratch"
        assert created["network_policy"] == {"mode": "off"}
    finally:
        sdk.computers.delete(created["id"])


def test_idempotency_key_returns_the_same_computer(sdk: Celesto) -> None:
    key = f"test-{random.getrandbits(64):x}"
    first = sdk.computers.create(idempotency_key=key)
    try:
        again = sdk.computers.create(idempotency_key=key)
        assert again["id"] == first["id"]
        other = sdk.computers.create()
        assert other["id"] != first["id"]
        sdk.computers.delete(other["id"])
    finally:
        sdk.computers.delete(first["id"])


def test_exec(sdk: Celesto, running_computer: dict[str, Any]) -> None:
    result = sdk.computers.exec(running_computer["id"], "echo hello; echo oops >&2; exit 3")
    assert result["exit_code"] == 3
    assert result["stdout"] == "hello\n"
    assert result["stderr"] == "oops\n"
    by_name = sdk.computers.exec(running_computer["name"], "echo $((6*7))", timeout=5)
    assert (by_name["exit_code"], by_name["stdout"]) == (0, "42\n")


def test_exec_timeout(sdk: Celesto, running_computer: dict[str, Any]) -> None:
    result = sdk.computers.exec(running_computer["id"], "sleep 30; echo finished", timeout=1)
    assert result["timed_out"] is True
    assert result["exit_code"] != 0
    assert "finished" not in result["stdout"]


def test_exec_stream(sdk: Celesto, running_computer: dict[str, Any]) -> None:
    events = list(
        sdk.computers.exec_stream(
            running_computer["id"], "echo one; sleep 0.2; echo two >&2; echo three; exit 4"
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


def test_exec_stream_can_stop_early(sdk: Celesto, running_computer: dict[str, Any]) -> None:
    stream = sdk.computers.exec_stream(running_computer["id"], "for i in 1 2 3; do echo $i; done")
    first = next(stream)
    assert first["type"] == "started"
    stream.close()  # type: ignore[attr-defined]
    assert sdk.computers.exec(running_computer["id"], "true")["exit_code"] == 0


def test_stop_start_and_conflict(sdk: Celesto, running_computer: dict[str, Any]) -> None:
    stopped = sdk.computers.stop(running_computer["name"])
    assert stopped["status"] in ("stopping", "stopped")
    wait_status(sdk, running_computer["id"], "stopped")
    with pytest.raises(CelestoConflictError) as caught:
        sdk.computers.exec(running_computer["id"], "true")
    assert caught.value.status_code == 409
    assert "stopped" in caught.value.message
    started = sdk.computers.start(running_computer["id"])
    assert started["status"] in ("starting", "running")
    wait_status(sdk, running_computer["id"], "running")
    assert sdk.computers.exec(running_computer["id"], "echo back")["stdout"] == "back\n"


def test_list_templates(sdk: Celesto) -> None:
    templates = sdk.computers.list_templates()
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


def test_command_history(sdk: Celesto, running_computer: dict[str, Any]) -> None:
    sdk.computers.exec(running_computer["id"], "echo a")
    sdk.computers.exec(running_computer["id"], "echo b")
    history = sdk.computers.list_command_history(running_computer["id"])
    assert history["count"] == len(history["commands"]) >= 2
    entry = history["commands"][0]
    assert {"command_id", "source", "status"} <= set(entry)
    assert sdk.computers.list_command_history(running_computer["name"], limit=1)["count"] == 1


@pytest.mark.parametrize("window", ["1h", "24h"])
def test_observability(sdk: Celesto, running_computer: dict[str, Any], window: str) -> None:
    data = sdk.computers.observability(running_computer["id"], window=window)
    assert set(data) >= {"latest", "samples"}
    assert isinstance(data["samples"], list)


def test_bulk_delete(sdk: Celesto) -> None:
    first = sdk.computers.create()
    second = sdk.computers.create()
    result = sdk.computers.bulk_delete([first["id"], second["name"], "cmp_does_not_exist"])
    assert result["deleted"] == 2
    assert set(result.get("deleted_ids", [])) == {first["id"], second["id"]}
    assert result.get("failed_ids") == ["cmp_does_not_exist"]


def test_published_ports(sdk: Celesto, running_computer: dict[str, Any]) -> None:
    port = random.randint(20_000, 40_000)
    sdk.computers.exec(
        running_computer["id"],
        f"cd /tmp && echo hello-port > index.html && "
        f"(nohup python3 -m http.server {port} --bind 127.0.0.1 >/dev/null 2>&1 &)",
    )
    published = sdk.computers.publish_port(running_computer["id"], port)
    assert published["port"] == port
    assert published["computer_id"] == running_computer["id"]
    assert published["status"]
    url = published.get("url")
    assert url and url.startswith("http://127.0.0.1:")

    def body() -> str:
        try:
            return httpx.get(f"{url.rstrip('/')}/index.html", timeout=2).text
        except httpx.HTTPError:
            return ""

    assert "hello-port" in wait_until(body, lambda text: "hello-port" in text, "the page", 15)

    listed = sdk.computers.list_published_ports(running_computer["name"])
    assert port in {p["port"] for p in listed}
    removed = sdk.computers.unpublish_port(running_computer["id"], port)
    assert removed["port"] == port
    assert port not in {
        p["port"] for p in sdk.computers.list_published_ports(running_computer["id"])
    }


def test_publish_default_port(sdk: Celesto, running_computer: dict[str, Any]) -> None:
    published = sdk.computers.publish_port(running_computer["id"])
    assert published["port"] == 8000
    assert sdk.computers.unpublish_port(running_computer["id"])["port"] == 8000


def test_terminal_session_info(sdk: Celesto, running_computer: dict[str, Any]) -> None:
    info = sdk.computers.terminal(running_computer["name"])
    assert re.fullmatch(r"term_[A-Za-z0-9_-]+", info["terminal_id"])
    assert info["gateway_url"].startswith("ws://127.0.0.1:")
    assert "token=" not in info["gateway_url"]
    assert info["token"]
    assert datetime.fromisoformat(info["expires_at"].replace("Z", "+00:00")).tzinfo is not None
    again = sdk.computers.terminal(running_computer["id"], info["terminal_id"])
    assert again["terminal_id"] == info["terminal_id"]
    assert again["token"] != info["token"]


def test_unknown_computer_is_not_found(sdk: Celesto) -> None:
    with pytest.raises(CelestoNotFoundError):
        sdk.computers.terminal("cmp_does_not_exist")
