"""The CLI as users run it: every command is a subprocess (``python -m celesto_tui ...``)
talking to a real ``celesto-tui local serve`` subprocess, with a throwaway config dir."""

from __future__ import annotations

import contextlib
import json
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from celesto_api import Celesto

from .helpers import Cli, Served, celesto_tui, clean_env, wait_for


@pytest.fixture(scope="session")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """One `celesto-tui local serve` for the whole CLI suite; its JSON ready line says where."""
    data_dir = tmp_path_factory.mktemp("cli-backend")
    config_dir = tmp_path_factory.mktemp("cli-server-config")
    with (data_dir / "serve.log").open("w") as log:
        process = subprocess.Popen(
            celesto_tui("local", "serve", "--data-dir", str(data_dir)),
            stdout=subprocess.PIPE,
            stderr=log,
            text=True,
            env=clean_env(config_dir),
        )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert line, (data_dir / "serve.log").read_text()
        ready = json.loads(line)
        yield Served(ready["base_url"], ready["api_key"], Path(ready["data_dir"]))
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)


@pytest.fixture
def config_dir(tmp_path: Path) -> Path:
    path = tmp_path / "config"
    path.mkdir()
    return path


@pytest.fixture
def cli(served: Served, config_dir: Path) -> Cli:
    return Cli(served, clean_env(config_dir))


@pytest.fixture(scope="session")
def sdk(served: Served) -> Iterator[Celesto]:
    """For arranging and checking state; the commands under test always run as subprocesses."""
    with Celesto(api_key=served.api_key, base_url=served.base_url) as client:
        yield client


@pytest.fixture
def running_computer(sdk: Celesto) -> Iterator[dict[str, Any]]:
    created = sdk.computers.create()
    yield wait_for(sdk, created["id"], "running")
    with contextlib.suppress(Exception):
        sdk.computers.delete(created["id"])
