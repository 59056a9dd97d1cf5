"""Computers reach the network through their egress proxy, by their policy.

A real server in bwrap mode, a host-side HTTP server and a TCP echo server exposed with
``host_ports`` (``local serve --host-port``): the computers reach them as
host.celesto.internal through the proxy on their own loopback; everything else on the host,
private and link-local ranges are refused before any connection is attempted.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from celesto_api.local import LocalServer
from celesto_api.local.sandbox import probe
from tests.waiting import wait_until

from .conftest import wait_status
from .egress_helpers import echo_server, egress, file_server, free_port, run
from .test_terminals import attach, open_terminal, read_until

pytestmark = pytest.mark.skipif(
    probe().level != "bwrap", reason="the egress proxy lives in a bwrap network namespace"
)

PROXY = "http://127.0.0.1:3128"
CONNECT_ECHO = """
import socket, sys
host, port = sys.argv[1], int(sys.argv[2])
s = socket.create_connection(("127.0.0.1", 3128))
s.sendall(f"CONNECT {host}:{port} HTTP/1.1\\r\\nHost: {host}:{port}\\r\\n\\r\\n".encode())
head = b""
while b"\\r\\n\\r\\n" not in head:
    chunk = s.recv(1)
    if not chunk:
        break
    head += chunk
print(head.split(b"\\r\\n")[0].decode())
if b" 200 " in head.split(b"\\r\\n")[0] + b" ":
    s.sendall(b"ping through connect")
    print(s.recv(100).decode())
"""
SOCKS_ECHO = """
import socket, sys
host, port = sys.argv[1].encode(), int(sys.argv[2])
s = socket.create_connection(("127.0.0.1", 3128))
s.sendall(b"\\x05\\x01\\x00")
assert s.recv(2) == b"\\x05\\x00"
s.sendall(b"\\x05\\x01\\x00\\x03" + bytes([len(host)]) + host + port.to_bytes(2, "big"))
reply = s.recv(10)
print("reply", reply[1])
if reply[1] == 0:
    s.sendall(b"ping through socks")
    print(s.recv(100).decode())
"""


def python(script: str, *args: object) -> str:
    return "python3 -c " + shlex.quote(script) + "".join(f" {shlex.quote(str(a))}" for a in args)


class Env:
    def __init__(self, server: LocalServer, http: httpx.Client, files: Any, echo: Any) -> None:
        self.server = server
        self.http = http
        self.files = files
        self.echo = echo
        self.file_port = files.server_address[1]
        self.echo_port = echo.server_address[1]
        self.api_port = int(server.base_url.rsplit(":", 1)[1])
        self.computers: dict[str, dict[str, Any]] = {}

    def computer(self, label: str) -> str:
        """The computer called ``label``; the one called "off" has its network off."""
        if label not in self.computers:
            body = {"network_policy": {"mode": "off" if label == "off" else "open"}}
            created = self.http.post("/v1/computers", json=body)
            assert created.status_code == 201, created.text
            computer = wait_status(self.http, created.json()["id"], "running")
            assert computer["status"] == "running", computer
            self.computers[label] = computer
        return str(self.computers[label]["id"])

    def run(self, label: str, command: str) -> dict[str, Any]:
        return run(self.http, self.computer(label), command)


def git_repository(root: Path) -> None:
    """A bare repository served over git's dumb HTTP protocol (plain files)."""
    if shutil.which("git") is None:
        return
    work = root / "work"
    work.mkdir()
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.org", "-C"]
    subprocess.run(["git", "init", "-q", str(work)], check=True)
    (work / "README").write_text("cloned through the proxy\n")
    subprocess.run([*git, str(work), "add", "README"], check=True)
    subprocess.run([*git, str(work), "commit", "-qm", "first"], check=True)
    bare = root / "repo.git"
    subprocess.run(["git", "clone", "-q", "--bare", str(work), str(bare)], check=True)
    subprocess.run(["git", "-C", str(bare), "update-server-info"], check=True)


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    root = tmp_path_factory.mktemp("host-files")
    (root / "hello.txt").write_text("hello from the host\n")
    git_repository(root)
    with (
        file_server(root) as files,
        echo_server() as echo,
        LocalServer(
            data_dir=tmp_path_factory.mktemp("egress-backend"),
            isolation="bwrap",
            host_ports=[files.server_address[1], echo.server_address[1]],
        ) as server,
        httpx.Client(
            base_url=server.base_url,
            headers={"Authorization": f"Bearer {server.api_key}"},
            timeout=120,
        ) as http,
    ):
        state = Env(server, http, files, echo)
        yield state
        for computer in state.computers.values():
            http.delete(f"/v1/computers/{computer['id']}")


def test_open_computer_has_the_proxy_env_and_off_has_none(env: Env) -> None:
    printed = env.run("open", "env | grep -i _proxy= | sort")["stdout"].splitlines()
    assert printed == sorted(
        [
            f"HTTP_PROXY={PROXY}",
            f"HTTPS_PROXY={PROXY}",
            f"ALL_PROXY={PROXY}",
            "NO_PROXY=localhost,127.0.0.1,::1",
            f"http_proxy={PROXY}",
            f"https_proxy={PROXY}",
            f"all_proxy={PROXY}",
            "no_proxy=localhost,127.0.0.1,::1",
        ]
    )
    assert env.run("off", "env | grep -ic _proxy=")["stdout"] == "0\n"
    local = env.http.get(f"/v1/computers/{env.computer('open')}").json()["local"]
    assert local["enforced_limits"]["network"] == "proxy"
    assert local["egress"]["mode"] == "proxy"
    assert egress(env.http, env.computer("off")) == {"mode": "off"}


def test_curl_and_python_get_from_the_host_by_name(env: Env) -> None:
    url = f"http://host.celesto.internal:{env.file_port}/hello.txt"
    before = egress(env.http, env.computer("open"))
    curl = env.run("open", f"curl -sS --fail {url}")
    assert curl["stdout"] == "hello from the host\n", curl
    script = (
        "import sys, urllib.request; print(urllib.request.urlopen(sys.argv[1]).read().decode())"
    )
    via_python = env.run("open", python(script, url))
    assert via_python["stdout"] == "hello from the host\n\n", via_python
    after = egress(env.http, env.computer("open"))
    assert after["connections_allowed"] >= before["connections_allowed"] + 2
    # Bodies only for plain HTTP (the proxy re-frames the heads it forwards).
    assert after["bytes_in"] >= before["bytes_in"] + 2 * len("hello from the host\n")


@pytest.mark.skipif(
    shutil.which("git") is None or shutil.which("wget") is None, reason="needs git and wget"
)
def test_wget_and_git_use_the_proxy_unconfigured(env: Env) -> None:
    base = f"http://host.celesto.internal:{env.file_port}"
    wget = env.run("open", f"wget -qO- {base}/hello.txt")
    assert wget["stdout"] == "hello from the host\n", wget
    clone = env.run("open", f"git clone -q {base}/repo.git ~/repo && cat ~/repo/README")
    assert clone["stdout"] == "cloned through the proxy\n", clone


def test_a_terminal_reaches_the_host_through_the_proxy_too(env: Env) -> None:
    info = open_terminal(env.http, env.computer("open"))
    with attach(info) as ws:
        url = f"http://host.celesto.internal:{env.file_port}/hello.txt"
        # Upper-cased and quoted apart so the echoed command line itself cannot match.
        ws.send(f"curl -sS {url} | tr a-z A-Z; echo 'proxy='\"$HTTPS_PROXY\"\r".encode())
        read_until(ws, r"HELLO FROM THE HOST[\s\S]*proxy=http://127\.0\.0\.1:3128")
        ws.close()


def test_connect_tunnel_and_curl_proxytunnel(env: Env) -> None:
    tunnel = env.run("open", python(CONNECT_ECHO, "host.celesto.internal", env.echo_port))
    assert tunnel["stdout"] == "HTTP/1.1 200 Connected\nping through connect\n", tunnel
    url = f"http://host.celesto.internal:{env.file_port}/hello.txt"
    curl = env.run("open", f"curl -sS --fail --proxytunnel {url}")
    assert curl["stdout"] == "hello from the host\n", curl


def test_socks5_with_names_resolved_on_the_host(env: Env) -> None:
    socks = env.run("open", python(SOCKS_ECHO, "host.celesto.internal", env.echo_port))
    assert socks["stdout"] == "reply 0\nping through socks\n", socks
    url = f"http://host.celesto.internal:{env.file_port}/hello.txt"
    curl = env.run("open", f"curl -sS --fail -x socks5h://127.0.0.1:3128 {url}")
    assert curl["stdout"] == "hello from the host\n", curl


def refusal_targets(env: Env) -> list[tuple[str, str]]:
    """(host:port, what the reason says)."""
    unlisted = free_port()
    return [
        (f"127.0.0.1:{env.file_port}", "is this machine"),
        (f"[::1]:{env.file_port}", "is this machine"),
        (f"localhost:{env.file_port}", "is this machine"),
        (f"host.celesto.internal:{env.api_port}", "the Celesto server itself"),
        ("169.254.169.254:80", "link-local"),
        ("10.0.0.1:80", "private address"),
        ("192.168.1.1:80", "private address"),
        ("[fd00::1]:80", "private address"),
        (f"host.celesto.internal:{unlisted}", "not exposed"),
    ]


def test_refusals_over_http_connect_and_socks(env: Env) -> None:
    hits = env.files.hits
    before = egress(env.http, env.computer("open"))
    targets = refusal_targets(env)
    for target, reason in targets:
        # --noproxy '' sends even localhost through the proxy (NO_PROXY would skip it).
        get = env.run(
            "open", f"curl -sS -x {PROXY} --noproxy '' -w '%{{http_code}}' http://{target}/"
        )
        assert get["stdout"].endswith("403"), (target, get)
        assert reason in get["stdout"], (target, get)
        host, _, port = target.rpartition(":")
        tunnel = env.run("open", python(CONNECT_ECHO, host.strip("[]"), port))
        assert tunnel["stdout"].startswith("HTTP/1.1 403 "), (target, tunnel)
        socks = env.run("open", python(SOCKS_ECHO, host.strip("[]"), port))
        assert socks["stdout"] == "reply 2\n", (target, socks)  # not allowed by ruleset
    assert env.files.hits == hits  # nothing reached the host's server
    after = egress(env.http, env.computer("open"))
    assert after["connections_refused"] == before["connections_refused"] + 3 * len(targets)
    assert after["connections_allowed"] == before["connections_allowed"]
    assert len(after["last_refusals"]) == 5
    assert after["last_refusals"][-1]["kind"] == "socks5"
    log = env.server.data_dir / "computers" / env.computer("open") / "egress.log"
    lines = log.read_text().splitlines()
    assert any("refused http 169.254.169.254:80: " in line for line in lines)
    assert any(
        "refused connect 10.0.0.1:80: 10.0.0.1 is a private address" in line for line in lines
    )


def test_direct_connections_go_nowhere(env: Env) -> None:
    # Without the proxy there is nothing but the computer's own loopback.
    for label in ("open", "off"):
        interfaces = env.run(label, "tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' '")
        assert interfaces["stdout"].split() == ["lo"]
        direct = env.run(label, f"curl -sS --noproxy '*' http://127.0.0.1:{env.api_port}/health")
        assert direct["exit_code"] == 7, direct  # could not connect


def test_off_computer_reaches_nothing(env: Env) -> None:
    url = f"http://host.celesto.internal:{env.file_port}/hello.txt"
    via_proxy = env.run("off", f"curl -sS -x {PROXY} {url}")
    assert via_proxy["exit_code"] == 7, via_proxy  # no proxy listens in an "off" computer
    assert env.run("off", f"curl -sS {url}")["exit_code"] == 6  # and no DNS


def test_a_computer_cannot_reach_another_computers_proxy_or_the_hosts(env: Env) -> None:
    other = env.computer("other")
    before = egress(env.http, other)
    # Through its own proxy, the host's loopback (where no computer's proxy is) is refused.
    for target in ("127.0.0.1:3128", "host.celesto.internal:3128"):
        refused = env.run(
            "open", f"curl -sS -x {PROXY} --noproxy '' -w '%{{http_code}}' http://{target}/"
        )
        assert refused["stdout"].endswith("403"), refused
    # Each computer's 127.0.0.1:3128 is its own: the other's proxy saw none of this.
    assert (
        env.run("open", f"curl -sS --fail http://host.celesto.internal:{env.file_port}/")[
            "exit_code"
        ]
        == 0
    )
    assert egress(env.http, other) == before


FLOOD = """
import socket, sys, time
host, port, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
socks = []
for _ in range(count):
    s = socket.create_connection(("127.0.0.1", 3128))
    s.sendall(f"CONNECT {host}:{port} HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n".encode())
    socks.append(s)
ok = 0
for s in socks:
    head = b""
    while b"\\r\\n\\r\\n" not in head:
        head += s.recv(1)
    s.sendall(b"x")
    ok += s.recv(1) == b"x"
print("ok", ok)
time.sleep(float(sys.argv[4]))
for s in socks:
    s.close()
"""


def fd_count() -> int:
    return len(os.listdir("/proc/self/fd"))


def test_200_concurrent_connections_neither_stall_the_api_nor_leak_fds(env: Env) -> None:
    computer = env.computer("open")
    # Warm-up: whatever the first tunnel allocates once (thread pools, caches) is not a leak.
    env.run("open", python(FLOOD, "host.celesto.internal", env.echo_port, 5, 0))
    baseline = fd_count()
    seen_open: list[int] = []
    health: list[int] = []
    stop = threading.Event()

    def watch() -> None:
        with httpx.Client(
            base_url=env.server.base_url,
            headers={"Authorization": f"Bearer {env.server.api_key}"},
            timeout=30,
        ) as client:
            while not stop.is_set():
                health.append(client.get("/health").status_code)
                local = client.get(f"/v1/computers/{computer}").json()["local"]
                seen_open.append(local["egress"]["connections_open"])
                time.sleep(0.02)

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        flood = env.run("open", python(FLOOD, "host.celesto.internal", env.echo_port, 200, 3))
    finally:
        stop.set()
        watcher.join()
    assert flood["stdout"] == "ok 200\n", flood
    assert max(seen_open) >= 200  # the API answered while all 200 were open
    assert health and set(health) == {200}
    wait_until(
        lambda: egress(env.http, computer)["connections_open"],
        lambda still_open: still_open == 0,
        "every tunnel to close",
    )
    wait_until(fd_count, lambda count: count <= baseline, f"fds back to {baseline}")


def test_stopping_a_computer_with_open_tunnels_releases_everything(env: Env) -> None:
    computer = env.computer("short-lived")
    flood = python(FLOOD, "host.celesto.internal", env.echo_port, 50, 300)
    env.run("short-lived", "true")  # warm-up, as in the flood test
    baseline = fd_count()
    assert env.run("short-lived", f"({flood} >/dev/null 2>&1 &)")["exit_code"] == 0
    wait_until(
        lambda: egress(env.http, computer)["connections_open"],
        lambda still_open: still_open >= 50,
        "50 tunnels open",
        timeout=60,
    )
    assert fd_count() >= baseline + 100  # both ends of 50 tunnels, held by the server
    env.http.post(f"/v1/computers/{computer}/stop")
    assert wait_status(env.http, computer, "stopped")["status"] == "stopped"
    wait_until(fd_count, lambda count: count <= baseline, f"fds back to {baseline}")
    assert egress(env.http, computer) == {"mode": "proxy"}  # no proxy runs for it now


def test_allow_and_deny_lists(tmp_path: Path) -> None:
    with (
        file_server(tmp_path) as files,
        LocalServer(
            data_dir=tmp_path / "backend",
            isolation="bwrap",
            host_ports=[files.server_address[1]],
            egress_allow=["example.org", "203.0.113.0/24"],
            egress_deny=["bad.example.org"],
        ) as server,
        httpx.Client(
            base_url=server.base_url,
            headers={"Authorization": f"Bearer {server.api_key}"},
            timeout=60,
        ) as http,
    ):
        created = http.post("/v1/computers", json={}).json()
        assert wait_status(http, created["id"], "running")["status"] == "running"
        cases = {
            "bad.example.org:80": "is on the deny list",
            # A name off the list is still resolved (it may land in a listed CIDR).
            "localhost:80": "is not on the allow list",
            "198.51.100.7:80": "is not on the allow list",
        }
        for target, reason in cases.items():
            command = f"curl -sS -x {PROXY} --noproxy '' -w '%{{http_code}}' http://{target}/"
            out = run(http, created["id"], command)
            assert out["stdout"].endswith("403") and reason in out["stdout"], (target, out)
        # host.celesto.internal is the server's own alias, outside the lists.
        url = f"http://host.celesto.internal:{files.server_address[1]}/"
        assert run(http, created["id"], f"curl -sS --fail -o /dev/null {url}")["exit_code"] == 0
        http.delete(f"/v1/computers/{created['id']}")


def test_process_isolation_says_it_uses_the_hosts_network(tmp_path: Path) -> None:
    with (
        LocalServer(data_dir=tmp_path, isolation="process") as server,
        httpx.Client(
            base_url=server.base_url,
            headers={"Authorization": f"Bearer {server.api_key}"},
            timeout=60,
        ) as http,
    ):
        created = http.post("/v1/computers", json={}).json()
        computer = wait_status(http, created["id"], "running")
        assert computer["local"]["egress"] == {"mode": "host"}
        assert run(http, created["id"], "env | grep -ic _proxy=")["stdout"] == "0\n"
        http.delete(f"/v1/computers/{created['id']}")
