"""`TerminalsScreen`: terminals on several computers at once, one tab each.

Integration (the app):

- create it once, `TerminalsScreen(api)`, and install it (`app.install_screen(screen,
  "terminals")`) so that popping it keeps the tabs and their connections alive while the
  user is on the dashboard; show it with `push_screen("terminals")`;
- `open_terminal(computer_id, name, terminal_id=None)` opens a tab, or focuses the tab that
  computer already has (and reattaches it if it was detached or ended). Without a
  `terminal_id` it reattaches to the terminal of a tab closed earlier (closing detaches; the
  shell keeps running), else opens a new one. It can be called before the screen is shown;
- the terminal's leave key (ctrl+], the Celesto detach key) calls `self.dismiss()`, which pops
  this screen and so returns to the screen below it (the dashboard); the connection stays up.
  Closing the last tab does the same. Escape does it too when no terminal has the focus. The
  key is shown in each pane's border; set it with `leave_key=`, or in the config file's
  keymap as `terminals.leave = "ctrl+b"` (read from the app's keymap when a tab opens);
- `terminal_ids` maps computer ids to their terminals (open tabs and closed ones), for an
  app that wants to remember them: pass what it remembered as `kept_terminals=` (opening a
  terminal on one of those computers reattaches; an id the server no longer knows gives a
  new shell, silently) and listen for `TerminalsScreen.TerminalIdsChanged`.

Bindings (ids in brackets, for the app's keymap; defined with the rest in `bindings.py`, so
the help screen lists them): ctrl+pagedown / ctrl+pageup next / previous tab
(`terminals.next-tab`, `terminals.previous-tab`), ctrl+f4 detach and close the tab
(`terminals.close-tab`), ctrl+f11 pop out (`terminals.pop-out`). They are priority bindings on
keys shells and editors rarely need, and the terminal lets exactly these keys through; every
other key, ctrl+p, ctrl+q and tab included, goes to the program.

Pop-out detaches the pane, suspends the app (`App.suspend`) and runs `attach_raw`, the raw
attach of `celesto-tui computer ssh`, on the same terminal; the leave key (Ctrl+] unless
remapped) there comes back and the pane reattaches (its screen is rebuilt from the
replayed output). The event loop waits while the terminal is handed over, as with any
`suspend()`; other tabs reattach on their own if their connection timed out meanwhile.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from itertools import count

from textual import on
from textual.app import ComposeResult, SuspendNotSupported
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Static, TabbedContent, TabPane

from celesto_api import AsyncCelesto

from ..app.bindings import DEFAULT_LEAVE_KEY, LEAVE_KEY_ID, bindings, leave_key
from ..app.widgets.key_hints import KeyHints
from .attach import DETACH_KEY, attach_raw
from .keys import encode_key
from .link import DEFAULT_BACKOFF, Phase
from .pane import TerminalPane
from .widget import TerminalView, normalize_key

__all__ = ["DEFAULT_LEAVE_KEY", "LEAVE_KEY_ID", "TerminalsScreen"]
_PHASE_MARK = {
    Phase.CONNECTED: "●",
    Phase.ENDED: "✖",
    Phase.STOPPED: "■",
    Phase.DETACHED: "○",
    Phase.IDLE: "○",
}


class TerminalsScreen(Screen[None]):
    """Tabs of terminal panes. See the module docstring for how the app drives it."""

    DEFAULT_CSS = """
    TerminalsScreen TabbedContent { height: 1fr; }
    TerminalsScreen TabbedContent > ContentSwitcher { height: 1fr; }
    TerminalsScreen TabPane { height: 1fr; padding: 0; }
    TerminalsScreen #terminals-empty {
        height: 1fr; content-align: center middle; color: $text-muted;
    }
    TerminalsScreen.-has-tabs #terminals-empty { display: none; }
    TerminalsScreen #terminals-tabs { display: none; }
    TerminalsScreen.-has-tabs #terminals-tabs { display: block; }
    """

    BINDINGS = bindings("terminals")

    class TerminalIdsChanged(Message):
        """`terminal_ids` changed: a terminal was opened, replaced or ended."""

        def __init__(self, terminal_ids: dict[str, str]) -> None:
            super().__init__()
            self.terminal_ids = terminal_ids

    def __init__(
        self,
        api: AsyncCelesto,
        *,
        leave_key: str | None = None,
        reconnect_backoff: Sequence[float] = DEFAULT_BACKOFF,
        kept_terminals: Mapping[str, str] | None = None,
        name: str | None = None,
        id: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id)
        self.api = api
        self._leave_key = leave_key
        self._backoff = reconnect_backoff
        self._tab_of: dict[str, str] = {}  # computer id -> tab (TabPane) id
        # computer id -> its pane, from before the tab is mounted (a query could not find it yet)
        self._pane_by_computer: dict[str, TerminalPane] = {}
        # computer id -> terminal id of a closed tab (or of an earlier run of the app)
        self._kept_terminals: dict[str, str] = dict(kept_terminals or {})
        self._announced: dict[str, str] = dict(self._kept_terminals)
        self._pending_opens: list[tuple[str, str, str | None]] = []
        self._tabs_ready = False
        self._tab_numbers = count(1)
        self._reserved_cache: tuple[object, frozenset[str]] | None = None

    def compose(self) -> ComposeResult:
        yield Static(
            "No terminal open. Open one from the dashboard.", id="terminals-empty", markup=False
        )
        yield TabbedContent(id="terminals-tabs")
        # Every hint within 80 columns: compact, help and the way back first, and neither
        # the palette's hint (ctrl+p goes to the shell) nor polling the API now.
        yield KeyHints(
            compact=True,
            show_palette=False,
            first_actions=("help", "back"),
            left_out_actions=("refresh",),
        )

    def on_mount(self) -> None:
        self._tabs_ready = True
        queued, self._pending_opens = self._pending_opens, []
        for computer_id, name, terminal_id in queued:
            self.open_terminal(computer_id, name, terminal_id)

    # -- the interface for the app -------------------------------------------------------

    def open_terminal(self, computer_id: str, name: str, terminal_id: str | None = None) -> None:
        """Open a terminal tab on the computer, or focus the one it has."""
        if not self._tabs_ready:
            self._pending_opens.append((computer_id, name, terminal_id))
            return
        pane = self._pane_of(computer_id)
        if pane is None:
            self.call_next(self._add_tab, computer_id, name, terminal_id)
            return
        if not pane.is_mounted:  # its tab is still being added: focus it once it is there
            self.call_after_refresh(self.open_terminal, computer_id, name, terminal_id)
            return
        self._tabs.active = self._tab_of[computer_id]
        pane.focus_terminal()
        pane.resume()

    @property
    def terminal_ids(self) -> dict[str, str]:
        """Computer id -> terminal id, for open tabs and for tabs closed (detached) earlier."""
        ids = dict(self._kept_terminals)
        for computer_id in self._tab_of:
            pane = self._pane_of(computer_id)
            if pane is not None and pane.terminal_id is not None:
                ids[computer_id] = pane.terminal_id
        return ids

    @property
    def panes(self) -> list[TerminalPane]:
        return list(self.query(TerminalPane))

    @property
    def active_pane(self) -> TerminalPane | None:
        tab = self._tabs.active_pane if self._tabs_ready else None
        if tab is None:
            return None
        return tab.query_one(TerminalPane)

    # -- tabs --------------------------------------------------------------------------------

    @property
    def _tabs(self) -> TabbedContent:
        return self.query_one("#terminals-tabs", TabbedContent)

    def _pane_of(self, computer_id: str) -> TerminalPane | None:
        return self._pane_by_computer.get(computer_id)

    async def _add_tab(self, computer_id: str, name: str, terminal_id: str | None) -> None:
        if computer_id in self._tab_of:  # opened twice before the first tab was mounted
            self.open_terminal(computer_id, name, terminal_id)
            return
        terminal_id = terminal_id or self._kept_terminals.pop(computer_id, None)
        pane = TerminalPane(
            self.api,
            computer_id,
            name,
            terminal_id,
            leave_key=self.leave_key,
            passthrough_keys=self._reserved_keys,
            reconnect_backoff=self._backoff,
        )
        tab_id = f"terminal-{next(self._tab_numbers)}"
        self._tab_of[computer_id] = tab_id
        self._pane_by_computer[computer_id] = pane
        tabs = self._tabs
        await tabs.add_pane(TabPane(name, pane, id=tab_id))
        self.add_class("-has-tabs")
        tabs.active = tab_id
        pane.focus_terminal()

    @property
    def leave_key(self) -> str:
        """The key that leaves a terminal for the dashboard."""
        if self._leave_key:
            return self._leave_key
        return leave_key(self.app._keymap)  # no public accessor in Textual 8

    def _reserved_keys(self) -> frozenset[str]:
        """Keys of this screen's priority bindings, before and after the app's keymap: the
        terminal leaves them alone. (Textual drops a binding whose original key the focused
        widget consumes before it applies the keymap, so both sets must stay free.)"""
        keymap = self.app._keymap  # no public accessor in Textual 8
        if self._reserved_cache is None or self._reserved_cache[0] is not keymap:
            remapped = self._bindings.copy()
            if keymap:
                remapped.apply_keymap(keymap)
            keys = {
                key
                for bindings_map in (self._bindings, remapped)
                for key, bindings in bindings_map.key_to_bindings.items()
                if any(binding.priority for binding in bindings)
            }
            self._reserved_cache = (keymap, frozenset(keys))
        return self._reserved_cache[1]

    @on(TabbedContent.TabActivated)
    def _focus_activated(self, event: TabbedContent.TabActivated) -> None:
        event.pane.query_one(TerminalPane).focus_terminal()

    @on(TerminalPane.StatusChanged)
    def _mark_tab(self, event: TerminalPane.StatusChanged) -> None:
        pane = event.pane
        tab_id = self._tab_of.get(pane.computer_id)
        if tab_id is None:
            return
        mark = _PHASE_MARK.get(event.status.phase, "◌")
        self._tabs.get_tab(tab_id).label = f"{mark} {pane.computer_name}"
        self._announce_ids()

    def _announce_ids(self) -> None:
        ids = self.terminal_ids
        if ids != self._announced:
            self._announced = ids
            self.post_message(self.TerminalIdsChanged(dict(ids)))

    @on(TerminalView.Leave)
    def _leave(self, event: TerminalView.Leave) -> None:
        event.stop()
        self.action_back()

    # -- actions -----------------------------------------------------------------------------

    def action_back(self) -> None:
        if self.is_current and len(self.app.screen_stack) > 1:
            self.dismiss()

    def action_next_tab(self) -> None:
        self._cycle(1)

    def action_previous_tab(self) -> None:
        self._cycle(-1)

    def _cycle(self, step: int) -> None:
        tab_ids = list(self._tab_of.values())
        if not tab_ids:
            return
        tabs = self._tabs
        ordered = [tab.id for tab in tabs.query(TabPane) if tab.id in tab_ids]
        current = ordered.index(tabs.active) if tabs.active in ordered else 0
        tabs.active = str(ordered[(current + step) % len(ordered)])

    async def action_close_tab(self) -> None:
        """Detach the active terminal (its shell keeps running) and close the tab."""
        pane = self.active_pane
        if pane is None:
            return
        await pane.detach()
        computer_id = pane.computer_id
        if pane.terminal_id is not None:
            self._kept_terminals[computer_id] = pane.terminal_id
        tab_id = self._tab_of.pop(computer_id)
        del self._pane_by_computer[computer_id]
        await self._tabs.remove_pane(tab_id)
        self._announce_ids()
        if not self._tab_of:
            self.remove_class("-has-tabs")
            self.action_back()
        elif (active := self.active_pane) is not None:
            active.focus_terminal()

    async def action_pop_out(self) -> None:
        """Hand the real terminal to a raw attach on the same terminal (the code path of
        `celesto-tui computer ssh`), then reattach the pane, which replays what happened."""
        pane = self.active_pane
        if pane is None:
            return
        terminal_id = pane.terminal_id
        if terminal_id is None or pane.status.phase is not Phase.CONNECTED:
            self.notify("Pop-out needs a connected durable terminal.", severity="warning")
            return
        await pane.detach()
        shell_ended = False
        try:
            info = await self.api.computers.terminal(pane.computer_id, terminal_id)
            # The pane's leave key detaches out there too (ctrl+] unless remapped).
            detach_key = encode_key(normalize_key(self.leave_key)) or DETACH_KEY
            with self.app.suspend():
                shell_ended = not attach_raw(info, detach_key=detach_key).detached
        except SuspendNotSupported:
            self.notify("This terminal cannot be handed over (no real TTY).", severity="warning")
        except Exception as exc:  # the pane comes back whatever happened out there
            self.notify(f"Pop-out failed: {exc}", title="Terminal", severity="error")
        if shell_ended:
            pane.mark_ended("the shell exited in the pop-out")
        else:
            pane.connect()
        pane.focus_terminal()
