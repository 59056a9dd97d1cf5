"""A computer whose agent dies under a command (killed on the host, as the OOM killer does)
is reported as a computer error with the reason, never as a network error."""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from celesto_api import Celesto, CelestoConflictError, CelestoError
from celesto_api.local import LocalServer
from celesto_tui.model.errors import explain
from tests.sandbox.helpers import host_processes_with, unique_sleep
from tests.waiting import wait_until

from .conftest import HealthProbe, wait_status


def once_running(command: str, then: Callable[[], object]) -> threading.Thread:
    """Call ``then`` (in a thread) once ``command`` runs: the caller meanwhile waits for
    the command's answer."""

    def act() -> None:
        wait_until(lambda: host_processes_with(command), what=f"{command!r} to run")
        then()

    thread = threading.Thread(target=act, daemon=True)
    thread.start()
    return thread


def kill_agent_soon(local_server: LocalServer, computer_id: str, command: str) -> threading.Thread:
    """SIGKILL the computer's agent from the host once its command runs."""
    assert local_server.backend is not None
    sandbox = local_server.backend.computers.sandbox(computer_id)
    assert sandbox is not None
    pid = sandbox.host_pid  # type: ignore[attr-defined]
    return once_running(command, lambda: os.kill(pid, signal.SIGKILL))


def check_reported(error: CelestoError, name: str) -> None:
    text = explain(error)
    assert not text.startswith("Cannot reach"), text
    assert f"Computer '{name}' failed while the command was running" in text, text
    assert "killed by SIGKILL" in text, text


@pytest.mark.parametrize("stream", [False, True], ids=["exec", "exec-stream"])
def test_a_dead_agent_is_a_computer_error_with_its_reason(
    health_probe: HealthProbe,
    http: httpx.Client,
    sdk: Celesto,
    local_server: LocalServer,
    running_computer_via_http: dict[str, Any],
    stream: bool,
) -> None:
    command = unique_sleep(30)
    killer = kill_agent_soon(local_server, running_computer_via_http["id"], command)
    with pytest.raises(CelestoConflictError) as caught:
        if stream:
            list(sdk.computers.exec_stream(running_computer_via_http["id"], command, timeout=60))
        else:
            sdk.computers.exec(running_computer_via_http["id"], command, timeout=60)
    killer.join()
    check_reported(caught.value, running_computer_via_http["name"])
    ended = wait_status(http, running_computer_via_http["id"], "error")
    assert ended["status"] == "error", ended
    assert "killed by SIGKILL" in ended["last_error"], ended


def test_a_command_cut_short_by_a_stop_says_so(
    health_probe: HealthProbe, http: httpx.Client, running_computer_via_http: dict[str, Any]
) -> None:
    command = unique_sleep(30)
    stopper = once_running(
        command, lambda: http.post(f"/v1/computers/{running_computer_via_http['id']}/stop")
    )
    response = http.post(
        f"/v1/computers/{running_computer_via_http['id']}/exec",
        json={"command": command, "timeout": 60},
    )
    stopper.join()
    assert response.status_code == 409, response.text
    assert "was stopped while the command ran" in response.json()["detail"]
    assert wait_status(http, running_computer_via_http["id"], "stopped")["status"] == "stopped"
