"""Every range of the contract enforced by the server too, at both edges.

The requests go out through ``client.request`` (the SDK's transport without its client-side
checks), so each case proves three things at once: the local server answers 422 in the
contract's envelope, the SDK turns it into ``CelestoValidationError`` naming the field, and
the rejected request changed nothing on the server.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from celesto_api import Celesto, CelestoNotFoundError, CelestoValidationError
from celesto_api.local import LocalServer
from tests.waiting import wait_status

TOO_MANY_IDS = [f"cmp_missing{i}" for i in range(101)]

# (field the error must name, method, path below the computer or None for the root, kwargs)
# "{id}" in a body or path stands for the test computer's id.
REJECTED: list[tuple[str, str, str, dict[str, Any]]] = [
    ("vcpus", "POST", "/v1/computers", {"json": {"vcpus": 0}}),
    ("vcpus", "POST", "/v1/computers", {"json": {"vcpus": 17}}),
    ("ram_mb", "POST", "/v1/computers", {"json": {"ram_mb": 511}}),
    ("ram_mb", "POST", "/v1/computers", {"json": {"ram_mb": 32769}}),
    ("disk_size_mb", "POST", "/v1/computers", {"json": {"disk_size_mb": 511}}),
    ("disk_size_mb", "POST", "/v1/computers", {"json": {"disk_size_mb": 20481}}),
    # Size strings are the SDK's convenience; on the wire the field is whole MB.
    ("disk_size_mb", "POST", "/v1/computers", {"json": {"disk_size_mb": "2gb"}}),
    ("image", "POST", "/v1/computers", {"json": {"image": "x" * 256}}),
    ("template_id", "POST", "/v1/computers", {"json": {"template_id": "t" * 65}}),
    ("template_version", "POST", "/v1/computers", {"json": {"template_version": "v" * 129}}),
    (
        "network_policy.mode",
        "POST",
        "/v1/computers",
        {"json": {"network_policy": {"mode": "closed"}}},
    ),
    ("command", "POST", "/v1/computers/{id}/exec", {"json": {"command": ""}}),
    ("command", "POST", "/v1/computers/{id}/exec", {"json": {"command": "x" * 10_001}}),
    ("timeout", "POST", "/v1/computers/{id}/exec", {"json": {"command": "true", "timeout": 0}}),
    (
        "timeout",
        "POST",
        "/v1/computers/{id}/exec",
        {"json": {"command": "true", "timeout": 301}},
    ),
    ("command", "POST", "/v1/computers/{id}/exec/stream", {"json": {"command": "x" * 10_001}}),
    (
        "timeout",
        "POST",
        "/v1/computers/{id}/exec/stream",
        {"json": {"command": "true", "timeout": 301}},
    ),
    ("port", "POST", "/v1/computers/{id}/published-ports", {"json": {"port": 1023}}),
    ("port", "POST", "/v1/computers/{id}/published-ports", {"json": {"port": 65536}}),
    ("port", "DELETE", "/v1/computers/{id}/published-ports/1023", {}),
    ("port", "DELETE", "/v1/computers/{id}/published-ports/65536", {}),
    ("terminal_id", "POST", "/v1/computers/{id}/terminals", {"json": {"terminal_id": "term_"}}),
    (
        "terminal_id",
        "POST",
        "/v1/computers/{id}/terminals",
        {"json": {"terminal_id": "term_" + "a" * 156}},
    ),
    ("terminal_id", "POST", "/v1/computers/{id}/terminals", {"json": {"terminal_id": "abcdefg"}}),
    ("limit", "GET", "/v1/computers", {"params": {"limit": 0}}),
    ("limit", "GET", "/v1/computers", {"params": {"limit": 201}}),
    ("status", "GET", "/v1/computers", {"params": {"status": "sleeping"}}),
    ("template_id", "GET", "/v1/computers", {"params": {"template_id": "t" * 65}}),
    ("project_id", "GET", "/v1/computers", {"params": {"project_id": "p" * 37}}),
    ("limit", "GET", "/v1/computers/{id}/commands", {"params": {"limit": 0}}),
    ("limit", "GET", "/v1/computers/{id}/commands", {"params": {"limit": 201}}),
    ("window", "GET", "/v1/computers/{id}/observability", {"params": {"window": "2h"}}),
    ("window", "GET", "/v1/computers/{id}/observability", {"params": {"window": ""}}),
    ("computer_ids", "POST", "/v1/computers/bulk-delete", {"json": {"computer_ids": []}}),
    (
        "computer_ids",
        "POST",
        "/v1/computers/bulk-delete",
        {"json": {"computer_ids": ["{id}", *TOO_MANY_IDS[1:]]}},
    ),
]

RANGE_WORDING = {
    "vcpus": "between 1 and 16",
    "ram_mb": "between 512 and 32768",
    "disk_size_mb": "between 512 and 20480",
    "timeout": "between 1 and 300",
    "port": "between 1024 and 65535",
    "command": "1 to 10000 characters",
    "terminal_id": "6 to 160 characters",
    "computer_ids": "between 1 and 100",
}


def _fill(value: Any, computer_id: str) -> Any:
    if isinstance(value, str):
        return value.replace("{id}", computer_id)
    if isinstance(value, list):
        return [_fill(item, computer_id) for item in value]
    if isinstance(value, dict):
        return {key: _fill(item, computer_id) for key, item in value.items()}
    return value


def _state(client: Celesto, local_server: LocalServer, computer_id: str) -> dict[str, Any]:
    """Everything a request could have created or changed."""
    backend = local_server.backend
    assert backend is not None

    async def terminal_count() -> int:  # read on the server's own loop
        return len(backend.terminals.sessions_for(computer_id))

    return {
        "computers": {c["id"]: c["status"] for c in client.computers.list(limit=200)["computers"]},
        "commands": client.computers.list_command_history(computer_id, limit=200)["count"],
        "ports": client.computers.list_published_ports(computer_id),
        "terminals": local_server.run_coroutine(terminal_count()),
    }


@pytest.fixture(scope="module")
def target(local_server: LocalServer) -> Iterator[dict[str, Any]]:
    """One running computer shared by the module: rejected requests must not touch it."""
    with Celesto(api_key=local_server.api_key, base_url=local_server.base_url) as client:
        created = client.computers.create()
        computer = dict(wait_status(client, created["id"], "running"))
        yield computer
        client.computers.delete(created["id"])


@pytest.mark.parametrize(
    ("field", "method", "path", "kwargs"),
    REJECTED,
    ids=[f"{case[0]}-{i}" for i, case in enumerate(REJECTED)],
)
def test_server_rejects_and_changes_nothing(
    sdk: Celesto,
    local_server: LocalServer,
    target: dict[str, Any],
    field: str,
    method: str,
    path: str,
    kwargs: dict[str, Any],
) -> None:
    before = _state(sdk, local_server, target["id"])
    with pytest.raises(CelestoValidationError) as caught:
        sdk.request(method, _fill(path, target["id"]), **_fill(kwargs, target["id"]))
    error = caught.value
    assert error.status_code == 422
    assert error.field == field, error.message
    assert error.message.startswith("Validation error: ")
    assert field in error.message
    if field in RANGE_WORDING and "abcdefg" not in str(kwargs):
        assert RANGE_WORDING[field] in error.message
    if path.startswith("/v1/computers"):
        assert error.response["detail"] == "Validation error"
        assert error.response["status_code"] == 422
    assert _state(sdk, local_server, target["id"]) == before


def test_server_accepts_the_edges(sdk: Celesto, target: dict[str, Any]) -> None:
    computer_id = target["id"]
    for limit in (1, 200):
        assert sdk.request("GET", "/v1/computers", params={"limit": limit})["count"] <= limit
        history = sdk.request(
            "GET", f"/v1/computers/{computer_id}/commands", params={"limit": limit}
        )
        assert history["count"] <= limit
    for window in ("1h", "24h"):
        body = sdk.request(
            "GET", f"/v1/computers/{computer_id}/observability", params={"window": window}
        )
        assert {"latest", "samples"} <= body.keys()
    for timeout in (1, 300):
        result = sdk.request(
            "POST",
            f"/v1/computers/{computer_id}/exec",
            json={"command": "x" * 9_990 + "; echo ok", "timeout": timeout},
        )
        assert result["stdout"].endswith("ok\n")
    for port in (1024, 65535):
        published = sdk.request(
            "POST", f"/v1/computers/{computer_id}/published-ports", json={"port": port}
        )
        assert published["port"] == port
        removed = sdk.request("DELETE", f"/v1/computers/{computer_id}/published-ports/{port}")
        assert removed["status"] == "unpublished"
    # The shortest and longest well-formed terminal ids pass validation (and are unknown).
    for terminal_id in ("term_x", "term_" + "a" * 155):
        with pytest.raises(CelestoNotFoundError):
            sdk.request(
                "POST", f"/v1/computers/{computer_id}/terminals", json={"terminal_id": terminal_id}
            )
    one = sdk.request("POST", "/v1/computers/bulk-delete", json={"computer_ids": ["cmp_none"]})
    assert one == {"deleted": 0, "deleted_ids": [], "failed_ids": ["cmp_none"]}
    hundred = sdk.request(
        "POST", "/v1/computers/bulk-delete", json={"computer_ids": TOO_MANY_IDS[:100]}
    )
    assert hundred["deleted"] == 0 and len(hundred["failed_ids"]) == 100
    assert sdk.computers.get(computer_id)["status"] == "running"
