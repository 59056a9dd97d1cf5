"""Client-side validation at both edges of every range of the contract.

The clients point at a closed loopback port: a call that passes validation fails with
CelestoNetworkError (it tried to send), a call that does not raises CelestoValidationError
naming the field (and, being a different class, proves nothing was sent).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from celesto_api import (
    AsyncCelesto,
    Celesto,
    CelestoNetworkError,
    CelestoValidationError,
)

from .helpers import closed_loopback_url, drive_async, drive_sync

Call = Callable[[Any], Any]

TERM_MIN = "term_a"  # 6 characters
TERM_MAX = "term_" + "a" * 155  # 160 characters

# (field the error must name, call) for values just outside a range or otherwise invalid.
REJECTED: list[tuple[str, Call]] = [
    ("cpus", lambda c: c.computers.create(cpus=0)),
    ("cpus", lambda c: c.computers.create(cpus=17)),
    ("cpus", lambda c: c.computers.create(cpus=True)),
    ("cpus", lambda c: c.computers.create(cpus="2")),
    ("cpus", lambda c: c.computers.create(cpus=1.5)),
    ("cpus", lambda c: c.computers.create(vcpus=17)),
    ("cpus", lambda c: c.computers.create(cpus=2, vcpus=3)),
    ("memory", lambda c: c.computers.create(memory=511)),
    ("memory", lambda c: c.computers.create(memory=32769)),
    ("memory", lambda c: c.computers.create(ram_mb=511)),
    ("memory", lambda c: c.computers.create(memory=1024, ram_mb=2048)),
    ("disk", lambda c: c.computers.create(disk=511)),
    ("disk", lambda c: c.computers.create(disk=20481)),
    ("disk", lambda c: c.computers.create(disk="21gb")),
    ("disk", lambda c: c.computers.create(disk="511mb")),
    ("disk", lambda c: c.computers.create(disk="0.3gb")),
    ("disk", lambda c: c.computers.create(disk="2xb")),
    ("disk", lambda c: c.computers.create(disk="lots")),
    ("disk", lambda c: c.computers.create(disk="1tb")),
    ("disk", lambda c: c.computers.create(disk_size_mb=20481)),
    ("image", lambda c: c.computers.create(image="x" * 256)),
    ("image", lambda c: c.computers.create(image="")),
    ("template_id", lambda c: c.computers.create(template_id="t" * 65)),
    ("template_version", lambda c: c.computers.create(template_version="v" * 129)),
    ("network_policy", lambda c: c.computers.create(network_policy="closed")),
    ("network_policy", lambda c: c.computers.create(network_policy={"mode": "private"})),
    ("network_policy", lambda c: c.computers.create(network_policy={})),
    ("persistent_home", lambda c: c.computers.create(persistent_home="yes")),
    (
        "persistent_home",
        lambda c: c.computers.create(network_policy="off", persistent_home=True),
    ),
    ("computer_id", lambda c: c.computers.get("")),
    ("computer_id", lambda c: c.computers.delete("   ")),
    ("command", lambda c: c.computers.exec("cmp_x", "")),
    ("command", lambda c: c.computers.exec("cmp_x", "   ")),
    ("command", lambda c: c.computers.exec("cmp_x", "x" * 10_001)),
    ("timeout", lambda c: c.computers.exec("cmp_x", "true", timeout=0)),
    ("timeout", lambda c: c.computers.exec("cmp_x", "true", timeout=301)),
    ("command", lambda c: c.computers.exec_stream("cmp_x", "x" * 10_001)),
    ("timeout", lambda c: c.computers.exec_stream("cmp_x", "true", timeout=0)),
    ("timeout", lambda c: c.computers.exec_stream("cmp_x", "true", timeout=301)),
    ("limit", lambda c: c.computers.list(limit=0)),
    ("limit", lambda c: c.computers.list(limit=201)),
    ("status", lambda c: c.computers.list(status="sleeping")),
    ("template_id", lambda c: c.computers.list(template_id="t" * 65)),
    ("project_id", lambda c: c.computers.list(project_id="p" * 37)),
    ("limit", lambda c: c.computers.list_command_history("cmp_x", limit=0)),
    ("limit", lambda c: c.computers.list_command_history("cmp_x", limit=201)),
    ("window", lambda c: c.computers.observability("cmp_x", window="2h")),
    ("computer_ids", lambda c: c.computers.bulk_delete([])),
    ("computer_ids", lambda c: c.computers.bulk_delete([f"cmp_{i}" for i in range(101)])),
    ("computer_ids", lambda c: c.computers.bulk_delete("cmp_x")),
    ("computer_ids", lambda c: c.computers.bulk_delete([""])),
    ("port", lambda c: c.computers.publish_port("cmp_x", 1023)),
    ("port", lambda c: c.computers.publish_port("cmp_x", 65536)),
    ("port", lambda c: c.computers.unpublish_port("cmp_x", 1023)),
    ("port", lambda c: c.computers.unpublish_port("cmp_x", 65536)),
    ("terminal_id", lambda c: c.computers.terminal("cmp_x", "term_")),
    ("terminal_id", lambda c: c.computers.terminal("cmp_x", TERM_MAX + "a")),
    ("terminal_id", lambda c: c.computers.terminal("cmp_x", "tern_abc")),
    ("terminal_id", lambda c: c.computers.terminal("cmp_x", "term_a b")),
    ("terminal_id", lambda c: c.computers.open_terminal("cmp_x", "bogus")),
    ("cols", lambda c: c.computers.open_terminal("cmp_x", cols="80")),
    ("name", lambda c: c.deployment.get("")),
    ("limit", lambda c: c.projects.list(limit=0)),
    ("path", lambda c: c.request("GET", "v1/computers")),
]

# Values just inside every range: validation passes and the call reaches the network.
ACCEPTED: list[Call] = [
    lambda c: c.computers.create(),
    lambda c: c.computers.create(cpus=1, memory=512, disk=512),
    lambda c: c.computers.create(cpus=16, memory=32768, disk=20480),
    lambda c: c.computers.create(vcpus=16, ram_mb=32768, disk_size_mb=20480),
    lambda c: c.computers.create(cpus=2, vcpus=2),
    lambda c: c.computers.create(disk="20gb"),
    lambda c: c.computers.create(disk="0.5GB"),
    lambda c: c.computers.create(disk="512 MiB"),
    lambda c: c.computers.create(disk="2048"),
    lambda c: c.computers.create(image="x" * 255, template_id="t" * 64),
    lambda c: c.computers.create(template_version="v" * 128),
    lambda c: c.computers.create(network_policy="open", persistent_home=True),
    lambda c: c.computers.create(network_policy={"mode": "off"}),
    lambda c: c.computers.exec("cmp_x", "x"),
    lambda c: c.computers.exec("cmp_x", "x" * 10_000, timeout=1),
    lambda c: c.computers.exec("einstein", "true", timeout=300),
    lambda c: c.computers.exec_stream("cmp_x", "true", timeout=300),
    lambda c: c.computers.list(limit=1),
    lambda c: c.computers.list(limit=200, status="running", project_id="p" * 36),
    lambda c: c.computers.list_command_history("cmp_x", limit=1),
    lambda c: c.computers.list_command_history("cmp_x", limit=200),
    lambda c: c.computers.observability("cmp_x", window="1h"),
    lambda c: c.computers.observability("cmp_x", window="24h"),
    lambda c: c.computers.bulk_delete(["cmp_x"]),
    lambda c: c.computers.bulk_delete([f"cmp_{i}" for i in range(100)]),
    lambda c: c.computers.publish_port("cmp_x", 1024),
    lambda c: c.computers.publish_port("cmp_x", 65535),
    lambda c: c.computers.unpublish_port("cmp_x", 1024),
    lambda c: c.computers.unpublish_port("cmp_x", 65535),
    lambda c: c.computers.terminal("cmp_x", TERM_MIN),
    lambda c: c.computers.terminal("cmp_x", TERM_MAX),
    lambda c: c.computers.terminal("cmp_x"),
    lambda c: c.computers.open_terminal("cmp_x", cols=0, rows=-5),
    lambda c: c.deployment.get("weather-agent"),
]


@pytest.fixture
def offline_sdk() -> Iterator[Celesto]:
    with Celesto(api_key="test-key", base_url=closed_loopback_url(), max_retries=0) as client:
        yield client


@pytest.fixture
async def offline_async_sdk() -> Any:
    async with AsyncCelesto(
        api_key="test-key", base_url=closed_loopback_url(), max_retries=0
    ) as client:
        yield client


@pytest.mark.parametrize(("field", "call"), REJECTED)
def test_sync_rejects_before_sending(offline_sdk: Celesto, field: str, call: Call) -> None:
    with pytest.raises(CelestoValidationError) as caught:
        drive_sync(call(offline_sdk))
    assert caught.value.field == field
    assert field in caught.value.message
    assert caught.value.status_code is None


@pytest.mark.parametrize(("field", "call"), REJECTED)
async def test_async_rejects_before_sending(
    offline_async_sdk: AsyncCelesto, field: str, call: Call
) -> None:
    with pytest.raises(CelestoValidationError) as caught:
        await drive_async(call(offline_async_sdk))
    assert caught.value.field == field
    assert field in caught.value.message


@pytest.mark.parametrize("call", ACCEPTED)
def test_sync_accepts_inside_edges(offline_sdk: Celesto, call: Call) -> None:
    with pytest.raises(CelestoNetworkError):
        drive_sync(call(offline_sdk))


@pytest.mark.parametrize("call", ACCEPTED)
async def test_async_accepts_inside_edges(offline_async_sdk: AsyncCelesto, call: Call) -> None:
    with pytest.raises(CelestoNetworkError):
        await drive_async(call(offline_async_sdk))


@pytest.mark.parametrize(
    ("call", "expected"),
    [
        (lambda c: c.computers.create(cpus=17), "cpus must be between 1 and 16 (got 17)"),
        (
            lambda c: c.computers.create(memory=511),
            "memory must be between 512 and 32768 (got 511)",
        ),
        (
            lambda c: c.computers.create(disk="21gb"),
            "disk must be between 512 and 20480 (got 21504)",
        ),
        (
            lambda c: c.computers.exec("cmp_x", "true", timeout=301),
            "timeout must be between 1 and 300 (got 301)",
        ),
        (
            lambda c: c.computers.publish_port("cmp_x", 80),
            "port must be between 1024 and 65535 (got 80)",
        ),
        (
            lambda c: c.computers.exec("cmp_x", "x" * 10_001),
            "command must be 1 to 10000 characters long (got 10001)",
        ),
    ],
)
def test_messages_name_field_and_range(offline_sdk: Celesto, call: Call, expected: str) -> None:
    with pytest.raises(CelestoValidationError) as caught:
        call(offline_sdk)
    assert caught.value.message == expected


def test_deploy_checks_folder_and_name(offline_sdk: Celesto, tmp_path: Path) -> None:
    with pytest.raises(CelestoValidationError) as caught:
        offline_sdk.deployment.deploy(folder=tmp_path / "missing", name="app")
    assert caught.value.field == "folder"
    a_file = tmp_path / "file.txt"
    a_file.write_text("x")
    with pytest.raises(CelestoValidationError) as caught:
        offline_sdk.deployment.deploy(folder=a_file, name="app")
    assert caught.value.field == "folder"
    with pytest.raises(CelestoValidationError) as caught:
        offline_sdk.deployment.deploy(folder=tmp_path, name="  ")
    assert caught.value.field == "name"
    with pytest.raises(CelestoValidationError) as caught:
        offline_sdk.deployment.deploy(folder=tmp_path, name="app", envs={"K": 1})  # type: ignore[dict-item]
    assert caught.value.field == "envs"
    # Valid arguments get as far as resolving the project over the network.
    with pytest.raises(CelestoNetworkError):
        offline_sdk.deployment.deploy(folder=tmp_path, name="app", envs={"K": "v"})


async def test_async_deploy_checks_folder(offline_async_sdk: AsyncCelesto, tmp_path: Path) -> None:
    with pytest.raises(CelestoValidationError) as caught:
        await offline_async_sdk.deployment.deploy(folder=tmp_path / "missing", name="app")
    assert caught.value.field == "folder"
    with pytest.raises(CelestoNetworkError):
        await offline_async_sdk.deployment.deploy(folder=tmp_path, name="app")
