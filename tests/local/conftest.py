from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.waiting import wait_until


def wait_status(
    http: httpx.Client, computer_id: str, wanted: str | int, timeout: float = 30
) -> Any:
    """The computer's body once its status is ``wanted``; an HTTP error status (404 once it
    is deleted) stands for the body's status."""

    def fetch() -> Any:
        response = http.get(f"/v1/computers/{computer_id}")
        return response.json() if response.status_code == 200 else {"status": response.status_code}

    return wait_until(
        fetch, lambda body: body["status"] == wanted, f"{computer_id}: {wanted}", timeout
    )


@pytest.fixture
def running_computer_via_http(http: httpx.Client) -> Iterator[dict[str, Any]]:
    created = http.post("/v1/computers", json={})
    assert created.status_code == 201, created.text
    computer = wait_status(http, created.json()["id"], "running")
    assert computer["status"] == "running", computer
    yield computer
    http.delete(f"/v1/computers/{computer['id']}")
