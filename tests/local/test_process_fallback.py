"""Without bubblewrap the backend still works, as plain processes, and says so."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from celesto_api.local import LocalServer


@pytest.fixture(scope="module")
def process_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalServer]:
    data_dir: Path = tmp_path_factory.mktemp("process-backend")
    with LocalServer(data_dir=data_dir, isolation="process") as server:
        yield server


def test_process_isolation_end_to_end(process_server: LocalServer) -> None:
    assert process_server.isolation == "process"
    headers = {"Authorization": f"Bearer {process_server.api_key}"}
    with httpx.Client(base_url=process_server.base_url, headers=headers, timeout=30) as http:
        assert http.get("/v1/local/info").json()["isolation"] == "process"
        computer = http.post("/v1/computers", json={}).json()
        deadline = time.monotonic() + 30
        while http.get(f"/v1/computers/{computer['id']}").json()["status"] != "running":
            assert time.monotonic() < deadline
            time.sleep(0.02)
        detail = http.get(f"/v1/computers/{computer['id']}").json()
        assert detail["local"]["isolation"] == "process"
        result = http.post(
            f"/v1/computers/{computer['id']}/exec", json={"command": "echo $HOME; pwd"}
        ).json()
        home = result["stdout"].splitlines()[0]
        assert home.endswith(f"{computer['id']}/home")
        http.post(
            f"/v1/computers/{computer['id']}/exec",
            json={"command": "echo kept > ~/f; setsid sleep 1000 >/dev/null 2>&1 &"},
        )
        http.post(f"/v1/computers/{computer['id']}/stop")
        while http.get(f"/v1/computers/{computer['id']}").json()["status"] != "stopped":
            assert time.monotonic() < deadline
            time.sleep(0.02)
        assert (Path(home) / "f").read_text() == "kept\n"
        http.delete(f"/v1/computers/{computer['id']}")
