"""Terminals survive a restart of the app: the terminal id of each computer is kept in the UI
state file per API base URL, and opening the terminal on that computer in the next run
reattaches the same shell; an id the server no longer knows (404) gives a new shell, silently.
Two (and three) runs of the real dashboard app against the same local server."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from celesto_api import AsyncCelesto
from celesto_api.local import LocalServer
from celesto_tui.app.celesto_app import CelestoApp
from celesto_tui.app.settings import Settings
from celesto_tui.model.target import Target
from celesto_tui.terminal.link import Phase
from celesto_tui.terminal.pane import TerminalPane
from celesto_tui.terminal.terminals_screen import TerminalsScreen

from .conftest import (
    TerminalsApp,
    type_line,
    wait_for_status,
    wait_for_text,
    wait_prompt,
    wait_until,
)


def dashboard(server: LocalServer, state_path: Path) -> CelestoApp:
    """The app as `celesto-tui --base-url URL` opens it on a `local serve` server (shells
    outlive the app there, unlike --local, whose embedded backend ends with the app)."""
    target = Target(
        base_url=server.base_url, api_key=server.api_key, label="local server", local=False
    )
    return CelestoApp(target, refresh_seconds=0.25, settings=Settings(), state_path=state_path)


async def open_terminal(app: CelestoApp, pilot: Any, computer_id: str) -> TerminalPane:
    table = app.views["computers"].table
    await wait_until(pilot, lambda: computer_id in table.rows, "the computer's row")
    table.focus()
    table.select_key(computer_id)
    await pilot.press("t")
    await wait_until(pilot, lambda: isinstance(app.screen, TerminalsScreen), "the terminals")
    screen = app.screen
    assert isinstance(screen, TerminalsScreen)
    await wait_until(pilot, lambda: screen.active_pane is not None, "the terminal tab")
    pane = screen.active_pane
    assert pane is not None
    await wait_prompt(pilot, pane)
    return pane


def saved_terminals(state_path: Path) -> Any:
    return json.loads(state_path.read_text())["terminals"]


def terminal_errors(app: CelestoApp) -> list[str]:
    return [n.message for n in app._notifications if n.title == "Terminal"]


async def test_a_restarted_app_reattaches_the_shell_and_replaces_an_expired_id(
    local_server: LocalServer,
    async_sdk: AsyncCelesto,
    running_computer: dict[str, Any],
    tmp_path: Path,
) -> None:
    state_path = tmp_path / "ui-state.json"
    base_url = local_server.base_url

    first = dashboard(local_server, state_path)
    async with first.run_test(size=(120, 36)) as pilot:
        pane = await open_terminal(first, pilot, running_computer["id"])
        terminal_id = pane.terminal_id
        assert terminal_id is not None
        await type_line(pilot, "export KEPT=run-$((6*7))")
        await wait_for_text(pilot, pane.view, "run-$((6*7))")
        await wait_until(
            pilot,
            lambda: first.ui_state.terminals == {base_url: {running_computer["id"]: terminal_id}},
            "the id remembered",
        )
    # Ids only: the file has no token (nor the API key) in it.
    text = state_path.read_text()
    assert saved_terminals(state_path) == {base_url: {running_computer["id"]: terminal_id}}
    assert local_server.api_key not in text and "token" not in text

    second = dashboard(local_server, state_path)
    async with second.run_test(size=(120, 36), notifications=True) as pilot:
        pane = await open_terminal(second, pilot, running_computer["id"])
        assert pane.terminal_id == terminal_id  # the same shell: its variable is still set
        await type_line(pilot, 'echo "[$KEPT]"')
        await wait_for_text(pilot, pane.view, "[run-42]")

    # A restart of the computer ends its shells: the stored id is unknown to the server now.
    await async_sdk.computers.stop(running_computer["id"])
    await wait_for_status(async_sdk, running_computer["id"], "stopped")
    await async_sdk.computers.start(running_computer["id"])
    await wait_for_status(async_sdk, running_computer["id"], "running")

    third = dashboard(local_server, state_path)
    async with third.run_test(size=(120, 36), notifications=True) as pilot:
        pane = await open_terminal(third, pilot, running_computer["id"])
        new_id = pane.terminal_id
        assert new_id is not None and new_id != terminal_id
        await type_line(pilot, 'echo "[$KEPT]"')
        await wait_for_text(pilot, pane.view, "[]")
        assert not terminal_errors(third)  # silently: no toast about the old terminal
        assert pane.status.phase is Phase.CONNECTED
        await wait_until(
            pilot,
            lambda: third.ui_state.terminals == {base_url: {running_computer["id"]: new_id}},
            "the new id remembered",
        )
    assert saved_terminals(state_path) == {base_url: {running_computer["id"]: new_id}}


async def test_an_unknown_kept_id_opens_a_new_shell_and_is_replaced(
    async_sdk: AsyncCelesto, running_computer: dict[str, Any]
) -> None:
    gone = "term_0000000000gone"
    app = TerminalsApp(async_sdk, kept_terminals={running_computer["id"]: gone})
    async with app.run_test(size=(90, 24), notifications=True) as pilot:
        app.show_terminal(running_computer["id"], running_computer["name"])
        await wait_until(pilot, lambda: app.terminals.active_pane is not None, "the tab")
        pane = app.terminals.active_pane
        assert pane is not None
        await wait_prompt(pilot, pane)
        assert pane.terminal_id is not None and pane.terminal_id != gone
        await wait_until(
            pilot,
            lambda: (
                app.announced and app.announced[-1] == {running_computer["id"]: pane.terminal_id}
            ),
            "the new id announced",
        )
        assert not [n for n in app._notifications if n.title == "Terminal"]

        await type_line(pilot, "exit")  # the shell ends: nothing is left to reattach
        await wait_until(pilot, lambda: pane.status.phase is Phase.ENDED, "the end")
        await wait_until(pilot, lambda: app.announced[-1] == {}, "the id forgotten")


async def test_the_embedded_backend_keeps_no_terminal_ids(
    local_server: LocalServer, running_computer: dict[str, Any], tmp_path: Path
) -> None:
    """--local: the backend (and every shell) ends with the app, on a new port next time."""
    target = Target(
        base_url=local_server.base_url, api_key=local_server.api_key, label="local", local=True
    )
    state_path = tmp_path / "ui-state.json"
    app = CelestoApp(target, refresh_seconds=0.25, settings=Settings(), state_path=state_path)
    async with app.run_test(size=(120, 36)) as pilot:
        pane = await open_terminal(app, pilot, running_computer["id"])
        await type_line(pilot, "echo opened")
        await wait_for_text(pilot, pane.view, "opened")
        assert app.ui_state.terminals == {}
