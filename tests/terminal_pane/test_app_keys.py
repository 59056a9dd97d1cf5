"""The dashboard app itself (not a stand-in) with a terminal open: the keys the app binds for
itself (ctrl+p command palette, ctrl+q quit) reach the program in the shell while the pane has
the focus, the leave key goes back to the dashboard, and opening the terminal again from there
is the same shell."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from textual.command import CommandPalette

from celesto_api import AsyncCelesto
from celesto_api.local import LocalServer
from celesto_tui.app.celesto_app import CelestoApp
from celesto_tui.app.settings import Settings
from celesto_tui.model.target import Target
from celesto_tui.terminal.link import Phase
from celesto_tui.terminal.pane import TerminalPane
from celesto_tui.terminal.start_computer_screen import StartComputerScreen
from celesto_tui.terminal.terminals_screen import TerminalsScreen

from .conftest import type_line, wait_for_status, wait_for_text, wait_prompt, wait_until

# Reads two bytes in raw mode (no XON/XOFF, no line editing) and prints them in hex; says
# "raw-" "mode" once the PTY is raw (split so that the echo of the command does not match).
READ_TWO_KEYS = (
    'python3 -c "import sys,termios,tty; saved=termios.tcgetattr(0); tty.setraw(0); '
    "print('raw-' 'mode', flush=True); keys=sys.stdin.buffer.read(2); "
    "termios.tcsetattr(0, termios.TCSADRAIN, saved); print('got', keys.hex())\""
)


@pytest.fixture
def app(local_server: LocalServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CelestoApp:
    monkeypatch.setenv("CELESTO_STATE_DIR", str(tmp_path / "state"))
    target = Target(
        base_url=local_server.base_url,
        api_key=local_server.api_key,
        label="local",
        local=True,
        isolation="bwrap",
    )
    return CelestoApp(target, refresh_seconds=0.25, settings=Settings())


async def test_ctrl_p_and_ctrl_q_reach_the_shell_in_the_dashboard_app(
    app: CelestoApp, running_computer: dict[str, Any]
) -> None:
    async with app.run_test(size=(120, 36)) as pilot:
        table = app.views["computers"].table
        await wait_until(pilot, lambda: running_computer["id"] in table.rows, "the computer's row")
        table.focus()
        table.select_key(running_computer["id"])
        await pilot.press("t")  # the dashboard's "open a terminal" key
        await wait_until(pilot, lambda: isinstance(app.screen, TerminalsScreen), "terminals")
        screen = app.screen
        assert isinstance(screen, TerminalsScreen)
        await wait_until(pilot, lambda: screen.active_pane is not None, "the terminal tab")
        pane = screen.active_pane
        assert isinstance(pane, TerminalPane)
        await wait_prompt(pilot, pane)
        assert pane.view.has_focus

        await type_line(pilot, READ_TWO_KEYS)
        await wait_for_text(pilot, pane.view, "raw-mode")
        await pilot.press("ctrl+p", "ctrl+q")
        await wait_for_text(pilot, pane.view, "got 1011")  # DLE, DC1: the bytes of ^P, ^Q
        assert app.is_running
        assert app.screen is screen and not isinstance(app.screen, CommandPalette)

        await type_line(pilot, "KEEP=same-$((6*7))")
        await pilot.press("ctrl+right_square_bracket")  # the leave key is the app's
        await wait_until(pilot, lambda: app.screen is app.screen_stack[0], "the dashboard")
        terminal_id = pane.terminal_id
        await pilot.press("t")  # open the terminal on that computer again: the same shell
        await wait_until(pilot, lambda: app.screen is screen, "the terminals again")
        assert screen.active_pane is pane and pane.terminal_id == terminal_id
        await type_line(pilot, 'echo "[$KEEP]"')
        await wait_for_text(pilot, pane.view, "[same-42]")

        await pilot.press("ctrl+right_square_bracket")
        await wait_until(pilot, lambda: app.screen is app.screen_stack[0], "the dashboard")
        await pilot.press("ctrl+p")  # and away from the terminal ctrl+p is the palette again
        await wait_until(pilot, lambda: isinstance(app.screen, CommandPalette), "the palette")


async def test_a_reopened_tab_on_a_stopped_computer_starts_it_and_leaves_no_dialog_behind(
    app: CelestoApp, running_computer: dict[str, Any], async_sdk: AsyncCelesto
) -> None:
    """`t` on a stopped computer, Cancel, leave, Esc, `t` again: the offer comes over the
    tab (not later over the table), Enter in the tab starts it, and back on the dashboard
    the next key moves the table."""
    other = await async_sdk.computers.create()  # a second row for the cursor to move to
    await async_sdk.computers.stop(running_computer["id"])
    await wait_for_status(async_sdk, running_computer["id"], "stopped")
    try:
        async with app.run_test(size=(120, 36)) as pilot:
            table = app.views["computers"].table
            await wait_until(
                pilot,
                lambda: running_computer["id"] in table.rows and other["id"] in table.rows,
                "both rows",
            )
            table.focus()
            table.select_key(running_computer["id"])
            await pilot.press("t")
            await wait_until(pilot, lambda: isinstance(app.screen, StartComputerScreen), "offer")
            await pilot.press("escape")  # Cancel
            terminals = app.screen
            assert isinstance(terminals, TerminalsScreen)
            pane = terminals.active_pane
            assert pane is not None and pane.status.phase is Phase.STOPPED
            assert "enter: start it" in str(pane.border_subtitle)

            await pilot.press("ctrl+right_square_bracket")
            await wait_until(pilot, lambda: app.screen is app.screen_stack[0], "the dashboard")
            await pilot.press("escape")
            await pilot.press("t")  # again: the offer opens over the tab, where it belongs
            await wait_until(pilot, lambda: isinstance(app.screen, StartComputerScreen), "offer")
            assert app.screen_stack[-2] is terminals
            await pilot.press("escape")
            await wait_until(pilot, lambda: app.screen is terminals, "the tab again")
            await wait_until(pilot, lambda: pane.view.has_focus, "the tab's focus")

            await pilot.press("enter")  # as the border says: start it, and connect
            await wait_prompt(pilot, pane)
            assert not any(isinstance(s, StartComputerScreen) for s in app.screen_stack)

            await pilot.press("ctrl+right_square_bracket")
            await wait_until(pilot, lambda: app.screen is app.screen_stack[0], "the dashboard")
            assert len(app.screen_stack) == 1 and table.has_focus
            row = table.cursor_row
            last = row == table.row_count - 1
            await pilot.press("k" if last else "j")  # at once, no dialog in the way
            assert table.cursor_row == (row - 1 if last else row + 1)
            await pilot.press("up" if not last else "down")
            assert table.cursor_row == row
    finally:
        await async_sdk.computers.delete(other["id"])
