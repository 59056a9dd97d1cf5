"""Command history around exec: the insert is queued off the request path (it runs while the
agent spawns the command), the update is committed before exec answers. Neither may change
what a client sees: a running command is listed, a finished one is listed with its exit code
at once and survives the server being killed right after."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx

from tests.waiting import wait_until

CONCURRENT_EXECS = 8


def history(http: httpx.Client, computer_id: str) -> list[dict[str, Any]]:
    response = http.get(f"/v1/computers/{computer_id}/commands")
    assert response.status_code == 200, response.text
    return list(response.json()["commands"])


def test_a_running_command_is_listed(
    http: httpx.Client, running_computer_via_http: dict[str, Any]
) -> None:
    with http.stream(
        "POST",
        f"/v1/computers/{running_computer_via_http['id']}/exec/stream",
        json={"command": "echo go; sleep 60"},
    ) as response:
        command_id = response.headers["x-celesto-command-id"]
        # Held open: a dropped iterator would close the stream (and kill the command).
        lines = response.iter_lines()
        for line in lines:
            if line.startswith("data: ") and json.loads(line[6:]).get("data") == "go\n":
                break
        with httpx.Client(base_url=http.base_url, headers=http.headers) as other:
            listed = history(other, running_computer_via_http["id"])[0]
        assert (listed["command_id"], listed["status"]) == (command_id, "running"), listed
    # Closing the stream killed it; the row says how it ended.
    ended = wait_until(
        lambda: history(http, running_computer_via_http["id"])[0],
        lambda entry: entry["status"] != "running",
        "the abandoned command's row to be finished",
    )
    assert ended["command_id"] == command_id


def test_each_exec_is_listed_with_its_exit_code_when_it_answers(
    http: httpx.Client, running_computer_via_http: dict[str, Any]
) -> None:
    """Concurrent execs, each followed at once by a listing on a connection of its own."""

    def exec_then_list(number: int) -> tuple[dict[str, Any], dict[str, Any]]:
        with httpx.Client(base_url=http.base_url, headers=http.headers, timeout=90) as own:
            result = own.post(
                f"/v1/computers/{running_computer_via_http['id']}/exec",
                json={"command": f"exit {number}"},
            ).json()
            listed = {
                entry["command_id"]: entry
                for entry in history(own, running_computer_via_http["id"])
            }
            return result, listed[result["command_id"]]

    with ThreadPoolExecutor(CONCURRENT_EXECS) as pool:
        outcomes = list(pool.map(exec_then_list, range(CONCURRENT_EXECS)))
    for number, (result, entry) in enumerate(outcomes):
        assert result["exit_code"] == number
        assert (entry["status"], entry["exit_code"]) == ("completed", number)
        assert entry["duration_ms"] == result["duration_ms"]


def test_a_finished_command_survives_kill_9_right_after_exec(tmp_path: Path) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "celesto_tui", "local", "serve", "--data-dir", str(tmp_path)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        ready = json.loads(process.stdout.readline())
        headers = {"Authorization": f"Bearer {ready['api_key']}"}
        with httpx.Client(base_url=ready["base_url"], headers=headers, timeout=90) as http:
            computer_id = http.post("/v1/computers", json={}).json()["id"]
            wait_until(
                lambda: http.get(f"/v1/computers/{computer_id}").json()["status"],
                lambda status: status == "running",
                f"{computer_id} to run",
            )
            result = http.post(
                f"/v1/computers/{computer_id}/exec", json={"command": "exit 7"}
            ).json()
            process.kill()
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(30)
    db = sqlite3.connect(tmp_path / "state.db")
    row = db.execute(
        "SELECT status, exit_code FROM commands WHERE command_id = ?", (result["command_id"],)
    ).fetchone()
    db.close()
    assert row == ("completed", 7)


def test_exec_says_where_its_time_went(
    http: httpx.Client, running_computer_via_http: dict[str, Any]
) -> None:
    response = http.post(
        f"/v1/computers/{running_computer_via_http['id']}/exec", json={"command": "true"}
    )
    stages = [entry.split(";dur=")[0] for entry in response.headers["server-timing"].split(", ")]
    assert stages == ["route", "lookup", "history", "request", "spawn", "wait", "record", "respond"]
    assert http.get("/v1/health").headers["server-timing"].startswith("respond;dur=")
