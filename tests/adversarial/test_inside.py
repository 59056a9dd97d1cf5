"""From inside a computer: user code (same uid as the agent) tries to take the agent over
or end it. Each attack must fail, the computer must keep working, and /health must answer."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from celesto_api.local import LocalServer
from celesto_api.local.sandbox.bwrap import supports_argv0

from .conftest import HealthProbe, run

# ptrace(PTRACE_ATTACH), pidfd_getfd on each of the agent's fds, its /proc fd, mem and environ.
# The agent is PID 1 in bwrap mode, an ancestor of the command in process mode.
TAKEOVER = r"""
import ctypes, errno, json, os
def parent(pid):
    with open(f"/proc/{pid}/stat") as f:
        return int(f.read().rsplit(")", 1)[1].split()[1])
agent = os.getpid()
while agent > 1 and open(f"/proc/{agent}/comm").read().strip() != "celesto-agent":
    agent = parent(agent)
libc = ctypes.CDLL(None, use_errno=True)
out = {"agent_is_pid_1": agent == 1, "uid": os.getuid()}
out["ptrace"] = [libc.ptrace(16, agent, None, None), ctypes.get_errno()]
pidfd = os.pidfd_open(agent)
stolen, errors = [], set()
for fd in range(256):
    if libc.syscall(438, pidfd, fd, 0) >= 0:
        stolen.append(fd)
    else:
        errors.add(ctypes.get_errno())
out["pidfd_getfd"] = [stolen, sorted(errors)]
for name in ("fd", "mem", "environ"):
    path = f"/proc/{agent}/{name}"
    try:
        if name == "fd":
            os.listdir(path)
        else:
            open(path, "rb").read(1)
        out[name] = "readable"
    except OSError as exc:
        out[name] = errno.errorcode.get(exc.errno, str(exc.errno))
out["comm"] = open(f"/proc/{agent}/comm").read().strip()
print(json.dumps(out))
"""


def bwrap_only(local_server: LocalServer) -> None:
    if local_server.isolation != "bwrap":
        pytest.skip("signals reach the agent in process mode (it is not a PID 1 there)")


def python(code: str) -> str:
    return "python3 - <<'EOF'\n" + code + "\nEOF"


def test_agent_cannot_be_traced_or_robbed_of_its_socket(
    health_probe: HealthProbe,
    http: httpx.Client,
    local_server: LocalServer,
    running_computer_via_http: dict[str, Any],
) -> None:
    response = run(http, running_computer_via_http["id"], python(TAKEOVER))
    assert response.status_code == 200, response.text
    assert response.json()["exit_code"] == 0, response.json()["stderr"]
    seen = json.loads(response.json()["stdout"])
    if seen["uid"] == 0:
        pytest.skip("commands run as root here (CAP_SYS_PTRACE): nothing shields the agent")
    assert seen["agent_is_pid_1"] == (local_server.isolation == "bwrap"), seen
    assert seen["ptrace"][0] == -1 and seen["ptrace"][1] == 1, seen  # EPERM
    assert seen["pidfd_getfd"][0] == [], seen  # not one fd of the agent could be taken
    assert seen["pidfd_getfd"][1] == [1], seen  # EPERM for each, not EBADF: access denied
    for name in ("fd", "mem", "environ"):
        assert seen[name] in ("EACCES", "EPERM"), seen
    assert seen["comm"] == "celesto-agent"
    again = run(http, running_computer_via_http["id"], "echo still-mine")
    assert again.json()["stdout"] == "still-mine\n"


@pytest.mark.parametrize(
    "attack",
    [
        "kill -TERM 1",
        "kill -KILL 1",
        "kill -INT 1; kill -HUP 1; kill -USR1 1; kill -QUIT 1",
        "kill -STOP 1",
        "pkill -x python3",
        "pkill -KILL python",
        "pkill -KILL -f agent.py",
        "pkill -KILL -f celesto",
        "kill -KILL -1",
    ],
)
def test_signals_from_inside_do_not_end_the_agent(
    health_probe: HealthProbe,
    http: httpx.Client,
    local_server: LocalServer,
    running_computer_via_http: dict[str, Any],
    attack: str,
) -> None:
    bwrap_only(local_server)
    # The shell running a `pkill -f` may kill itself (its own command line matches): only
    # the computer's fate counts.
    response = run(http, running_computer_via_http["id"], attack)
    assert response.status_code == 200, response.text
    after = run(
        http,
        running_computer_via_http["id"],
        "cat /proc/1/comm; pgrep -x python3 || echo no-python3",
    )
    assert after.status_code == 200, after.text
    assert after.json()["stdout"] == "celesto-agent\nno-python3\n"
    computer = http.get(f"/v1/computers/{running_computer_via_http['id']}").json()
    assert computer["status"] == "running", computer


def test_the_agent_does_not_go_by_python(
    http: httpx.Client, local_server: LocalServer, running_computer_via_http: dict[str, Any]
) -> None:
    """Neither its name nor its command line says python, so `pkill python` and
    `pkill -f python` (a user stopping their own http.server) pass it by. (In process mode,
    where the host's processes are visible, tests/local/test_process_fallback.py checks it.)"""
    bwrap_only(local_server)
    assert local_server.backend is not None
    version = local_server.backend.capability.details.get("bwrap_version", "")
    if not supports_argv0(version):
        pytest.skip(f"bwrap {version} cannot rename the agent's argv[0] (needs >= 0.9)")
    # [o]: the pattern must not match the shell that runs it.
    command = "pgrep -f 'pyth[o]n' || echo none; pgrep 'pyth[o]n' || echo none"
    response = run(http, running_computer_via_http["id"], command)
    assert response.status_code == 200, response.text
    assert response.json()["stdout"] == "none\nnone\n"
