"""The terminals screen: tabs on several computers, detach and reattach, keys, leaving."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from textual.pilot import Pilot

from celesto_api import AsyncCelesto
from celesto_tui.terminal.link import Phase
from celesto_tui.terminal.pane import TerminalPane

from .conftest import (
    Dashboard,
    TerminalsApp,
    screen_lines,
    screen_text,
    type_line,
    wait_for_status,
    wait_for_text,
    wait_prompt,
    wait_until,
)


@pytest.fixture
async def two_computers(async_sdk: AsyncCelesto) -> AsyncIterator[list[dict[str, Any]]]:
    created = [await async_sdk.computers.create() for _ in range(2)]
    for computer in created:
        await wait_for_status(async_sdk, computer["id"], "running")
    yield [dict(computer) for computer in created]
    for computer in created:
        await async_sdk.computers.delete(computer["id"])


def _active(app: TerminalsApp) -> TerminalPane:
    pane = app.terminals.active_pane
    assert pane is not None
    return pane


async def open_tab(pilot: Pilot[None], app: TerminalsApp, computer: dict[str, Any]) -> TerminalPane:
    """Open the terminal on `computer`; its pane once the shell has printed a prompt."""
    app.show_terminal(computer["id"], computer["name"])
    await wait_until(pilot, lambda: app.terminals.active_pane is not None, "a tab")
    pane = _active(app)
    await wait_prompt(pilot, pane)
    return pane


async def test_two_tabs_at_once_each_with_its_own_shell(
    async_sdk: AsyncCelesto, two_computers: list[dict[str, Any]]
) -> None:
    first, second = two_computers
    app = TerminalsApp(async_sdk)
    async with app.run_test(size=(90, 24)) as pilot:
        one = await open_tab(pilot, app, first)
        await type_line(pilot, "echo on-$(hostname)")
        await wait_for_text(pilot, one.view, f"on-{first['name']}")

        app.show_terminal(second["id"], second["name"])
        await wait_until(pilot, lambda: len(app.terminals.panes) == 2, "the second tab")
        two = _active(app)
        assert two is not one and two.computer_id == second["id"]
        await wait_prompt(pilot, two)
        await type_line(pilot, "echo on-$(hostname)")
        await wait_for_text(pilot, two.view, f"on-{second['name']}")
        assert one.status.phase is Phase.CONNECTED  # the hidden tab stays attached

        await pilot.press("ctrl+pageup")  # a screen binding, let through by the terminal
        await wait_until(pilot, lambda: app.terminals.active_pane is one, "the first tab")
        assert one.view.has_focus
        await type_line(pilot, "echo back-in-one")
        await wait_for_text(pilot, one.view, "back-in-one")
        assert "back-in-one" not in screen_text(two.view)
        await pilot.press("ctrl+pagedown")
        await wait_until(pilot, lambda: app.terminals.active_pane is two, "the second tab")

        app.show_terminal(first["id"], first["name"])  # focuses the existing tab
        await wait_until(pilot, lambda: app.terminals.active_pane is one, "the existing tab")
        assert len(app.terminals.panes) == 2
        assert set(app.terminals.terminal_ids) == {first["id"], second["id"]}


async def test_close_tab_detaches_and_reopening_reattaches_with_the_output_replayed(
    async_sdk: AsyncCelesto, running_computer: dict[str, Any]
) -> None:
    app = TerminalsApp(async_sdk)
    async with app.run_test(size=(90, 24)) as pilot:
        pane = await open_tab(pilot, app, running_computer)
        await type_line(pilot, "KEPT=still-$((20+1)); echo before-detach")
        await wait_for_text(pilot, pane.view, "before-detach")
        terminal_id = pane.terminal_id

        await pilot.press("ctrl+f4")  # close the tab: detach, the shell keeps running
        await wait_until(pilot, lambda: isinstance(app.screen, Dashboard), "the dashboard")
        assert app.terminals.panes == []
        assert app.terminals.terminal_ids == {running_computer["id"]: terminal_id}

        app.show_terminal(running_computer["id"], running_computer["name"])
        await wait_until(pilot, lambda: app.terminals.active_pane is not None, "the new tab")
        again = _active(app)
        await wait_for_text(pilot, again.view, "before-detach")  # replayed
        assert again.terminal_id == terminal_id
        await type_line(pilot, 'echo "<$KEPT>"')
        await wait_for_text(pilot, again.view, "<still-21>")


async def test_leave_key_returns_to_the_dashboard_and_keys_reach_the_shell(
    async_sdk: AsyncCelesto, running_computer: dict[str, Any]
) -> None:
    app = TerminalsApp(async_sdk)
    async with app.run_test(size=(90, 24)) as pilot:
        pane = await open_tab(pilot, app, running_computer)
        await type_line(pilot, "echo history-$((2+3))")
        await wait_for_text(pilot, pane.view, "history-5")
        # ctrl+p is the app's command palette and readline's previous-history: the shell wins.
        await pilot.press("ctrl+p", "enter")
        await wait_until(
            pilot, lambda: screen_lines(pane.view).count("history-5") == 2, "history recall"
        )
        await pilot.press("escape")  # the program's: the screen's escape binding waits
        await pilot.pause(0.1)
        assert app.screen is app.terminals
        await pilot.press("ctrl+right_square_bracket")
        await wait_until(pilot, lambda: isinstance(app.screen, Dashboard), "the dashboard")
        assert pane.status.phase is Phase.CONNECTED  # leaving does not detach
        app.show_terminal(running_computer["id"], running_computer["name"])
        await wait_until(pilot, lambda: app.screen is app.terminals, "the terminals again")
        assert pane.view.has_focus
        await type_line(pilot, "echo still-here")
        await wait_for_text(pilot, pane.view, "still-here")


async def test_screen_bindings_follow_the_app_keymap(
    async_sdk: AsyncCelesto, running_computer: dict[str, Any]
) -> None:
    app = TerminalsApp(async_sdk)
    async with app.run_test(size=(90, 24)) as pilot:
        app.set_keymap({"terminals.close-tab": "f12"})
        pane = await open_tab(pilot, app, running_computer)
        await pilot.press("ctrl+f4")  # no longer bound: the terminal gets it (CSI 1;5S)
        assert app.terminals.active_pane is pane
        await pilot.press("f12")
        await wait_until(pilot, lambda: isinstance(app.screen, Dashboard), "the dashboard")
        assert app.terminals.panes == []


async def test_pop_out_without_a_real_terminal_warns_and_keeps_the_pane(
    async_sdk: AsyncCelesto, running_computer: dict[str, Any]
) -> None:
    app = TerminalsApp(async_sdk)
    async with app.run_test(size=(90, 24)) as pilot:
        pane = await open_tab(pilot, app, running_computer)
        await pilot.press("ctrl+f11")  # headless: Textual cannot suspend
        await wait_until(
            pilot,
            lambda: any("cannot be handed over" in str(n.message) for n in app._notifications),
            "the warning",
        )
        await wait_until(pilot, lambda: pane.status.phase is Phase.CONNECTED, "the reattach")
        await type_line(pilot, "echo still-attached")
        await wait_for_text(pilot, pane.view, "still-attached")


async def test_the_leave_key_is_configurable_in_the_keymap_and_shown_in_the_border(
    async_sdk: AsyncCelesto, running_computer: dict[str, Any]
) -> None:
    app = TerminalsApp(async_sdk)
    async with app.run_test(size=(90, 24)) as pilot:
        app.set_keymap({"terminals.leave": "ctrl+g"})
        pane = await open_tab(pilot, app, running_computer)
        assert "ctrl+g: dashboard" in str(pane.border_subtitle)
        await type_line(pilot, "cat -v")
        await pilot.press("ctrl+right_square_bracket", "enter")  # now an ordinary key: ^]
        await wait_for_text(pilot, pane.view, "^]")
        await pilot.press("ctrl+d")
        await pilot.press("ctrl+g")
        await wait_until(pilot, lambda: isinstance(app.screen, Dashboard), "the dashboard")
        assert pane.status.phase is Phase.CONNECTED
