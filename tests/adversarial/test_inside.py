"""From inside a computer: user code (same uid as the agent) tries to take the agent over
or end it. Each attack must fail, the computer must keep working, and /health must answer."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from celesto_api.local import LocalServer

from .conftest import HealthProbe, run

# ptrace(PTRACE_ATTACH, 1), pidfd_getfd on each of PID 1's fds, /proc/1/fd and /proc/1/mem.
TAKEOVER = r"""
import ctypes, errno, json, os
libc = ctypes.CDLL(None, use_errno=True)
out = {}
out["ptrace"] = [libc.ptrace(16, 1, None, None), ctypes.get_errno()]
pidfd = os.pidfd_open(1)
stolen, errors = [], set()
for fd in range(256):
    if libc.syscall(438, pidfd, fd, 0) >= 0:
        stolen.append(fd)
    else:
        errors.add(ctypes.get_errno())
out["pidfd_getfd"] = [stolen, sorted(errors)]
for path in ("/proc/1/fd", "/proc/1/mem", "/proc/1/environ"):
    try:
        if path.endswith("fd"):
            os.listdir(path)
        else:
            open(path, "rb").read(1)
        out[path] = "readable"
    except OSError as exc:
        out[path] = errno.errorcode.get(exc.errno, str(exc.errno))
out["comm"] = open("/proc/1/comm").read().strip()
print(json.dumps(out))
"""


@pytest.fixture(autouse=True)
def _bwrap_only(local_server: LocalServer) -> None:
    if local_server.isolation != "bwrap":
        pytest.skip("the agent is shielded from user code only in bwrap mode")


def python(code: str) -> str:
    return "python3 - <<'EOF'\n" + code + "\nEOF"


def test_agent_cannot_be_traced_or_robbed_of_its_socket(
    health: HealthProbe, http: httpx.Client, running: dict[str, Any]
) -> None:
    response = run(http, running["id"], python(TAKEOVER))
    assert response.status_code == 200, response.text
    assert response.json()["exit_code"] == 0, response.json()["stderr"]
    seen = json.loads(response.json()["stdout"])
    assert seen["ptrace"][0] == -1 and seen["ptrace"][1] == 1, seen  # EPERM
    assert seen["pidfd_getfd"][0] == [], seen  # not one fd of the agent could be taken
    assert seen["pidfd_getfd"][1] == [1], seen  # EPERM for each, not EBADF: access denied
    for path in ("/proc/1/fd", "/proc/1/mem", "/proc/1/environ"):
        assert seen[path] in ("EACCES", "EPERM"), seen
    assert seen["comm"] == "celesto-agent"
    again = run(http, running["id"], "echo still-mine")
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
    health: HealthProbe, http: httpx.Client, running: dict[str, Any], attack: str
) -> None:
    # The shell running a `pkill -f` may kill itself (its own command line matches): only
    # the computer's fate counts.
    response = run(http, running["id"], attack)
    assert response.status_code == 200, response.text
    after = run(http, running["id"], "cat /proc/1/comm; pgrep -x python3 || echo no-python3")
    assert after.status_code == 200, after.text
    assert after.json()["stdout"] == "celesto-agent\nno-python3\n"
    computer = http.get(f"/v1/computers/{running['id']}").json()
    assert computer["status"] == "running", computer
