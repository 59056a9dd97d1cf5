"""Python's `requests` and `httpx` and `npm` reach the host through a computer's egress
proxy with nothing configured but the computer's own environment.

The sandbox's system Python has neither library, and computers have no network but the
proxy, so copies of the test venv's packages are put into the computer's home (its host-side
folder) and named with PYTHONPATH for that one exec. npm installs from a minimal registry
(a package document and a tarball built here) served from the host on a ``--host-port``.
"""

from __future__ import annotations

import base64
import hashlib
import importlib
import io
import json
import shutil
import tarfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from celesto_api.local import LocalServer
from celesto_api.local.sandbox import probe

from .conftest import wait_status
from .egress_helpers import egress, file_server, run

pytestmark = pytest.mark.skipif(
    probe().level != "bwrap", reason="the egress proxy lives in a bwrap network namespace"
)

# What `requests` and `httpx` import, all pure Python but charset_normalizer (same ABI).
PACKAGES = (
    "requests",
    "urllib3",
    "idna",
    "certifi",
    "charset_normalizer",
    "httpx",
    "httpcore",
    "h11",
    "anyio",
    "typing_extensions",
)
PACKAGE = "celesto-hello"
GREETING = "hello from a registry on the host"
FETCH = """
import sys
import {module}
print({module}.get(sys.argv[1]).text, end="")
"""


class Host:
    def __init__(self, server: LocalServer, http: httpx.Client, files: Any) -> None:
        self.server = server
        self.http = http
        self.files = files
        self.port = files.server_address[1]
        self.computers: dict[str, str] = {}

    def computer(self, mode: str) -> str:
        if mode not in self.computers:
            body = {"network_policy": {"mode": mode}}
            created = self.http.post("/v1/computers", json=body)
            assert created.status_code == 201, created.text
            assert wait_status(self.http, created.json()["id"], "running")["status"] == "running"
            self.computers[mode] = created.json()["id"]
        return self.computers[mode]

    def home(self, computer_id: str) -> Path:
        return self.server.data_dir / "computers" / computer_id / "home"


def npm_registry(root: Path, port: int) -> bytes:
    """``root/<package>``: the package document npm asks the registry for; the tarball
    under ``root/tarballs/``. Returns the tarball."""
    manifest = {"name": PACKAGE, "version": "1.0.0", "main": "index.js"}
    members = {
        "package/package.json": json.dumps(manifest).encode(),
        "package/index.js": f"module.exports = {json.dumps(GREETING)};\n".encode(),
    }
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mode = 0o644
            archive.addfile(info, io.BytesIO(data))
    tarball = buffer.getvalue()
    (root / "tarballs").mkdir()
    (root / "tarballs" / f"{PACKAGE}-1.0.0.tgz").write_bytes(tarball)
    integrity = "sha512-" + base64.b64encode(hashlib.sha512(tarball).digest()).decode()
    dist = {
        "tarball": f"http://host.celesto.internal:{port}/tarballs/{PACKAGE}-1.0.0.tgz",
        "shasum": hashlib.sha1(tarball).hexdigest(),
        "integrity": integrity,
    }
    document = {
        "name": PACKAGE,
        "dist-tags": {"latest": "1.0.0"},
        "versions": {"1.0.0": {**manifest, "dist": dist}},
    }
    (root / PACKAGE).write_text(json.dumps(document))
    return tarball


@pytest.fixture(scope="module")
def host(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Host]:
    root = tmp_path_factory.mktemp("host-files")
    (root / "hello.txt").write_text("hello from the host\n")
    with (
        file_server(root) as files,
        LocalServer(
            data_dir=tmp_path_factory.mktemp("egress-tools"),
            isolation="bwrap",
            host_ports=[files.server_address[1]],
        ) as server,
        httpx.Client(
            base_url=server.base_url,
            headers={"Authorization": f"Bearer {server.api_key}"},
            timeout=180,
        ) as http,
    ):
        files.root = root
        state = Host(server, http, files)
        yield state
        for computer_id in state.computers.values():
            http.delete(f"/v1/computers/{computer_id}")


def copy_packages(home: Path) -> str:
    """The test venv's copies of PACKAGES in ``home/pylib``; the path inside the computer."""
    target = home / "pylib"
    target.mkdir(exist_ok=True)
    for name in PACKAGES:
        module = importlib.import_module(name)
        source = Path(module.__file__ or "")
        if source.name == "__init__.py":
            shutil.copytree(source.parent, target / name, dirs_exist_ok=True)
        else:
            shutil.copy2(source, target / source.name)
    return "/home/user/pylib"


@pytest.mark.parametrize("module", ["requests", "httpx"])
def test_python_http_libraries_use_the_proxy_from_the_environment(host: Host, module: str) -> None:
    computer = host.computer("open")
    pylib = copy_packages(host.home(computer))
    url = f"http://host.celesto.internal:{host.port}/hello.txt"
    before = egress(host.http, computer)
    hits = host.files.hits
    script = FETCH.format(module=module)
    fetched = run(host.http, computer, f"PYTHONPATH={pylib} python3 -c '{script}' {url}")
    assert fetched["stdout"] == "hello from the host\n", fetched
    assert host.files.hits == hits + 1
    after = egress(host.http, computer)
    assert after["connections_allowed"] == before["connections_allowed"] + 1
    # Without the computer's proxy variables the name does not even resolve (no DNS inside).
    bare = run(
        host.http,
        computer,
        "env -u HTTP_PROXY -u http_proxy -u ALL_PROXY -u all_proxy "
        f"PYTHONPATH={pylib} python3 -c '{script}' {url}",
    )
    assert bare["exit_code"] != 0, bare
    assert host.files.hits == hits + 1


def npm_install(host: Host, computer: str) -> dict[str, Any]:
    registry = f"http://host.celesto.internal:{host.port}/"
    # Flags that only keep npm from phoning home or retrying; the proxy comes from the env.
    quiet = "--no-audit --no-fund --no-update-notifier --fetch-retries=0"
    command = (
        "mkdir -p ~/npm-test && cd ~/npm-test && "
        f"npm install {PACKAGE} --registry {registry} {quiet} && "
        f"node -e 'console.log(require(\"{PACKAGE}\"))'"
    )
    return run(host.http, computer, command, timeout=120)


@pytest.mark.skipif(
    shutil.which("npm") is None or shutil.which("node") is None, reason="needs node and npm"
)
def test_npm_installs_from_a_registry_on_the_host(host: Host) -> None:
    tarball = npm_registry(host.files.root, host.port)
    computer = host.computer("open")
    before = egress(host.http, computer)
    installed = npm_install(host, computer)
    assert installed["exit_code"] == 0, installed
    assert installed["stdout"].splitlines()[-1] == GREETING, installed
    assert f"/{PACKAGE}" in host.files.paths
    assert f"/tarballs/{PACKAGE}-1.0.0.tgz" in host.files.paths
    after = egress(host.http, computer)
    assert after["connections_allowed"] >= before["connections_allowed"] + 1
    assert after["bytes_in"] >= before["bytes_in"] + len(tarball)

    requests_seen = len(host.files.paths)
    refused = npm_install(host, host.computer("off"))
    assert refused["exit_code"] != 0, refused
    assert len(host.files.paths) == requests_seen  # nothing reached the registry
