"""Shared fixtures: one real local backend per test session, on loopback."""

from __future__ import annotations

import contextlib
import os
import ssl
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from celesto_api import AsyncCelesto, Celesto
from celesto_api.local import LocalServer
from tests.cloud_like import CloudLikeFront, cloud_like_front
from tests.waiting import wait_status

_ISOLATED_ENV = (
    "CELESTO_API_KEY",
    "CELESTO_BASE_URL",
    "CELESTO_PROFILE",
    "CELESTO_ORGANIZATION_ID",
    "CELESTO_PROJECT_NAME",
    "CELESTO_LOCAL_FAULTS",
)


ISOLATION_ENV = "CELESTO_LOCAL_ISOLATION"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--isolation",
        choices=("auto", "bwrap", "process"),
        default=None,
        help="Run every local backend of the suite in this isolation mode "
        f"(the same as ${ISOLATION_ENV}); tests that need namespaces skip in process mode.",
    )


def pytest_configure(config: pytest.Config) -> None:
    chosen = config.getoption("--isolation")
    if chosen:
        os.environ[ISOLATION_ENV] = chosen


def forced_process_mode() -> bool:
    return os.environ.get(ISOLATION_ENV, "").strip().lower() == "process"


def needs_namespaces(server: LocalServer) -> None:
    """Skip a test whose computers must be bwrap sandboxes (own hostname, pid and net)."""
    if server.isolation != "bwrap":
        pytest.skip(f"needs bwrap sandboxes; this server's computers are {server.sandboxing}")


@pytest.fixture(scope="session", autouse=True)
def isolated_config(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Tests never read or write the developer's real config."""
    saved = {name: os.environ.pop(name, None) for name in _ISOLATED_ENV}
    config_dir = tmp_path_factory.mktemp("config")
    os.environ["CELESTO_CONFIG_DIR"] = str(config_dir)
    yield config_dir
    os.environ.pop("CELESTO_CONFIG_DIR", None)
    for name, value in saved.items():
        if value is not None:
            os.environ[name] = value


@pytest.fixture(scope="session")
def local_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalServer]:
    with LocalServer(data_dir=tmp_path_factory.mktemp("local-backend")) as server:
        yield server


@pytest.fixture(autouse=True)
def _no_faults_left(request: pytest.FixtureRequest) -> Iterator[None]:
    yield
    if "local_server" in request.fixturenames:
        request.getfixturevalue("local_server").set_faults(None)


@pytest.fixture
def cloud_like(local_server: LocalServer) -> Iterator[CloudLikeFront]:
    """The local server behind a front with the cloud's routes (no local-only endpoints)."""
    with cloud_like_front(local_server.base_url) as front:
        yield front


# The CA bundle loaded once, at import, before any test thread: OpenSSL 3 failed here now and
# then ("[X509] PEM lib") when two threads loaded it at once, each for a new httpx client.
TLS = ssl.create_default_context()


@pytest.fixture
def http(local_server: LocalServer) -> Iterator[httpx.Client]:
    """A raw HTTP client on the (nearest) local server: wire-level checks without the SDK."""
    with httpx.Client(
        base_url=local_server.base_url,
        headers={"Authorization": f"Bearer {local_server.api_key}"},
        timeout=90,
        verify=TLS,
    ) as client:
        yield client


@pytest.fixture
def sdk(local_server: LocalServer) -> Iterator[Celesto]:
    with Celesto(api_key=local_server.api_key, base_url=local_server.base_url) as celesto:
        yield celesto


@pytest.fixture
async def async_sdk(local_server: LocalServer) -> AsyncIterator[AsyncCelesto]:
    async with AsyncCelesto(
        api_key=local_server.api_key, base_url=local_server.base_url
    ) as celesto:
        yield celesto


@pytest.fixture
def running_computer(sdk: Celesto) -> Iterator[dict[str, Any]]:
    created = sdk.computers.create()
    running = wait_status(sdk, created["id"], "running")
    assert running["status"] == "running", running
    yield dict(running)
    with contextlib.suppress(Exception):
        sdk.computers.delete(created["id"])
