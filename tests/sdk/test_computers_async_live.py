"""Every `AsyncCelesto.computers` call against the real local backend."""

from __future__ import annotations

import asyncio
import random
from typing import Any

from celesto_api import AsyncCelesto, Celesto
from tests.waiting import await_status


async def test_lifecycle(aclient: AsyncCelesto) -> None:
    created = await aclient.computers.create(vcpus=2, ram_mb=1024, disk_size_mb=2048)
    try:
        assert (created["vcpus"], created["ram_mb"], created["disk_size_mb"]) == (2, 1024, 2048)
        await await_status(aclient, created["id"], "running")
        assert (await aclient.computers.get(created["name"]))["id"] == created["id"]
        listing = await aclient.computers.list(status="running")
        assert created["id"] in {c["id"] for c in listing["computers"]}

        stopped = await aclient.computers.stop(created["id"])
        assert stopped["status"] in ("stopping", "stopped")
        await await_status(aclient, created["id"], "stopped")
        started = await aclient.computers.start(created["name"])
        assert started["status"] in ("starting", "running")
        await await_status(aclient, created["id"], "running")
    finally:
        deleted = await aclient.computers.delete(created["id"])
    assert deleted["status"] in ("deleting", "deleted")


async def test_idempotent_create(aclient: AsyncCelesto) -> None:
    key = f"async-{random.getrandbits(64):x}"
    first, second = await asyncio.gather(
        aclient.computers.create(idempotency_key=key),
        aclient.computers.create(idempotency_key=key),
    )
    try:
        assert first["id"] == second["id"]
    finally:
        await aclient.computers.delete(first["id"])


async def test_exec_and_stream(aclient: AsyncCelesto, computer: dict[str, Any]) -> None:
    result = await aclient.computers.exec(computer["id"], "printf 'a\\nb'; exit 2")
    assert (result["exit_code"], result["stdout"]) == (2, "a\nb")

    events = [
        event
        async for event in aclient.computers.exec_stream(computer["name"], "echo out; echo err >&2")
    ]
    assert events[0]["type"] == "started"
    last: Any = events[-1]
    assert (last["type"], last["exit_code"]) == ("exit", 0)
    assert {"type": "stdout", "data": "out\n"} in events
    assert {"type": "stderr", "data": "err\n"} in events


async def test_concurrent_execs(aclient: AsyncCelesto, computer: dict[str, Any]) -> None:
    results = await asyncio.gather(
        *(aclient.computers.exec(computer["id"], f"echo {i}") for i in range(8))
    )
    assert [r["stdout"] for r in results] == [f"{i}\n" for i in range(8)]


async def test_reads(aclient: AsyncCelesto, computer: dict[str, Any]) -> None:
    await aclient.computers.exec(computer["id"], "true")
    templates = await aclient.computers.list_templates()
    assert templates and all("id" in t for t in templates)
    history = await aclient.computers.list_command_history(computer["id"], limit=5)
    assert history["count"] >= 1
    metrics = await aclient.computers.observability(computer["id"], window="24h")
    assert "samples" in metrics


async def test_ports_and_bulk_delete(aclient: AsyncCelesto, client: Celesto) -> None:
    computer = await aclient.computers.create()
    await await_status(aclient, computer["id"], "running")
    port = await aclient.computers.publish_port(computer["id"], 8080)
    assert port["port"] == 8080
    listed = await aclient.computers.list_published_ports(computer["id"])
    assert [p["port"] for p in listed] == [8080]
    removed = await aclient.computers.unpublish_port(computer["id"], 8080)
    assert removed["port"] == 8080
    result = await aclient.computers.bulk_delete([computer["id"]])
    assert result["deleted"] == 1


async def test_terminal_info_and_legacy_connection(
    aclient: AsyncCelesto, computer: dict[str, Any]
) -> None:
    info = await aclient.computers.terminal(computer["id"])
    assert info["terminal_id"].startswith("term_")
    connection = await aclient.computers.get_terminal_connection(computer["name"])
    assert connection["url"].endswith(f"/{computer['id']}/terminal")
