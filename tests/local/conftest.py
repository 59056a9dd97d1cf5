from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from celesto_api.local import LocalServer


@pytest.fixture
def http(local_server: LocalServer) -> Iterator[httpx.Client]:
    """A raw HTTP client: wire-level checks without the SDK in between."""
    with httpx.Client(
        base_url=local_server.base_url,
        headers={"Authorization": f"Bearer {local_server.api_key}"},
        timeout=60,
    ) as client:
        yield client


def wait_status(http: httpx.Client, computer_id: str, wanted: str, timeout: float = 30) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        response = http.get(f"/v1/computers/{computer_id}")
        body = response.json() if response.status_code == 200 else {"status": response.status_code}
        if body["status"] == wanted or time.monotonic() > deadline:
            return body
        time.sleep(0.01)


@pytest.fixture
def running(http: httpx.Client) -> Iterator[dict[str, Any]]:
    created = http.post("/v1/computers", json={})
    assert created.status_code == 201, created.text
    computer = wait_status(http, created.json()["id"], "running")
    assert computer["status"] == "running", computer
    yield computer
    http.delete(f"/v1/computers/{computer['id']}")
