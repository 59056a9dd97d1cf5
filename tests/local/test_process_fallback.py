"""Without bubblewrap the backend still works, as plain processes, and says so."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from celesto_api.local import LocalServer

# An unusual duration marks the test's daemon among the host's processes.
DAEMON_SECONDS = 987_653


def _daemons() -> list[int]:
    found = []
    for name in os.listdir("/proc"):
        try:
            cmdline = Path(f"/proc/{name}/cmdline").read_bytes()
        except OSError:
            continue
        if cmdline.split(b"\0")[:2] == [b"sleep", str(DAEMON_SECONDS).encode()]:
            found.append(int(name))
    return found


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
            json={"command": f"echo kept > ~/f; setsid sleep {DAEMON_SECONDS} >/dev/null 2>&1 &"},
        )
        while not _daemons():  # it is a plain host process, visible from here
            assert time.monotonic() < deadline, "the daemon never appeared"
            time.sleep(0.02)
        http.post(f"/v1/computers/{computer['id']}/stop")
        while http.get(f"/v1/computers/{computer['id']}").json()["status"] != "stopped":
            assert time.monotonic() < deadline
            time.sleep(0.02)
        assert (Path(home) / "f").read_text() == "kept\n"
        # Stop found it although it left the computer's session.
        assert _daemons() == []
        http.delete(f"/v1/computers/{computer['id']}")
