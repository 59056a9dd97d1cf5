"""Without bubblewrap the backend still works, as plain processes, and says so; a root
server never runs a computer as root, and the computer is the same as in bwrap mode
wherever the mode allows."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from celesto_api import Celesto
from celesto_api.local import LocalServer
from tests.waiting import wait_until

from .conftest import wait_status

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
        wait_status(http, computer["id"], "running")
        detail = http.get(f"/v1/computers/{computer['id']}").json()
        assert detail["local"]["isolation"] == "process"
        result = http.post(
            f"/v1/computers/{computer['id']}/exec", json={"command": "echo $HOME; pwd"}
        ).json()
        home = result["stdout"].splitlines()[0]
        stored = process_server.data_dir / "computers" / computer["id"] / "home"
        # A root server mounts it at /home/user, as in bwrap mode.
        assert home == ("/home/user" if os.geteuid() == 0 else str(stored))
        http.post(
            f"/v1/computers/{computer['id']}/exec",
            json={"command": f"echo kept > ~/f; setsid sleep {DAEMON_SECONDS} >/dev/null 2>&1 &"},
        )
        # It is a plain host process, visible from here.
        wait_until(_daemons, what="the daemon to appear")
        http.post(f"/v1/computers/{computer['id']}/stop")
        wait_status(http, computer["id"], "stopped")
        assert (stored / "f").read_text() == "kept\n"
        # Stop found it although it left the computer's session.
        assert _daemons() == []
        http.delete(f"/v1/computers/{computer['id']}")


@pytest.fixture(scope="module")
def process_sdk(process_server: LocalServer) -> Iterator[Celesto]:
    with Celesto(api_key=process_server.api_key, base_url=process_server.base_url) as celesto:
        yield celesto


def start_computer(server: LocalServer) -> dict[str, str]:
    with process_server_http(server) as http:
        created = http.post("/v1/computers", json={}).json()
        return dict(wait_status(http, created["id"], "running"))


@pytest.fixture(scope="module")
def process_computer(process_server: LocalServer) -> dict[str, str]:
    return start_computer(process_server)


@pytest.fixture(scope="module")
def computer_id(process_computer: dict[str, str]) -> str:
    return process_computer["id"]


def process_server_http(server: LocalServer) -> httpx.Client:
    return httpx.Client(
        base_url=server.base_url,
        headers={"Authorization": f"Bearer {server.api_key}"},
        timeout=60,
    )


def sh(client: Celesto, computer_id: str, command: str) -> tuple[int, str, str]:
    result = client.computers.exec(computer_id, command)
    return result["exit_code"], result["stdout"], result["stderr"]


def test_the_api_says_computers_are_not_isolated(process_server: LocalServer) -> None:
    with process_server_http(process_server) as http:
        info = http.get("/v1/local/info").json()
    assert info["isolation"] == "process" and info["isolated"] is False
    assert info["sandbox"].startswith("NOT isolated from the host")
    assert process_server.sandbox_label == "NOT ISOLATED (process)"


def test_the_computer_looks_the_same_as_in_bwrap(
    process_sdk: Celesto, computer_id: str, process_computer: dict[str, str]
) -> None:
    code, out, _ = sh(process_sdk, computer_id, 'echo "$USER|$HOME|$(pwd)|$LANG|$SHELL"')
    assert code == 0
    user, home, cwd, lang, shell = out.strip().split("|")
    assert lang == "C.UTF-8" and shell.endswith("sh")
    if os.geteuid() == 0:
        assert (user, home, cwd) == ("user", "/home/user", "/home/user")
        assert sh(process_sdk, computer_id, "hostname")[1] == f"{process_computer['name']}\n"
        assert sh(process_sdk, computer_id, "id -un")[1] == "user\n"


@pytest.mark.skipif(os.geteuid() != 0, reason="only a root server has root to give away")
def test_a_root_server_never_runs_a_computer_as_root(
    process_sdk: Celesto, computer_id: str, process_server: LocalServer
) -> None:
    code, uid, _ = sh(process_sdk, computer_id, "id -u")
    assert code == 0 and int(uid) >= 200_000
    code, _, err = sh(process_sdk, computer_id, "touch /root/x")
    assert code != 0 and "Permission denied" in err
    assert not Path("/root/x").exists()
    data_dir = process_server.data_dir
    for target in (data_dir / "intruder", data_dir / "state.db"):
        code, _, err = sh(process_sdk, computer_id, f"echo x >> {target}")
        assert code != 0, target
    assert not (data_dir / "intruder").exists()
    # Another computer is another uid: it cannot read this one's home.
    other = start_computer(process_server)
    sh(process_sdk, computer_id, "echo secret > ~/mine")
    mine = process_server.data_dir / "computers" / computer_id / "home" / "mine"
    assert mine.read_text() == "secret\n"
    code, other_uid, _ = sh(process_sdk, other["id"], "id -u")
    assert int(other_uid) != int(uid)
    code, out, _ = sh(process_sdk, other["id"], f"cat {mine}")
    assert code != 0 and "secret" not in out


def test_scratch_space_is_the_computers_own(process_sdk: Celesto, computer_id: str) -> None:
    if os.geteuid() != 0:
        pytest.skip("an ordinary server cannot give a computer its own /tmp")
    sh(process_sdk, computer_id, "echo private > /tmp/own-scratch")
    assert not Path("/tmp/own-scratch").exists()
    assert sh(process_sdk, computer_id, "df --output=size -B1M /tmp | tail -1")[1].strip()


def test_the_agent_does_not_answer_to_python(process_server: LocalServer, computer_id: str) -> None:
    """`pkill python` / `pkill -f python` inside a computer must not find its agent."""
    assert process_server.backend is not None
    sandbox = process_server.backend.computers.sandbox(computer_id)
    assert sandbox is not None
    pid = sandbox.host_pid  # type: ignore[attr-defined]
    cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    assert cmdline[0] == b"celesto-agent" and b"python" not in b" ".join(cmdline)
    assert Path(f"/proc/{pid}/comm").read_text().strip() == "celesto-agent"
