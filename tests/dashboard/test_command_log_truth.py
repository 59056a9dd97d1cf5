"""The command log says what happened: a command the user stopped waiting for is not
``running`` forever, a deploy that failed to build is not ``ok``, and a ``--local`` line
runs as printed while the dashboard holds the data dir."""

from __future__ import annotations

import random
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

from textual.widgets import DataTable, Input

from celesto_api import Celesto
from celesto_api.local import LocalServer
from celesto_tui.app.screens.confirm import ConfirmScreen
from celesto_tui.app.widgets.log_views import CommandLogView
from celesto_tui.model.command_log import LogEntry
from tests.cli.helpers import clean_env
from tests.waiting import wait_status

from .conftest import (
    AppFactory,
    computers_view,
    loaded,
    local_target,
    open_deploy_dialog,
    select,
    wait_for,
)


async def shown_result(pilot: Any, entry_index: int = 0) -> str:
    """The Result cell of the newest entry in the command log view."""
    view = pilot.app.query_one(CommandLogView)
    table: DataTable[Any] = view.table
    return str(table.get_row_at(entry_index)[3])


async def test_a_run_stopped_with_ctrl_g_is_cancelled_not_running(
    make_app: AppFactory, running_computer: dict[str, Any]
) -> None:
    app = make_app()
    async with app.run_test(size=(160, 48)) as pilot:
        await loaded(pilot)
        await select(pilot, running_computer["id"])
        await pilot.press("e")
        pane = computers_view(app).exec_pane
        pane.prompt.value = "sleep 30"
        await pilot.press("enter")
        log = app.command_log.entries
        await wait_for(pilot, lambda: pane.running and bool(log), what="the run")
        entry = log[-1]
        assert entry.action == "run" and entry.status == "running"
        await pilot.press("ctrl+g")
        await wait_for(pilot, lambda: entry.status != "running", what="the log to say so")
        assert entry.status == "cancelled"
        assert "may still be running" in entry.detail
        await app.run_action("show_view('commands')")
        assert "cancelled" in await shown_result(pilot)


async def test_a_failed_deploy_ends_failed_in_the_log(make_app: AppFactory, tmp_path: Path) -> None:
    folder = tmp_path / "no-start"
    folder.mkdir()
    (folder / "notes.txt").write_text("no main.py, app.py or Procfile: nothing to start\n")
    name = f"broken-{random.getrandbits(24):06x}"
    app = make_app(refresh=0.2)
    async with app.run_test(size=(160, 48)) as pilot:
        await loaded(pilot)
        dialog = await open_deploy_dialog(pilot)
        dialog.query_one("#deploy-folder", Input).value = str(folder)
        dialog.query_one("#deploy-name", Input).value = name
        dialog.query_one("#deploy-name", Input).focus()
        await pilot.press("enter")
        await wait_for(pilot, lambda: name in app.model.items["deployments"], what="the row")
        entry: LogEntry = app.command_log.entries[-1]
        assert entry.action == "deploy"
        # Accepted by the API is not deployed: the entry waits for the build's outcome.
        await wait_for(
            pilot,
            lambda: app.model.items["deployments"][name]["status"] == "FAILED",
            timeout=60,
            what="FAILED",
        )
        await wait_for(pilot, lambda: entry.done, what="the log entry to end")
        assert entry.status == "failed"
        assert "No start command" in entry.detail
        await app.run_action("show_view('commands')")
        assert "failed" in await shown_result(pilot)


async def test_a_local_line_runs_as_printed_while_the_dashboard_holds_the_data_dir(
    make_app: AppFactory,
    running_computer: dict[str, Any],
    local_server: LocalServer,
    sdk: Celesto,
    tmp_path: Path,
) -> None:
    app = make_app(target=local_target(local_server, data_dir=local_server.data_dir))
    async with app.run_test(size=(160, 44)) as pilot:
        await loaded(pilot)
        await select(pilot, running_computer["id"])
        await pilot.press("x")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.click("#confirm")
        log = app.command_log.entries
        await wait_for(pilot, lambda: log and log[-1].done, what="the stop")
        line = log[-1].line
        assert line == (
            f"celesto-tui --data-dir {local_server.data_dir} computer stop"
            f" {running_computer['name']} --local"
        )
        wait_status(sdk, running_computer["id"], "stopped")
        sdk.computers.start(running_computer["id"])
        wait_status(sdk, running_computer["id"], "running")
        # The line, pasted into a shell while the dashboard runs, reaches its server.
        words = shlex.split(line)
        done = subprocess.run(
            [sys.executable, "-m", "celesto_tui", *words[1:]],
            capture_output=True,
            text=True,
            env=clean_env(tmp_path),
            timeout=90,
            stdin=subprocess.DEVNULL,
        )
        assert done.returncode == 0, done.stderr
        assert "already running" in done.stderr
        wait_status(sdk, running_computer["id"], "stopped")
