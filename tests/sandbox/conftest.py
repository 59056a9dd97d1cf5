"""Fixtures for real sandboxes: both drivers, cleaned up after every test."""

from __future__ import annotations

import itertools
import os
import shutil
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from celesto_api.local.sandbox import (
    BwrapDriver,
    ProcessDriver,
    Sandbox,
    SandboxDriver,
    SandboxSpec,
    probe,
)
from celesto_api.local.sandbox.cgroups import ROOT, V1_CONTROLLERS
from tests.conftest import forced_process_mode

CAPABILITY = probe()
HAVE_BWRAP = CAPABILITY.level == "bwrap" and not forced_process_mode()
NEED_BWRAP = (
    "the suite runs in forced process mode"
    if forced_process_mode()
    else f"bubblewrap sandboxes unavailable here: {CAPABILITY.reason}"
)
_ids = itertools.count()


class Harness:
    """Starts sandboxes with unique ids and stops all of them at teardown."""

    def __init__(self, driver: SandboxDriver, homes: Path, kind: str) -> None:
        self.driver = driver
        self.homes = homes
        self.kind = kind
        self.started: list[Sandbox] = []

    def spec(self, name: str | None = None, **kwargs: Any) -> SandboxSpec:
        computer_id = name or f"t{os.getpid()}-{next(_ids)}"
        kwargs.setdefault("hostname", f"box-{computer_id}"[:40])
        return SandboxSpec(computer_id=computer_id, home=self.homes / computer_id, **kwargs)

    async def start(self, spec: SandboxSpec | None = None, **kwargs: Any) -> Sandbox:
        sandbox = await self.driver.start(spec or self.spec(**kwargs))
        self.started.append(sandbox)
        return sandbox

    async def close(self) -> None:
        for sandbox in self.started:
            await sandbox.stop()


@pytest.fixture
def runtime_dir() -> Iterator[Path]:
    # Short on purpose: AF_UNIX socket paths are limited to 107 bytes.
    path = Path(tempfile.mkdtemp(prefix="cst-", dir="/tmp"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


def make_driver(kind: str, runtime_dir: Path, **kwargs: Any) -> SandboxDriver:
    if kind == "bwrap":
        if not HAVE_BWRAP:
            pytest.skip(NEED_BWRAP)
        return BwrapDriver(runtime_dir, **kwargs)
    return ProcessDriver(runtime_dir)


async def _harness(kind: str, runtime_dir: Path, tmp_path: Path, **kwargs: Any) -> Harness:
    return Harness(make_driver(kind, runtime_dir, **kwargs), tmp_path / "homes", kind)


def leftover_cgroups() -> list[Path]:
    """cgroups of this test run's computers that were not removed."""
    parents = [ROOT / controller / "celesto" for controller in V1_CONTROLLERS]
    parents.append(ROOT / "celesto")
    prefix = f"t{os.getpid()}-"
    return [
        group
        for parent in parents
        if parent.is_dir()
        for group in parent.iterdir()
        if group.is_dir() and group.name.startswith(prefix)
    ]


@pytest.fixture(params=["bwrap", "process"])
async def harness(
    request: pytest.FixtureRequest, runtime_dir: Path, tmp_path: Path
) -> AsyncIterator[Harness]:
    h = await _harness(request.param, runtime_dir, tmp_path)
    yield h
    await h.close()
    assert not leftover_cgroups()


@pytest.fixture
async def bwrap_harness(runtime_dir: Path, tmp_path: Path) -> AsyncIterator[Harness]:
    h = await _harness("bwrap", runtime_dir, tmp_path)
    yield h
    await h.close()
    assert not leftover_cgroups()


@pytest.fixture
async def bwrap_rlimits_harness(runtime_dir: Path, tmp_path: Path) -> AsyncIterator[Harness]:
    """bwrap without cgroups, as for a non-root server."""
    h = await _harness("bwrap", runtime_dir, tmp_path, use_cgroups=False)
    yield h
    await h.close()


@pytest.fixture
async def process_harness(runtime_dir: Path, tmp_path: Path) -> AsyncIterator[Harness]:
    h = await _harness("process", runtime_dir, tmp_path)
    yield h
    await h.close()
