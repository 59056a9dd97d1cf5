"""Attacks on the local server, from inside a computer and from the API.

Every test runs with a :class:`HealthProbe`: a thread that asks ``/health`` all along the
attack. Its worst latency is listed at the end of the run and bounded by a generous ceiling
(a stalled event loop answered after 30 s before these fixes), never by a tight timing.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from celesto_api.local import LocalServer
from tests.conftest import TLS
from tests.waiting import wait_until

HEALTH_CEILING_S = 5.0
PROBE_INTERVAL_S = 0.02
_worst: dict[str, tuple[float, int]] = {}


class HealthProbe:
    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.latencies: list[float] = []
        self.failures: list[str] = []
        self._stop = threading.Event()
        self._first = threading.Event()
        # With the session's CA context, not a new load of the CA file (see tests/conftest).
        self._http = httpx.Client(base_url=self.base_url, timeout=60, verify=TLS)
        self._thread = threading.Thread(target=self._run, name="health-probe", daemon=True)

    def _run(self) -> None:
        with self._http as http:
            while not self._stop.is_set():
                started = time.perf_counter()
                try:
                    status = http.get("/health").status_code
                except httpx.HTTPError as exc:
                    self.failures.append(type(exc).__name__)
                else:
                    if status != 200:
                        self.failures.append(f"HTTP {status}")
                self.latencies.append(time.perf_counter() - started)
                self._first.set()
                self._stop.wait(PROBE_INTERVAL_S)

    def __enter__(self) -> HealthProbe:
        self._thread.start()
        self._first.wait(30)
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join(90)

    @property
    def worst(self) -> float:
        return max(self.latencies, default=0.0)


@pytest.fixture(scope="package", params=[None, "process"], ids=["default", "process"])
def local_server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LocalServer]:
    """Every attack against the run's default server (bwrap where it is usable, unless the
    run forces process mode) and against a process-mode one; attacks that only bwrap can
    stop skip the latter."""
    isolation = request.param
    with LocalServer(
        data_dir=tmp_path_factory.mktemp(f"adversarial-{isolation or 'default'}"),
        isolation=isolation,
    ) as server:
        yield server


@pytest.fixture
def health_probe(
    local_server: LocalServer, request: pytest.FixtureRequest
) -> Iterator[HealthProbe]:
    """The attack runs while /health is asked every 20 ms; it must keep answering."""
    with HealthProbe(local_server.base_url) as probe:
        yield probe
    _worst[request.node.nodeid.split("::")[-1]] = (probe.worst, len(probe.latencies))
    assert not probe.failures, probe.failures
    assert probe.latencies, "the health probe never ran"
    assert probe.worst < HEALTH_CEILING_S, f"/health took {probe.worst:.2f} s during the attack"


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not _worst:
        return
    terminalreporter.section("worst /health latency during each attack")
    width = max(len(name) for name in _worst)
    for name, (worst, count) in sorted(_worst.items()):
        terminalreporter.write_line(f"{name:<{width}}  {worst * 1000:8.1f} ms  ({count} probes)")


def wait_status(http: httpx.Client, computer_id: str, wanted: str, timeout: float = 30) -> Any:
    return wait_until(
        lambda: http.get(f"/v1/computers/{computer_id}").json(),
        lambda body: body["status"] == wanted,
        f"{computer_id} to be {wanted}",
        timeout,
    )


@pytest.fixture
def running_computer_via_http(http: httpx.Client) -> Iterator[dict[str, Any]]:
    created = http.post("/v1/computers", json={})
    assert created.status_code == 201, created.text
    computer = wait_status(http, created.json()["id"], "running")
    assert computer["status"] == "running", computer
    yield computer
    with contextlib.suppress(httpx.HTTPError):
        http.delete(f"/v1/computers/{computer['id']}")


def run(http: httpx.Client, computer_id: str, command: str, timeout: int = 30) -> Any:
    response = http.post(
        f"/v1/computers/{computer_id}/exec", json={"command": command, "timeout": timeout}
    )
    return response
