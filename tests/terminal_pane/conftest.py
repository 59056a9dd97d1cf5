"""Helpers for the terminal pane tests: small apps around the pane and the screen, and waits.

Every test talks to the session's real local backend (`local_server` in tests/conftest.py):
real HTTP, a real WebSocket gateway, a real shell on a PTY in a sandbox.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from textual import events
from textual.app import App, ComposeResult
from textual.keys import _character_to_key
from textual.pilot import Pilot
from textual.screen import Screen
from textual.widgets import Static

from celesto_api import AsyncCelesto
from celesto_tui.terminal.link import LinkStatus, Phase
from celesto_tui.terminal.pane import TerminalPane
from celesto_tui.terminal.terminals_screen import TerminalsScreen
from celesto_tui.terminal.widget import TerminalView
from tests.waiting import await_status, await_until

FAST_BACKOFF = (0.05, 0.1, 0.2)
WAIT_S = 15.0


class PaneApp(App[None]):
    """One pane filling the app."""

    CSS = "Screen { layout: vertical; }"

    def __init__(self, api: AsyncCelesto, computer_id: str, name: str, **options: Any) -> None:
        super().__init__()
        self.pane = TerminalPane(api, computer_id, name, reconnect_backoff=FAST_BACKOFF, **options)

        self.statuses: list[LinkStatus] = []

    def compose(self) -> ComposeResult:
        yield self.pane

    def on_mount(self) -> None:
        self.pane.focus_terminal()

    def on_terminal_pane_status_changed(self, message: TerminalPane.StatusChanged) -> None:
        self.statuses.append(message.status)

    @property
    def phases(self) -> list[Phase]:
        return [status.phase for status in self.statuses]


class Dashboard(Screen[None]):
    def compose(self) -> ComposeResult:
        yield Static("dashboard", id="dashboard")


class TerminalsApp(App[None]):
    """A stand-in for the dashboard app: the terminals screen installed over a base screen."""

    def __init__(self, api: AsyncCelesto, **options: Any) -> None:
        super().__init__()
        self.terminals = TerminalsScreen(api, reconnect_backoff=FAST_BACKOFF, **options)
        self.announced: list[dict[str, str]] = []  # every TerminalIdsChanged, in order

    def on_terminals_screen_terminal_ids_changed(
        self, message: TerminalsScreen.TerminalIdsChanged
    ) -> None:
        self.announced.append(message.terminal_ids)

    def on_mount(self) -> None:
        self.push_screen(Dashboard())
        self.install_screen(self.terminals, "terminals")

    def show_terminal(self, computer_id: str, name: str, terminal_id: str | None = None) -> None:
        self.terminals.open_terminal(computer_id, name, terminal_id)
        if not self.terminals.is_current:
            self.push_screen("terminals")


def screen_lines(view: TerminalView) -> list[str]:
    """What the view paints, row by row, trailing blanks removed."""
    return [view.render_line(y).text.rstrip() for y in range(view.size.height)]


def screen_text(view: TerminalView) -> str:
    return "\n".join(screen_lines(view))


async def wait_until(
    pilot: Pilot[None], predicate: Callable[[], bool], what: str, timeout: float = WAIT_S
) -> None:
    await await_until(predicate, what=what, timeout=timeout, pause=pilot.pause)


async def wait_for_text(
    pilot: Pilot[None], view: TerminalView, needle: str, timeout: float = WAIT_S
) -> None:
    try:
        await wait_until(pilot, lambda: needle in screen_text(view), repr(needle), timeout)
    except AssertionError:
        raise AssertionError(
            f"{needle!r} never appeared; the screen shows:\n{screen_text(view)}"
        ) from None


async def wait_connected(pilot: Pilot[None], pane: TerminalPane) -> None:
    await wait_until(pilot, lambda: pane.status.phase is Phase.CONNECTED, "a connection")


async def wait_prompt(pilot: Pilot[None], pane: TerminalPane) -> None:
    """Connected, and the shell has printed its prompt."""
    await wait_connected(pilot, pane)
    await wait_until(
        pilot, lambda: screen_text(pane.view).rstrip().endswith("$"), "the shell prompt"
    )


async def type_line(pilot: Pilot[None], text: str) -> None:
    """Type `text` and Enter: one Key event per character through the app, as a terminal
    delivers them (without Pilot's wait for an idle process after every key)."""
    app = pilot.app
    for char in text:
        key = "space" if char == " " else char if char.isalnum() else _character_to_key(char)
        app.post_message(events.Key(key, char))
    app.post_message(events.Key("enter", "\r"))
    await pilot.pause()


async def wait_for_status(api: AsyncCelesto, computer_id: str, wanted: str) -> None:
    await await_status(api, computer_id, wanted, WAIT_S)
