"""The local server at the wire: status codes, shapes and errors exactly as the contract."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from celesto_api.local import LocalServer

from .conftest import wait_status

REQUIRED_COMPUTER_KEYS = {
    "id",
    "name",
    "status",
    "vcpus",
    "ram_mb",
    "disk_size_mb",
    "image",
    "compute_location",
    "created_at",
    "template_id",
    "published_ports",
    "network_policy",
}


def test_health_needs_no_key(local_server: LocalServer) -> None:
    response = httpx.get(f"{local_server.base_url}/health")
    assert response.status_code == 200


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer wrong"}, {"Authorization": "Basic abc"}],
    ids=["missing", "wrong", "not-bearer"],
)
def test_every_route_needs_the_key(local_server: LocalServer, headers: dict[str, str]) -> None:
    for method, path in (
        ("GET", "/v1/computers"),
        ("POST", "/v1/computers"),
        ("GET", "/v1/projects/"),
        ("GET", "/v1/nope"),
    ):
        response = httpx.request(method, f"{local_server.base_url}{path}", headers=headers)
        assert response.status_code == 401, (method, path)
        assert "detail" in response.json()
        assert local_server.api_key not in response.text


def test_create_answers_201_with_every_required_field(http: httpx.Client) -> None:
    response = http.post("/v1/computers", json={"vcpus": 2, "ram_mb": 2048})
    assert response.status_code == 201
    computer = response.json()
    assert computer.keys() >= REQUIRED_COMPUTER_KEYS
    assert re.fullmatch(r"cmp_[0-9a-f]+", computer["id"])
    assert re.fullmatch(r"[a-z]+(-\d+)?", computer["name"])
    assert computer["status"] in ("creating", "running")
    assert computer["compute_location"] == {
        "provider": "local",
        "region": "local",
        "country_code": None,
    }
    assert computer["network_policy"] == {"mode": "open"}
    assert computer["published_ports"] == []
    assert (computer["vcpus"], computer["ram_mb"]) == (2, 2048)
    running = wait_status(http, computer["id"], "running")
    assert running["status"] == "running"
    assert http.delete(f"/v1/computers/{computer['id']}").status_code == 200


def test_lookup_by_id_or_name(
    http: httpx.Client, running_computer_via_http: dict[str, Any]
) -> None:
    by_id = http.get(f"/v1/computers/{running_computer_via_http['id']}").json()
    by_name = http.get(f"/v1/computers/{running_computer_via_http['name']}").json()
    assert by_id["id"] == by_name["id"] == running_computer_via_http["id"]


def test_unknown_computer_is_404(http: httpx.Client) -> None:
    for method, path in (
        ("GET", "/v1/computers/cmp_nope"),
        ("DELETE", "/v1/computers/nope"),
        ("POST", "/v1/computers/nope/stop"),
        ("POST", "/v1/computers/nope/start"),
        ("GET", "/v1/computers/nope/published-ports"),
        ("GET", "/v1/computers/nope/commands"),
    ):
        response = http.request(method, path)
        assert response.status_code == 404, (method, path)
        assert "nope" in response.json()["detail"]
    response = http.post("/v1/computers/nope/exec", json={"command": "true"})
    assert response.status_code == 404


def _ids(http: httpx.Client) -> set[str]:
    listing = http.get("/v1/computers", params={"limit": 200}).json()
    return {computer["id"] for computer in listing["computers"]}


@pytest.mark.parametrize(
    ("field", "low", "high"),
    [("vcpus", 1, 16), ("ram_mb", 512, 32768), ("disk_size_mb", 512, 20480)],
)
def test_create_ranges_at_both_edges(http: httpx.Client, field: str, low: int, high: int) -> None:
    before = _ids(http)
    for bad, error_type in ((low - 1, "greater_than_equal"), (high + 1, "less_than_equal")):
        response = http.post("/v1/computers", json={field: bad})
        assert response.status_code == 422
        body = response.json()
        assert body["detail"] == "Validation error" and body["status_code"] == 422
        assert body["errors"][0]["loc"] == ["body", field]
        assert body["errors"][0]["type"] == error_type
    assert not _ids(http) - before, "a rejected create must create nothing"
    for good in (low, high):
        response = http.post(
            "/v1/computers", json={field: good, "vcpus": 1} if field != "vcpus" else {field: good}
        )
        assert response.status_code == 201, response.text
        assert response.json()[field] == good
        http.delete(f"/v1/computers/{response.json()['id']}")


def test_create_rejects_bad_types_and_modes(http: httpx.Client) -> None:
    cases = [
        ({"vcpus": "many"}, "int_parsing"),
        ({"network_policy": {"mode": "closed"}}, "literal_error"),
        ({"image": "x" * 256}, "string_too_long"),
        ({"template_id": "t" * 65}, "string_too_long"),
        ({"external_volume_enabled": "perhaps"}, "bool_parsing"),
    ]
    for body, error_type in cases:
        response = http.post("/v1/computers", json=body)
        assert response.status_code == 422, body
        assert response.json()["errors"][0]["type"] == error_type


def test_unknown_template_is_rejected(http: httpx.Client) -> None:
    response = http.post("/v1/computers", json={"template_id": "gpu-box"})
    assert response.status_code == 400
    assert "scratch" in response.json()["detail"]


def test_templates(http: httpx.Client) -> None:
    templates = http.get("/v1/computers/templates").json()
    ids = {t["id"] for t in templates}
    assert {"scratch", "coding-agent"} <= ids
    for template in templates:
        assert {
            "id",
            "display_name",
            "description",
            "default_vcpus",
            "default_ram_mb",
            "default_disk_size_mb",
        } <= template.keys()


def test_list_filters_and_limit_edges(
    http: httpx.Client, running_computer_via_http: dict[str, Any]
) -> None:
    listing = http.get("/v1/computers", params={"status": "running"}).json()
    assert running_computer_via_http["id"] in {c["id"] for c in listing["computers"]}
    assert listing["count"] == len(listing["computers"])
    assert http.get("/v1/computers", params={"status": "stopped"}).json()["computers"] == [] or all(
        c["status"] == "stopped"
        for c in http.get("/v1/computers", params={"status": "stopped"}).json()["computers"]
    )
    assert http.get("/v1/computers", params={"limit": 1}).json()["count"] <= 1
    assert http.get("/v1/computers", params={"limit": 200}).status_code == 200
    for bad in (0, 201):
        response = http.get("/v1/computers", params={"limit": bad})
        assert response.status_code == 422
        assert response.json()["errors"][0]["loc"] == ["query", "limit"]
    assert http.get("/v1/computers", params={"status": "sleeping"}).status_code == 422


def test_idempotency_key_returns_the_same_computer(http: httpx.Client) -> None:
    headers = {"Idempotency-Key": "7f3c0c1e2d4b4a5f9e8d7c6b5a493827"}
    first = http.post("/v1/computers", json={"vcpus": 1}, headers=headers)
    second = http.post("/v1/computers", json={"vcpus": 1}, headers=headers)
    assert first.status_code == second.status_code == 201
    assert first.json()["id"] == second.json()["id"]
    conflict = http.post("/v1/computers", json={"vcpus": 2}, headers=headers)
    assert conflict.status_code == 409
    assert conflict.json()["detail"]["error_code"] == "idempotency_conflict"
    http.delete(f"/v1/computers/{first.json()['id']}")


def test_exec_ranges_at_both_edges(
    http: httpx.Client, running_computer_via_http: dict[str, Any]
) -> None:
    path = f"/v1/computers/{running_computer_via_http['id']}/exec"
    for body, field, error_type in (
        ({"command": ""}, "command", "string_too_short"),
        ({"command": "x" * 10_001}, "command", "string_too_long"),
        ({"command": "true", "timeout": 0}, "timeout", "greater_than_equal"),
        ({"command": "true", "timeout": 301}, "timeout", "less_than_equal"),
        ({}, "command", "missing"),
    ):
        response = http.post(path, json=body)
        assert response.status_code == 422, body
        error = response.json()["errors"][0]
        assert (error["loc"], error["type"]) == (["body", field], error_type)
    for body in (
        {"command": "true", "timeout": 1},
        {"command": "true", "timeout": 300},
        {"command": ":" + " " * 9_999},
    ):
        assert http.post(path, json=body).status_code == 200, body


def test_exec_result_shape(http: httpx.Client, running_computer_via_http: dict[str, Any]) -> None:
    response = http.post(
        f"/v1/computers/{running_computer_via_http['name']}/exec",
        json={"command": "echo out; echo err >&2; exit 3"},
    )
    assert response.status_code == 200
    result = response.json()
    assert result["stdout"] == "out\n" and result["stderr"] == "err\n"
    assert result["exit_code"] == 3 and result["timed_out"] is False
    assert result["command_id"].startswith("cmd_") and result["duration_ms"] >= 0
    history = http.get(
        f"/v1/computers/{running_computer_via_http['id']}/commands", params={"limit": 1}
    ).json()
    assert history["count"] == 1
    entry = history["commands"][0]
    assert entry["command_id"] == result["command_id"]
    assert (entry["exit_code"], entry["stdout_bytes"], entry["stderr_bytes"]) == (3, 4, 4)
    for bad in (0, 201):
        assert (
            http.get(
                f"/v1/computers/{running_computer_via_http['id']}/commands", params={"limit": bad}
            ).status_code
            == 422
        )


def test_exec_stream_is_sse(http: httpx.Client, running_computer_via_http: dict[str, Any]) -> None:
    with http.stream(
        "POST",
        f"/v1/computers/{running_computer_via_http['id']}/exec/stream",
        json={"command": "echo a; echo b >&2"},
        headers={"Accept": "text/event-stream"},
    ) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        command_id = response.headers["x-celesto-command-id"]
        text = "".join(response.iter_text())
    import json

    events = [json.loads(line[6:]) for line in text.split("\n") if line.startswith("data: ")]
    assert events[0]["type"] == "started" and events[0]["command_id"] == command_id
    assert {"type": "stdout", "data": "a\n"} in events
    assert {"type": "stderr", "data": "b\n"} in events
    assert events[-1]["type"] == "exit" and events[-1]["exit_code"] == 0


def test_observability_window_edges(
    http: httpx.Client, running_computer_via_http: dict[str, Any]
) -> None:
    for window in ("1h", "24h"):
        response = http.get(
            f"/v1/computers/{running_computer_via_http['id']}/observability",
            params={"window": window},
        )
        assert response.status_code == 200
        assert {"latest", "samples"} <= response.json().keys()
    assert (
        http.get(
            f"/v1/computers/{running_computer_via_http['id']}/observability",
            params={"window": "2h"},
        ).status_code
        == 422
    )


def test_published_port_edges_and_limit(
    http: httpx.Client, running_computer_via_http: dict[str, Any]
) -> None:
    path = f"/v1/computers/{running_computer_via_http['id']}/published-ports"
    for bad in (1023, 65536):
        response = http.post(path, json={"port": bad})
        assert response.status_code == 422
        assert response.json()["errors"][0]["loc"] == ["body", "port"]
    for port in (1024, 65535, 8000, 8001):
        response = http.post(path, json={"port": port, "force": False})
        assert response.status_code == 200, response.text
        record = response.json()
        assert record["status"] == "published" and record["port"] == port
        assert record["url"].startswith("http://127.0.0.1:")
    again = http.post(path, json={"port": 8000})
    assert again.status_code == 200, "re-publishing is idempotent"
    fifth = http.post(path, json={"port": 9000})
    assert fifth.status_code == 400 and "4" in fifth.json()["detail"]
    assert len(http.get(path).json()) == 4
    removed = http.delete(f"{path}/8000")
    assert removed.status_code == 200 and removed.json()["status"] == "unpublished"
    assert http.delete(f"{path}/8000").status_code == 200, "removing an absent route succeeds"
    assert http.delete(f"{path}/1023").status_code == 422


def test_bulk_delete_edges(http: httpx.Client) -> None:
    assert http.post("/v1/computers/bulk-delete", json={"computer_ids": []}).status_code == 422
    too_many = {"computer_ids": [f"cmp_{i}" for i in range(101)]}
    assert http.post("/v1/computers/bulk-delete", json=too_many).status_code == 422
    created = http.post("/v1/computers", json={}).json()
    result = http.post(
        "/v1/computers/bulk-delete", json={"computer_ids": [created["id"], "cmp_missing"]}
    ).json()
    assert result == {"deleted": 1, "deleted_ids": [created["id"]], "failed_ids": ["cmp_missing"]}
    assert wait_status(http, created["id"], 404)["status"] == 404


def test_projects_have_the_trailing_slash_and_never_redirect(http: httpx.Client) -> None:
    response = http.get("/v1/projects/", params={"skip": 0, "limit": 1})
    assert response.status_code == 200
    body = response.json()
    assert body["total"] == 1 and body["data"][0]["is_default"] is True
    assert {
        "name",
        "id",
        "organization_id",
        "slug",
        "created_by",
        "created_at",
        "updated_at",
    } <= body["data"][0].keys()


def test_request_id_header(http: httpx.Client) -> None:
    response = http.get("/v1/computers")
    assert re.fullmatch(r"[0-9a-f]{32}", response.headers["x-request-id"])


def test_oversized_body_is_413(
    http: httpx.Client, running_computer_via_http: dict[str, Any]
) -> None:
    response = http.post(
        f"/v1/computers/{running_computer_via_http['id']}/exec",
        content=b'{"command": "' + b"x" * (1024 * 1024 + 10) + b'"}',
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 413


def test_oversized_body_without_length_is_413_and_runs_nothing(
    http: httpx.Client, running_computer_via_http: dict[str, Any]
) -> None:
    def chunks() -> Any:
        yield b'{"command": "touch ~/ran; echo '
        for _ in range(17):
            yield b"x" * 65536
        yield b'"}'

    path = f"/v1/computers/{running_computer_via_http['id']}/exec"
    response = http.post(path, content=chunks(), headers={"content-type": "application/json"})
    assert response.status_code == 413
    assert "content-length" not in response.request.headers
    check = http.post(path, json={"command": "test -e ~/ran && echo ran || echo clean"})
    assert check.json()["stdout"] == "clean\n"


def test_browser_and_display_are_refused_with_409_not_404(
    http: httpx.Client, running_computer_via_http: dict[str, Any]
) -> None:
    for path, body in (("browser", None), ("display", {"mode": "read_write"}), ("display", None)):
        response = http.post(f"/v1/computers/{running_computer_via_http['name']}/{path}", json=body)
        assert response.status_code == 409, (path, response.text)
        assert "no graphical template" in response.json()["detail"]
    bad_mode = http.post(
        f"/v1/computers/{running_computer_via_http['id']}/display", json={"mode": "full"}
    )
    assert bad_mode.status_code == 422
    assert bad_mode.json()["errors"][0]["loc"] == ["body", "mode"]
    assert http.post("/v1/computers/nope/browser").status_code == 404


def test_the_projects_organization_is_served(http: httpx.Client) -> None:
    project = http.get("/v1/projects/", params={"skip": 0, "limit": 1}).json()["data"][0]
    organization = http.get(f"/v1/organizations/{project['organization_id']}")
    assert organization.status_code == 200
    body = organization.json()
    assert body["id"] == project["organization_id"]
    assert body.keys() >= {"name", "id", "created_at", "updated_at", "billing_status"}
    assert http.get("/v1/organizations/00000000-0000-4000-8000-00000000ffff").status_code == 404
