"""The official Celesto clients from PyPI, unmodified, each in its own virtual environment.

``official_clients`` builds one venv per version under the session's tmp dir (in parallel,
~15 s with a warm network). The 0.0.x wheels declare ``fastmcp`` and ``a2a-sdk`` (about 60
more packages) for modules that neither their SDK nor their ``celesto`` CLI imports, so those
are installed ``--no-deps`` plus exactly what ``celesto``, ``celesto.sdk`` and the CLI import;
0.1.10 gets its declared dependencies. When PyPI cannot be reached the tests are skipped.

A test runs a small script with a client's own interpreter (or its ``celesto`` CLI) against
the session's real local backend; the script prints one JSON result that the test asserts on.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import json
import os
import re
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from celesto_api.local import LocalServer
from tests.waiting import wait_until

OFFICIAL_VERSIONS = ("0.0.5", "0.0.14", "0.1.10")

# What `import celesto`, `celesto.sdk` and the 0.0.x CLI import (the wheels' own ranges).
LEGACY_RUNTIME_DEPS = (
    "httpx>=0.27.0",
    "pathspec>=0.11.0",
    "typer>=0.20.0",
    "rich>=14.0.0",
    "keyring>=25.7.0",
    "python-dotenv>=1.0.0",
    "typing-extensions>=4.10.0",
    "websockets>=15.0",
)
PIP_FLAGS = (
    "install",
    "--disable-pip-version-check",
    "--no-input",
    "--quiet",
    "--retries",
    "1",
    "--timeout",
    "20",
)
PIP_TIMEOUT_S = 240
# pip's words for "the index could not be reached" (offline machine, no DNS, proxy down).
OFFLINE_MARKERS = (
    "No matching distribution found",
    "Could not find a version that satisfies",
    "Failed to establish a new connection",
    "Temporary failure in name resolution",
    "Name or service not known",
    "Network is unreachable",
    "Max retries exceeded",
    "ConnectTimeoutError",
    "ReadTimeoutError",
    "ProxyError",
    "SSLError",
    "Connection refused",
)
RESULT_MARK = "COMPAT-RESULT "

# Put in front of every script: tiny helpers, nothing from the client under test.
PRELUDE = '''\
import json, os, sys, time

ARGS = json.loads(os.environ.get("COMPAT_ARGS") or "{}")
# Exception attributes worth reporting (0.0.x: retry_after; 0.1.10: the others).
ERROR_FIELDS = (
    "status_code", "code", "retry_after", "validation_errors", "side_effects", "request_id"
)


def emit(value):
    sys.stdout.write("\\n%s%s\\n" % (%(mark)r, json.dumps(value, default=str)))
    sys.stdout.flush()


def poll(fetch, wanted, timeout=30.0):
    """fetch() until it returns one of `wanted` (or time runs out); the last value."""
    deadline = time.monotonic() + timeout
    while True:
        value = fetch()
        if value in wanted or time.monotonic() > deadline:
            return value
        time.sleep(0.05)


def failure(call):
    """What `call()` raised, as plain data (or type None when it did not raise)."""
    try:
        value = call()
    except Exception as exc:
        info = {"type": type(exc).__name__, "message": str(exc)}
        response = getattr(exc, "response", None)
        if response is not None and hasattr(response, "status_code"):
            info["http_status"] = response.status_code
        for name in ERROR_FIELDS:
            if hasattr(exc, name):
                info[name] = getattr(exc, name)
        return info
    return {"type": None, "value": repr(value)[:500]}

'''.replace("%(mark)r", repr(RESULT_MARK))

_build_report: list[str] = []
GetClient = Callable[[str], "OfficialClient"]


class ClientUnavailable(Exception):
    """The official client could not be installed for a reason that is not ours to fix."""


@dataclass(frozen=True)
class OfficialClient:
    version: str
    root: Path

    @property
    def python(self) -> Path:
        return self.root / "bin" / "python"

    @property
    def cli(self) -> Path:
        return self.root / "bin" / "celesto"

    def run_script(
        self,
        body: str,
        env: Mapping[str, str],
        args: Any = None,
        timeout: float = 90,
    ) -> Any:
        """Run ``body`` with this client's interpreter; the value it passed to ``emit``."""
        code = PRELUDE + textwrap.dedent(body)
        proc = subprocess.run(
            [str(self.python), "-c", code],
            env={**env, "COMPAT_ARGS": json.dumps(args or {})},
            cwd=env["HOME"],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        results = [
            line.removeprefix(RESULT_MARK)
            for line in proc.stdout.splitlines()
            if line.startswith(RESULT_MARK)
        ]
        if proc.returncode != 0 or not results:
            pytest.fail(
                f"celesto {self.version} script exited {proc.returncode} without a result\n"
                f"--- stdout ---\n{proc.stdout[-3000:]}\n--- stderr ---\n{proc.stderr[-5000:]}"
            )
        return json.loads(results[-1])

    def run_cli(
        self, args: Sequence[str], env: Mapping[str, str], timeout: float = 60
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(self.cli), *args],
            env=dict(env),
            cwd=env["HOME"],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )


def _run(cmd: Sequence[str], timeout: float = PIP_TIMEOUT_S) -> None:
    try:
        proc = subprocess.run(
            list(cmd), capture_output=True, text=True, timeout=timeout, check=False
        )
    except subprocess.TimeoutExpired as exc:
        raise ClientUnavailable(f"`{' '.join(cmd[:6])} …` timed out after {timeout:.0f} s") from exc
    if proc.returncode == 0:
        return
    output = (proc.stdout + proc.stderr).strip()
    if any(marker in output for marker in OFFLINE_MARKERS):
        last = output.splitlines()[-1] if output else ""
        raise ClientUnavailable(f"PyPI is not reachable from this machine ({last[:200]})")
    raise RuntimeError(f"`{' '.join(cmd)}` failed (exit {proc.returncode}):\n{output[-3000:]}")


def _outer_pip_can_target() -> bool:
    """Whether this interpreter's pip can install into another venv (``--python``, 22.3+)."""
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "--version"], capture_output=True, text=True, check=False
    )
    found = re.match(r"pip (\d+)\.(\d+)", proc.stdout)
    return proc.returncode == 0 and found is not None and (int(found[1]), int(found[2])) >= (22, 3)


def _build(version: str, root: Path, outer_pip: bool) -> OfficialClient:
    client = OfficialClient(version, root)
    if outer_pip:
        # A venv without its own pip saves ensurepip's ~8 s per venv.
        _run([sys.executable, "-m", "venv", "--without-pip", str(root)], timeout=120)
        pip = [sys.executable, "-m", "pip", "--python", str(client.python), *PIP_FLAGS]
    else:
        try:
            _run([sys.executable, "-m", "venv", str(root)], timeout=120)
        except RuntimeError as exc:
            raise ClientUnavailable(f"cannot create a virtual environment: {exc}") from exc
        pip = [str(client.python), "-m", "pip", *PIP_FLAGS]
    if version.startswith("0.0."):
        _run([*pip, *LEGACY_RUNTIME_DEPS])
        _run([*pip, "--no-deps", f"celesto=={version}"])
    else:
        _run([*pip, f"celesto=={version}"])
    _run(
        [
            str(client.python),
            "-c",
            "import importlib.metadata as m, celesto, celesto.sdk; "
            f"assert m.version('celesto') == {version!r}",
        ],
        timeout=120,
    )
    return client


@pytest.fixture(scope="session")
def official_clients(
    tmp_path_factory: pytest.TempPathFactory,
) -> dict[str, OfficialClient | BaseException]:
    base = tmp_path_factory.mktemp("official-clients")
    outer_pip = _outer_pip_can_target()
    started = time.monotonic()
    built: dict[str, OfficialClient | BaseException] = {}
    with concurrent.futures.ThreadPoolExecutor(max_workers=len(OFFICIAL_VERSIONS)) as pool:
        futures = {
            version: pool.submit(_build, version, base / f"celesto-{version}", outer_pip)
            for version in OFFICIAL_VERSIONS
        }
        for version, future in futures.items():
            try:
                built[version] = future.result()
            except BaseException as exc:
                built[version] = exc
    elapsed = time.monotonic() - started
    states = ", ".join(
        f"{version} {'ok' if isinstance(value, OfficialClient) else 'unavailable'}"
        for version, value in built.items()
    )
    _build_report.append(
        f"official Celesto client venvs set up in {elapsed:.1f} s "
        f"({'outer pip --python' if outer_pip else 'ensurepip'}; {states})"
    )
    return built


@pytest.fixture
def official_client(official_clients: dict[str, OfficialClient | BaseException]) -> GetClient:
    """``official("0.0.14")``: that client, or a skip when it could not be installed."""

    def get(version: str) -> OfficialClient:
        value = official_clients[version]
        if isinstance(value, ClientUnavailable):
            pytest.skip(f"celesto {version} is not installable here: {value}")
        if isinstance(value, BaseException):
            raise value
        return value

    return get


def _computer_ids(http: httpx.Client) -> set[str]:
    response = http.get("/v1/computers", params={"limit": 200})
    response.raise_for_status()
    return {computer["id"] for computer in response.json()["computers"]}


def _app_names(http: httpx.Client) -> set[str]:
    response = http.get("/v1/deploy/apps")
    response.raise_for_status()
    return {app["name"] for app in response.json()}


@pytest.fixture
def tidy_local_server(local_server: LocalServer) -> Iterator[LocalServer]:
    """The session's local backend; whatever a test's client left behind is deleted after."""
    with httpx.Client(
        base_url=local_server.base_url,
        headers={"Authorization": f"Bearer {local_server.api_key}"},
        timeout=30,
    ) as http:
        computers_before = _computer_ids(http)
        apps_before = _app_names(http)
        yield local_server
        local_server.set_faults(None)
        leftovers = _computer_ids(http) - computers_before
        for computer_id in leftovers:
            http.delete(f"/v1/computers/{computer_id}")
        for name in _app_names(http) - apps_before:
            http.delete(f"/v1/deploy/apps/{name}")
        wait_until(lambda: not leftovers & _computer_ids(http), what=f"{leftovers} to be deleted")


@pytest.fixture
def home_dir(tmp_path: Path) -> Path:
    """A throwaway HOME (and working directory) for the client processes."""
    path = tmp_path / "home"
    path.mkdir()
    return path


def client_env(home: Path, **extra: str | None) -> dict[str, str]:
    """A clean environment: nothing of the developer's config, no telemetry, no keyring."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/local/bin:/usr/bin:/bin"),
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "TERM": "xterm",
        "COLUMNS": "200",
        "NO_COLOR": "1",
        "PYTHONUNBUFFERED": "1",
        "CELESTO_NO_TELEMETRY": "1",
        "DO_NOT_TRACK": "1",
        "CELESTO_DISABLE_VERSION_CHECK": "1",
        "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring",
    }
    env.update({name: value for name, value in extra.items() if value is not None})
    return env


def pytest_terminal_summary(terminalreporter: Any) -> None:
    for line in _build_report:
        terminalreporter.write_line(line)


@contextlib.contextmanager
def faults(server: LocalServer, spec: str) -> Iterator[None]:
    server.set_faults(spec)
    try:
        yield
    finally:
        server.set_faults(None)
