"""Stopping a LocalServer, now without uvicorn's 100 ms ticks, still stops its computers:
no process they started outlives it."""

from __future__ import annotations

from pathlib import Path

from celesto_api import Celesto
from celesto_api.local import LocalServer

MARKER = "31337.25"  # an unusual sleep argument, to find the process in /proc


def _processes_with_marker() -> list[str]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue  # it ended meanwhile
        if f"sleep {MARKER}" in command:
            found.append(f"{entry.name}: {command}")
    return found


def test_stop_ends_the_processes_of_running_computers(tmp_path: Path) -> None:
    with (
        LocalServer(data_dir=tmp_path / "data") as server,
        Celesto(api_key=server.api_key, base_url=server.base_url) as client,
    ):
        computer = client.computers.create()
        result = client.computers.exec(
            computer["id"], f"nohup sleep {MARKER} >/dev/null 2>&1 & echo started"
        )
        assert "started" in result["stdout"]
        assert _processes_with_marker(), "the computer's process should be running"
    assert _processes_with_marker() == []
