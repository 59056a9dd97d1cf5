"""``computer run``: output, exit codes, --json, --stream and auto-resume."""

from __future__ import annotations

import json
import os
import signal
import threading
from pathlib import Path
from typing import Any

import pytest

from celesto_api import Celesto

from .helpers import Cli, stopped


def test_output_and_remote_exit_code(cli: Cli, running_computer: dict[str, Any]) -> None:
    result = cli("computer", "run", running_computer["name"], "echo out; echo err >&2; exit 3")
    assert result.returncode == 3
    assert result.stdout == "out\n"
    assert result.stderr == "err\n"

    ok = cli("computer", "run", running_computer["id"], "printf 'a b'")
    assert (ok.returncode, ok.stdout) == (0, "a b")


def test_json_is_the_exec_object(cli: Cli, running_computer: dict[str, Any]) -> None:
    result = cli("computer", "run", running_computer["name"], "echo hi; exit 5", "--json")
    assert result.returncode == 5
    document = result.json()
    assert document["exit_code"] == 5
    assert document["stdout"] == "hi\n"
    assert document["stderr"] == ""
    assert document["command_id"].startswith("cmd_")


def test_stream_text_and_json_lines(cli: Cli, running_computer: dict[str, Any]) -> None:
    command = "for i in 1 2 3; do echo $i; done; echo oops >&2; exit 4"
    text = cli("computer", "run", running_computer["name"], command, "--stream")
    assert (text.returncode, text.stdout, text.stderr) == (4, "1\n2\n3\n", "oops\n")

    lines = cli("computer", "run", running_computer["name"], command, "--stream", "--json")
    assert lines.returncode == 4
    events = [json.loads(line) for line in lines.stdout.splitlines()]
    assert events[0]["type"] == "started"
    assert events[-1]["type"] == "exit" and events[-1]["exit_code"] == 4
    out = "".join(event["data"] for event in events if event["type"] == "stdout")
    assert out == "1\n2\n3\n"


def test_timeout_is_reported(cli: Cli, running_computer: dict[str, Any]) -> None:
    result = cli("computer", "run", running_computer["name"], "sleep 10", "--timeout", "1")
    assert result.returncode != 0
    assert "timed out after 1 s" in result.stderr

    longest = cli("computer", "run", running_computer["name"], "echo ok", "--timeout", "300")
    assert (longest.returncode, longest.stdout, longest.stderr) == (0, "ok\n", "")


def test_a_signal_exits_as_128_plus_n(cli: Cli, running_computer: dict[str, Any]) -> None:
    result = cli("computer", "run", running_computer["name"], "kill -KILL $$")
    assert result.returncode == 128 + 9, result


def test_auto_resume_of_a_stopped_computer(
    cli: Cli, sdk: Celesto, running_computer: dict[str, Any]
) -> None:
    stopped(sdk, running_computer)
    result = cli("computer", "run", running_computer["id"], "echo back")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "back\n"
    assert f"Computer {running_computer['name']} is stopped. Resuming..." in result.stderr
    assert sdk.computers.get(running_computer["id"])["status"] == "running"

    stopped(sdk, running_computer)
    streamed = cli(
        "computer", "run", running_computer["name"], "echo again; exit 2", "--stream", "-j"
    )
    assert streamed.returncode == 2
    assert "is stopped. Resuming..." in streamed.stderr
    assert [json.loads(line)["type"] for line in streamed.stdout.splitlines()][-1] == "exit"


def test_history_lists_what_ran_newest_first(cli: Cli, running_computer: dict[str, Any]) -> None:
    assert cli("computer", "run", running_computer["name"], "exit 7").returncode == 7
    assert cli("computer", "run", running_computer["name"], "true").returncode == 0
    table = cli("computer", "history", running_computer["name"], "--limit", "2")
    assert table.returncode == 0, table.stderr
    lines = table.stdout.splitlines()
    assert lines[0].split() == ["STARTED", "STATUS", "EXIT", "MS", "SOURCE", "ID"]
    assert len(lines) == 3
    assert " completed " in lines[1] and " 0 " in lines[1]
    assert " completed " in lines[2] and " 7 " in lines[2]
    document = cli("computer", "history", running_computer["id"], "--limit", "1", "--json").json()
    assert document["count"] == 1 and document["commands"][0]["exit_code"] == 0


def agent_pid(computer: dict[str, Any]) -> int:
    """The host pid of the computer's agent (root reads any environ, non-dumpable or not)."""
    wanted = {
        f"HOSTNAME={computer['name']}".encode(),
        f"CELESTO_COMPUTER_ID={computer['id']}".encode(),
    }
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            comm = Path(f"/proc/{name}/comm").read_text().strip()
            environ = set(Path(f"/proc/{name}/environ").read_bytes().split(b"\0"))
        except OSError:
            continue
        if comm == "celesto-agent" and wanted & environ:
            return int(name)
    raise AssertionError(f"no agent found for {computer['name']}")


@pytest.mark.skipif(os.geteuid() != 0, reason="finding the agent's pid needs root")
def test_a_dead_agent_is_reported_as_a_computer_error(
    cli: Cli, running_computer: dict[str, Any]
) -> None:
    """Killed under a command (as by the OOM killer): the CLI says so, with the reason."""
    pid = agent_pid(running_computer)
    killer = threading.Timer(1.5, os.kill, (pid, signal.SIGKILL))
    killer.start()
    result = cli("computer", "run", running_computer["name"], "sleep 30")
    killer.join()
    assert result.returncode == 1, result
    assert "Cannot reach" not in result.stderr
    assert "failed while the command was running" in result.stderr, result.stderr
    assert "killed by SIGKILL" in result.stderr
