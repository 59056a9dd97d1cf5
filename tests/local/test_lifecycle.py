"""Lifecycle, exec and isolation of real sandboxed computers."""

from __future__ import annotations

import os
from typing import Any

import httpx
import pytest

from celesto_api.local import LocalServer
from tests.conftest import needs_namespaces
from tests.waiting import wait_until

from .conftest import wait_status


def isolation(http: httpx.Client) -> str:
    return str(http.get("/v1/local/info").json()["isolation"])


def run(http: httpx.Client, computer_id: str, command: str, timeout: int = 30) -> dict[str, Any]:
    response = http.post(
        f"/v1/computers/{computer_id}/exec", json={"command": command, "timeout": timeout}
    )
    assert response.status_code == 200, response.text
    return dict(response.json())


def test_stop_start_delete_pass_through_transitional_states(http: httpx.Client) -> None:
    computer = http.post("/v1/computers", json={}).json()
    computer_id = computer["id"]
    assert wait_status(http, computer_id, "running")["status"] == "running"
    run(http, computer_id, "echo kept > ~/state.txt; echo lost > /tmp/t.txt")

    stopping = http.post(f"/v1/computers/{computer_id}/stop").json()
    assert stopping["status"] in ("stopping", "stopped")
    stopped = wait_status(http, computer_id, "stopped")
    assert stopped["status"] == "stopped" and stopped["stopped_at"]

    refused = http.post(f"/v1/computers/{computer_id}/exec", json={"command": "true"})
    assert refused.status_code == 409
    assert "stopped" in refused.json()["detail"]
    assert http.post(f"/v1/computers/{computer_id}/terminals").status_code == 409

    starting = http.post(f"/v1/computers/{computer_id}/start").json()
    assert starting["status"] in ("starting", "running")
    assert wait_status(http, computer_id, "running")["status"] == "running"
    result = run(http, computer_id, "cat ~/state.txt; cat /tmp/t.txt 2>/dev/null || echo gone")
    # /tmp is the computer's own except in process mode under an ordinary user.
    own_tmp = isolation(http) == "bwrap" or os.geteuid() == 0
    assert result["stdout"] == ("kept\ngone\n" if own_tmp else "kept\nlost\n")

    deleting = http.delete(f"/v1/computers/{computer_id}").json()
    assert deleting["status"] in ("deleting", "deleted")
    assert wait_status(http, computer_id, 404)["status"] == 404


def test_exec_right_after_create_waits_for_the_computer(http: httpx.Client) -> None:
    computer = http.post("/v1/computers", json={}).json()
    result = run(http, computer["id"], "echo ready")
    assert result["stdout"] == "ready\n"
    http.delete(f"/v1/computers/{computer['id']}")


def test_timeout_kills_the_whole_process_group(
    http: httpx.Client, running_computer_via_http: dict[str, Any]
) -> None:
    result = run(
        http,
        running_computer_via_http["id"],
        "sleep 100.4242 & sleep 101.4242 & sleep 102.4242; echo finished",
        timeout=1,
    )
    assert result["timed_out"] is True
    assert "finished" not in result["stdout"]
    assert result["exit_code"] != 0
    # Counted by their unique arguments: in process mode the process table is the host's,
    # where other `sleep`s may be running.
    left = run(
        http,
        running_computer_via_http["id"],
        "ps -eo args | grep -c '^sleep 10[0-2][.]4242$' || true",
    )
    assert left["stdout"].strip() == "0"


def test_background_daemon_does_not_block_exec(
    http: httpx.Client, running_computer_via_http: dict[str, Any]
) -> None:
    # Had exec waited for the daemon (it holds the output pipe), the 5 s timeout would
    # have killed it: timed_out would be True and the sleep gone.
    result = run(http, running_computer_via_http["id"], "sleep 1000 & echo started", timeout=5)
    assert result["stdout"] == "started\n"
    assert (result["exit_code"], result["timed_out"]) == (0, False)
    left = run(
        http, running_computer_via_http["id"], "ps -eo args | grep -c '^sleep 1000$' || true"
    )
    assert left["stdout"].strip() == "1"


def test_exec_output_is_utf8_and_binary_safe(
    http: httpx.Client, running_computer_via_http: dict[str, Any]
) -> None:
    result = run(
        http,
        running_computer_via_http["id"],
        "printf 'h\\303\\251llo \\360\\237\\232\\200\\n\\377\\n'",
    )
    assert result["stdout"] == "héllo 🚀\n\ufffd\n"


def test_large_output_arrives_whole(
    http: httpx.Client, running_computer_via_http: dict[str, Any]
) -> None:
    result = run(http, running_computer_via_http["id"], "seq 1 200000")
    assert result["stdout"].count("\n") == 200000
    assert result["stdout"].endswith("199999\n200000\n")


def test_command_history_newest_first(
    http: httpx.Client, running_computer_via_http: dict[str, Any]
) -> None:
    ids = [run(http, running_computer_via_http["id"], f"echo {i}")["command_id"] for i in range(3)]
    history = http.get(f"/v1/computers/{running_computer_via_http['id']}/commands").json()[
        "commands"
    ]
    assert [entry["command_id"] for entry in history[:3]] == ids[::-1]
    assert all(entry["status"] == "completed" for entry in history[:3])


def test_observability_has_real_samples(
    http: httpx.Client, running_computer_via_http: dict[str, Any]
) -> None:
    run(http, running_computer_via_http["id"], "head -c 3000000 /dev/urandom > ~/blob")
    body = wait_until(
        lambda: http.get(f"/v1/computers/{running_computer_via_http['id']}/observability").json(),
        lambda answer: answer["latest"] is not None,
        "a metrics sample",
        timeout=15,
    )
    latest = body["latest"]
    assert latest["ram_total_mb"] == running_computer_via_http["ram_mb"]
    assert latest["ram_used_mb"] >= 1
    assert latest["disk_total_mb"] == running_computer_via_http["disk_size_mb"]
    assert body["samples"][-1]["observed_at"]


class TestIsolation:
    @pytest.fixture(autouse=True)
    def _bwrap_only(self, local_server: LocalServer) -> None:
        needs_namespaces(local_server)

    def test_only_its_own_processes(
        self, http: httpx.Client, running_computer_via_http: dict[str, Any]
    ) -> None:
        result = run(http, running_computer_via_http["id"], "ps -eo pid=,args=")
        processes = {
            int(pid): args
            for pid, _, args in (
                line.strip().partition(" ") for line in result["stdout"].splitlines()
            )
        }
        # PID 1 is the computer's own agent, and nothing of the host is visible.
        assert "agent" in processes[1], processes
        assert len(processes) < 10, processes
        assert not any("pytest" in args or "uvicorn" in args for args in processes.values())

    def test_usr_is_read_only_and_hostname_is_the_name(
        self, http: httpx.Client, running_computer_via_http: dict[str, Any]
    ) -> None:
        result = run(
            http, running_computer_via_http["id"], "touch /usr/x 2>&1; hostname; id -u; echo $HOME"
        )
        lines = result["stdout"].splitlines()
        assert "Read-only file system" in lines[0]
        assert lines[1:] == [running_computer_via_http["name"], "1000", "/home/user"]

    def test_no_network_but_loopback(
        self, http: httpx.Client, running_computer_via_http: dict[str, Any]
    ) -> None:
        result = run(
            http,
            running_computer_via_http["id"],
            "ls /sys/class/net 2>/dev/null || cat /proc/net/dev",
        )
        assert "eth" not in result["stdout"]
        interfaces = run(
            http, running_computer_via_http["id"], "tail -n +3 /proc/net/dev | cut -d: -f1"
        )
        assert [name.strip() for name in interfaces["stdout"].split()] == ["lo"]

    def test_host_loopback_is_not_reachable(
        self,
        local_server: LocalServer,
        http: httpx.Client,
        running_computer_via_http: dict[str, Any],
    ) -> None:
        """The computer's 127.0.0.1 is its own: the API server listening on the host's
        loopback cannot be reached from inside."""
        port = int(local_server.base_url.rsplit(":", 1)[1])
        probe = (
            "python3 -c 'import socket,sys\n"
            "try:\n"
            f' socket.create_connection(("127.0.0.1", {port}), timeout=3)\n'
            "except OSError as e:\n"
            " print(type(e).__name__)\n"
            "else:\n"
            ' print("connected")\''
        )
        result = run(http, running_computer_via_http["id"], probe)
        assert result["stdout"].strip() == "ConnectionRefusedError", result

    def test_reports_enforced_limits(
        self, http: httpx.Client, running_computer_via_http: dict[str, Any]
    ) -> None:
        local = http.get(f"/v1/computers/{running_computer_via_http['id']}").json()["local"]
        assert local["isolation"] == "bwrap"
        assert local["enforced_limits"], "the computer says which limits hold"
