"""The computers table marks (⌁ before the name) the computers with a shell opened here that
is still alive: from the moment a terminal tab is open, while the user is back on the
dashboard or the tab is closed (the shell keeps running), until the shell ends."""

from __future__ import annotations

from typing import Any

from textual import events
from textual.pilot import Pilot
from textual.widgets import Label

from celesto_api import AsyncCelesto
from celesto_api.local import LocalServer
from celesto_tui.app.celesto_app import CelestoApp
from celesto_tui.app.screens.help import HelpScreen
from celesto_tui.model.computers_table import SHELL_MARK
from celesto_tui.terminal.link import Phase
from celesto_tui.terminal.terminals_screen import TerminalsScreen

from .conftest import (
    AppFactory,
    computers_view,
    loaded,
    local_target,
    saved_state,
    select,
    wait_for,
)


def name_cell(app: CelestoApp, computer_id: str) -> str:
    table = computers_view(app).table
    return str(table.get_cell(computer_id, "name"))


async def type_line(pilot: Pilot[Any], text: str) -> None:
    """One key event per character, as a terminal delivers them, then Enter."""
    for char in text:
        pilot.app.post_message(events.Key("space" if char == " " else char, char))
    pilot.app.post_message(events.Key("enter", "\r"))
    await pilot.pause()


async def open_shell(pilot: Pilot[Any], computer_id: str) -> TerminalsScreen:
    """`t` on the computer, until its shell is connected; the screen of terminals."""
    app = pilot.app
    assert isinstance(app, CelestoApp)
    await select(pilot, computer_id)
    await pilot.press("t")
    await wait_for(pilot, lambda: isinstance(app.screen, TerminalsScreen), what="terminals")
    screen = app.screen
    assert isinstance(screen, TerminalsScreen)
    await wait_for(
        pilot,
        lambda: (
            screen.active_pane is not None and screen.active_pane.status.phase is Phase.CONNECTED
        ),
        what="the shell",
    )
    return screen


async def test_the_mark_shows_while_the_shell_lives_and_goes_when_it_ends(
    make_app: AppFactory, running_computer: dict[str, Any]
) -> None:
    app = make_app()
    name, computer_id = str(running_computer["name"]), str(running_computer["id"])
    async with app.run_test(size=(120, 36)) as pilot:
        await loaded(pilot)
        assert name_cell(app, computer_id) == name
        screen = await open_shell(pilot, computer_id)
        await wait_for(
            pilot, lambda: name_cell(app, computer_id) == f"{SHELL_MARK} {name}", what="the mark"
        )
        await pilot.press("ctrl+right_square_bracket")  # back to the dashboard: still running
        await wait_for(pilot, lambda: app.screen is app.screen_stack[0], what="the dashboard")
        assert name_cell(app, computer_id) == f"{SHELL_MARK} {name}"
        # The filter and the sort read the name, not the mark.
        computers_view(app).filter_bar.value = name
        await wait_for(pilot, lambda: computer_id in computers_view(app).table.rows)

        await pilot.press("t")  # the same tab again; the shell ends there
        await wait_for(pilot, lambda: app.screen is screen, what="the terminals again")
        pane = screen.active_pane
        assert pane is not None
        await type_line(pilot, "exit")
        await wait_for(pilot, lambda: pane.status.phase is Phase.ENDED, what="the shell's end")
        await wait_for(pilot, lambda: name_cell(app, computer_id) == name, what="no mark")


async def test_a_closed_tab_keeps_the_mark_until_a_stop_ends_its_shell(
    make_app: AppFactory, running_computer: dict[str, Any], async_sdk: AsyncCelesto
) -> None:
    app = make_app()
    name, computer_id = str(running_computer["name"]), str(running_computer["id"])
    async with app.run_test(size=(120, 36)) as pilot:
        await loaded(pilot)
        await open_shell(pilot, computer_id)
        await pilot.press("ctrl+f4")  # detach and close the tab: the shell keeps running
        await wait_for(pilot, lambda: app.screen is app.screen_stack[0], what="the dashboard")
        assert name_cell(app, computer_id) == f"{SHELL_MARK} {name}"
        assert computer_id in computers_view(app).shells
        await async_sdk.computers.stop(computer_id)  # elsewhere: a stop ends every shell
        await wait_for(pilot, lambda: name_cell(app, computer_id) == name, what="no mark")


async def test_a_shell_remembered_from_an_earlier_run_is_marked(
    make_app: AppFactory, running_computer: dict[str, Any], local_server: LocalServer
) -> None:
    """On a server that outlives the app (not the embedded backend), the shell a closed tab
    left running is remembered; the next run marks it (and `t` reattaches to it)."""
    target = local_target(local_server, local=False, label="server")
    name, computer_id = str(running_computer["name"]), str(running_computer["id"])
    first = make_app(target=target)
    async with first.run_test(size=(120, 36)) as pilot:
        await loaded(pilot)
        await open_shell(pilot, computer_id)
        await pilot.press("ctrl+f4")
        await wait_for(pilot, lambda: first.screen is first.screen_stack[0], what="dashboard")
        await wait_for(
            pilot,
            lambda: computer_id in str(saved_state().get("terminals")),
            what="the shell remembered",
        )

    again = make_app(target=target)
    async with again.run_test(size=(120, 36)) as pilot:
        await loaded(pilot)
        await wait_for(pilot, lambda: computer_id in computers_view(again).table.rows)
        assert name_cell(again, computer_id) == f"{SHELL_MARK} {name}"


async def test_the_help_screen_explains_the_mark(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("question_mark")
        await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen), what="the help")
        hint = str(app.screen.query_one(".help-hint", Label).render())
        assert f"{SHELL_MARK} before a computer's name" in hint
