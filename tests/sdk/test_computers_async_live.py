"""Every `AsyncCelesto.computers` call against the real local backend."""

from __future__ import annotations

import asyncio
import random
from typing import Any

from celesto_api import AsyncCelesto, Celesto
from tests.waiting import await_status


async def test_lifecycle(async_sdk: AsyncCelesto) -> None:
    created = await async_sdk.computers.create(vcpus=2, ram_mb=1024, disk_size_mb=2048)
    try:
        assert (created["vcpus"], created["ram_mb"], created["disk_size_mb"]) == (2, 1024, 2048)
        await await_status(async_sdk, created["id"], "running")
        assert (await async_sdk.computers.get(created["name"]))["id"] == created["id"]
        listing = await async_sdk.computers.list(status="running")
        assert created["id"] in {c["id"] for c in listing["computers"]}

        stopped = await async_sdk.computers.stop(created["id"])
        assert stopped["status"] in ("stopping", "stopped")
        await await_status(async_sdk, created["id"], "stopped")
        started = await async_sdk.computers.start(created["name"])
        assert started["status"] in ("starting", "running")
        await await_status(async_sdk, created["id"], "running")
    finally:
        deleted = await async_sdk.computers.delete(created["id"])
    assert deleted["status"] in ("deleting", "deleted")


async def test_idempotent_create(async_sdk: AsyncCelesto) -> None:
    key = f"async-{random.getrandbits(64):x}"
    first, second = await asyncio.gather(
        async_sdk.computers.create(idempotency_key=key),
        async_sdk.computers.create(idempotency_key=key),
    )
    try:
        assert first["id"] == second["id"]
    finally:
        await async_sdk.computers.delete(first["id"])


async def test_exec_and_stream(async_sdk: AsyncCelesto, running_computer: dict[str, Any]) -> None:
    result = await async_sdk.computers.exec(running_computer["id"], "printf 'a\\nb'; exit 2")
    assert (result["exit_code"], result["stdout"]) == (2, "a\nb")

    events = [
        event
        async for event in async_sdk.computers.exec_stream(
            running_computer["name"], "echo out; echo err >&2"
        )
    ]
    assert events[0]["type"] == "started"
    last: Any = events[-1]
    assert (last["type"], last["exit_code"]) == ("exit", 0)
    assert {"type": "stdout", "data": "out\n"} in events
    assert {"type": "stderr", "data": "err\n"} in events


async def test_concurrent_execs(async_sdk: AsyncCelesto, running_computer: dict[str, Any]) -> None:
    results = await asyncio.gather(
        *(async_sdk.computers.exec(running_computer["id"], f"echo {i}") for i in range(8))
    )
    assert [r["stdout"] for r in results] == [f"{i}\n" for i in range(8)]


async def test_reads(async_sdk: AsyncCelesto, running_computer: dict[str, Any]) -> None:
    await async_sdk.computers.exec(running_computer["id"], "true")
    templates = await async_sdk.computers.list_templates()
    assert templates and all("id" in t for t in templates)
    history = await async_sdk.computers.list_command_history(running_computer["id"], limit=5)
    assert history["count"] >= 1
    metrics = await async_sdk.computers.observability(running_computer["id"], window="24h")
    assert "samples" in metrics


async def test_ports_and_bulk_delete(async_sdk: AsyncCelesto, sdk: Celesto) -> None:
    computer = await async_sdk.computers.create()
    await await_status(async_sdk, computer["id"], "running")
    port = await async_sdk.computers.publish_port(computer["id"], 8080)
    assert port["port"] == 8080
    listed = await async_sdk.computers.list_published_ports(computer["id"])
    assert [p["port"] for p in listed] == [8080]
    removed = await async_sdk.computers.unpublish_port(computer["id"], 8080)
    assert removed["port"] == 8080
    result = await async_sdk.computers.bulk_delete([computer["id"]])
    assert result["deleted"] == 1


async def test_terminal_info_and_legacy_connection(
    async_sdk: AsyncCelesto, running_computer: dict[str, Any]
) -> None:
    info = await async_sdk.computers.terminal(running_computer["id"])
    assert info["terminal_id"].startswith("term_")
    connection = await async_sdk.computers.get_terminal_connection(running_computer["name"])
    assert connection["url"].endswith(f"/{running_computer['id']}/terminal")
