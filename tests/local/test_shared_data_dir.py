"""A data dir held by a running server (the dashboard's embedded backend, `local serve`):
``--local --data-dir`` commands reach that server instead of failing, so the command log's
lines run as printed while the dashboard is open."""

from __future__ import annotations

import json
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from celesto_api import Celesto
from celesto_api.local import DataDirBusyError, LocalServer
from celesto_api.local.backend import SERVER_FILE, read_running_server
from tests.cli.helpers import Result, clean_env
from tests.waiting import wait_status

COMMAND_TIMEOUT_S = 90


def cli(config_dir: Path, *args: str) -> Result:
    done = subprocess.run(
        [sys.executable, "-m", "celesto_tui", *args],
        capture_output=True,
        text=True,
        env=clean_env(config_dir),
        timeout=COMMAND_TIMEOUT_S,
        stdin=subprocess.DEVNULL,
    )
    return Result(done.returncode, done.stdout, done.stderr)


@pytest.fixture
def config_dir(tmp_path: Path) -> Path:
    path = tmp_path / "config"
    path.mkdir()
    return path


def test_the_running_server_announces_itself_privately(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    with LocalServer(data_dir=data_dir) as server:
        path = data_dir / SERVER_FILE
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert stat.S_IMODE(data_dir.stat().st_mode) == 0o700
        record = json.loads(path.read_text())
        assert record["base_url"] == server.base_url and record["api_key"] == server.api_key
        running = read_running_server(data_dir)
        assert running is not None and server.api_key not in repr(running)
    assert not path.exists()  # a stopped server leaves no address behind


def test_a_second_server_on_the_data_dir_is_told_where_the_first_listens(
    tmp_path: Path,
) -> None:
    with LocalServer(data_dir=tmp_path) as server:
        second = LocalServer(data_dir=tmp_path)
        with pytest.raises(DataDirBusyError) as caught:
            second.start()
    message = str(caught.value)
    assert server.base_url in message and "--local commands" in message
    assert server.api_key not in message + repr(caught.value)


def test_cli_local_commands_reach_the_server_holding_the_data_dir(
    tmp_path: Path, config_dir: Path
) -> None:
    data_dir = tmp_path / "dash data"
    with (
        LocalServer(data_dir=data_dir) as server,
        Celesto(api_key=server.api_key, base_url=server.base_url) as sdk,
    ):
        target = ("--local", "--data-dir", str(data_dir))
        created = cli(config_dir, *target, "computer", "create", "--json")
        assert created.returncode == 0, created.stderr
        assert "already running" in created.stderr
        assert "Another local Celesto server" not in created.stderr
        computer = created.json()
        try:
            # The CLI has exited; the computer lives on in the server it reached.
            running = wait_status(sdk, computer["id"], "running")
            assert running["name"] == computer["name"]
            listed = cli(config_dir, *target, "computer", "list", "--json")
            assert listed.returncode == 0, listed.stderr
            assert computer["id"] in [c["id"] for c in listed.json()]
        finally:
            deleted = cli(config_dir, *target, "computer", "delete", computer["id"], "--force")
            assert deleted.returncode == 0, deleted.stderr


def test_an_address_readable_by_others_is_ignored(tmp_path: Path, config_dir: Path) -> None:
    data_dir = tmp_path / "data"
    with LocalServer(data_dir=data_dir):
        (data_dir / SERVER_FILE).chmod(0o644)
        result = cli(config_dir, "--local", "--data-dir", str(data_dir), "computer", "list")
    assert result.returncode == 1
    assert "has not said where it listens" in result.stderr
    assert "Traceback" not in result.stderr
