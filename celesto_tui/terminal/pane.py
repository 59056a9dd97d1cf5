"""`TerminalPane`: one `TerminalView` and the connection that feeds it.

The pane owns a `TerminalLink` (the SDK terminal session, reconnects, backpressure). Keys the
view encodes go out as binary frames, its size changes as resize frames, output is fed into
it. The connection state is shown in the pane's border subtitle and posted as
`TerminalPane.StatusChanged`; failures also raise a toast, never a traceback.

When the link is not connected, Enter in the pane does the obvious next thing: reattach a
detached terminal, open a new shell after one ended, or start a stopped computer (what the
border says; opening the tab again offers the start in a dialog instead).
The view's leave key (`TerminalView.Leave`) is not handled here; it bubbles to the screen.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence

from textual.app import ComposeResult
from textual.message import Message
from textual.widget import Widget

from celesto_api import AsyncCelesto

from .link import DEFAULT_BACKOFF, LinkStatus, Phase, TerminalLink
from .start_computer_screen import StartComputerScreen
from .widget import TerminalView, key_display

_NORMAL_CLOSURE = 1000
_ENTER = (b"\r", b"\n", b"\r\n")
_NEXT_STEP = {
    Phase.DETACHED: "enter: reattach",
    Phase.STOPPED: "enter: start it",
}


def status_text(status: LinkStatus) -> str:
    """The status line for the pane's border."""
    phase, detail = status.phase, status.detail
    if phase is Phase.CONNECTED:
        return "● connected" + (f" ({detail})" if detail else "")
    if phase is Phase.RECONNECTING:
        text = f"◌ reconnecting, attempt {status.attempt}"
        if status.retry_in is not None:
            text += f" in {status.retry_in:.1f}s"
        return text + (f": {detail}" if detail else "")
    if phase is Phase.STOPPED:
        return f"■ computer {detail or 'stopped'}"
    if phase is Phase.ENDED:
        text = f"✖ ended: {detail or 'the terminal closed'}"
        if status.close_code not in (None, _NORMAL_CLOSURE):  # 1000 is WebSocket, not the shell
            text += f" (code {status.close_code})"
        return text
    if phase is Phase.STARTING:
        return f"◌ {detail or 'starting the computer'}…"
    text = {Phase.IDLE: "○ not connected", Phase.CONNECTING: "◌ connecting…"}.get(
        phase, "○ detached"
    )
    return text + (f": {detail}" if detail else "")


class PaneView(TerminalView):
    """A `TerminalView` that lets the given keys through to the screen's bindings, and hands
    typed and pasted bytes straight to `deliver` (two message-queue hops less per keystroke
    than posting `Input`; replies, mouse and focus reports still come as `Input`)."""

    def __init__(
        self,
        passthrough: Callable[[], Collection[str]],
        deliver: Callable[[bytes], None],
        *,
        leave_key: str,
    ) -> None:
        super().__init__(leave_key=leave_key)
        self._passthrough = passthrough
        self._deliver = deliver

    def check_consume_key(self, key: str, character: str | None) -> bool:
        if key in self._passthrough():
            return False
        return super().check_consume_key(key, character)

    def send(self, data: bytes) -> None:
        self.scroll_to_live()
        self.clear_selection()
        self._deliver(data)


class TerminalPane(Widget):
    """A terminal on one computer, connected through the SDK.

    Args:
        api: The client; the pane uses `api.computers`.
        computer_id: Id (or name) of the computer.
        name: Shown in the border title.
        terminal_id: Reattach to this durable terminal instead of opening a new one.
        leave_key: The view's key that posts `TerminalView.Leave`.
        passthrough_keys: Returns keys the view must not consume (the screen's bindings).
        reconnect_backoff: Seconds to wait before reconnect attempts 1, 2, … (last repeats).
    """

    DEFAULT_CSS = """
    TerminalPane {
        height: 1fr;
        border: round $panel-lighten-2;
        border-title-color: $text;
        border-subtitle-color: $text-muted;
    }
    TerminalPane:focus-within { border: round $accent; }
    TerminalPane.-connected { border-subtitle-color: $success; }
    TerminalPane.-waiting { border-subtitle-color: $warning; }
    TerminalPane.-ended { border-subtitle-color: $error; }
    """

    class StatusChanged(Message):
        """The connection changed state."""

        def __init__(self, pane: TerminalPane, status: LinkStatus) -> None:
            super().__init__()
            self.pane = pane
            self.status = status

        @property
        def control(self) -> TerminalPane:
            return self.pane

    def __init__(
        self,
        api: AsyncCelesto,
        computer_id: str,
        name: str,
        terminal_id: str | None = None,
        *,
        leave_key: str = "ctrl+]",
        passthrough_keys: Callable[[], Collection[str]] = frozenset,
        reconnect_backoff: Sequence[float] = DEFAULT_BACKOFF,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(id=id, classes=classes)
        self.computer_id = computer_id
        self.computer_name = name
        self.view = PaneView(passthrough_keys, self._input, leave_key=leave_key)
        self.link = TerminalLink(
            api.computers,
            computer_id,
            self.view,
            size=self._view_size,
            on_status=self._on_status,
            terminal_id=terminal_id,
            backoff=reconnect_backoff,
        )
        self._program_title = ""
        self._offering_start = False

    # -- public ----------------------------------------------------------------------------

    @property
    def terminal_id(self) -> str | None:
        """The durable terminal this pane is attached to (None before the first attach)."""
        return self.link.terminal_id

    @property
    def status(self) -> LinkStatus:
        return self.link.status

    def connect(self, *, power_on: bool = False) -> None:
        """Attach (reattach when the pane has a terminal id); no-op while already running."""
        self.link.start(power_on=power_on)

    async def detach(self) -> None:
        """Close the connection; the shell keeps running and can be reattached."""
        await self.link.detach()

    def resume(self) -> None:
        """The next step when not connected: reattach, open a new shell after one ended, or
        offer to start a stopped computer. No-op while connected or connecting."""
        phase = self.link.status.phase
        if phase is Phase.STOPPED:
            self._offer_start()
        elif phase in (Phase.DETACHED, Phase.ENDED, Phase.IDLE):
            self.connect()

    def mark_ended(self, reason: str) -> None:
        """The shell ended elsewhere (e.g. in a pop-out): Enter opens a new one."""
        self.link.forget(reason)

    def focus_terminal(self) -> None:
        self.view.focus()

    # -- lifecycle ---------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield self.view

    def on_mount(self) -> None:
        self._retitle()
        self._show(self.link.status)
        # After the first layout the view has its real size: the shell starts at that size.
        self.call_after_refresh(self.connect)

    async def on_unmount(self) -> None:
        await self.link.detach()

    def _view_size(self) -> tuple[int, int]:
        terminal = self.view.terminal
        return terminal.columns, terminal.lines

    # -- view messages -----------------------------------------------------------------------

    def on_terminal_view_input(self, message: TerminalView.Input) -> None:
        message.stop()
        self._input(message.data)

    def _input(self, data: bytes) -> None:
        if self.link.send(data) or data not in _ENTER:
            return
        if self.link.status.phase is Phase.STOPPED:
            self.connect(power_on=True)  # the border says "enter: start it"
        else:
            self.resume()

    def on_terminal_view_resized(self, message: TerminalView.Resized) -> None:
        message.stop()
        self.link.resize()

    def on_terminal_view_copied(self, message: TerminalView.Copied) -> None:
        message.stop()
        count = len(message.text)
        self.notify(f"Copied {count} character{'s' if count != 1 else ''}.", timeout=2)

    def on_terminal_view_title_changed(self, message: TerminalView.TitleChanged) -> None:
        self._program_title = message.title
        self._retitle()

    # -- status ----------------------------------------------------------------------------

    def _retitle(self) -> None:
        title = self.computer_name
        if self._program_title:
            title += f" — {self._program_title}"
        self.border_title = title

    def _on_status(self, status: LinkStatus) -> None:
        if not self.is_attached:
            return
        self._show(status)
        self.post_message(self.StatusChanged(self, status))
        if status.phase is Phase.ENDED and status.error:
            self.notify(
                f"{self.computer_name}: {status.detail}", title="Terminal", severity="error"
            )
        elif status.phase is Phase.STOPPED and self.screen.is_current:
            self._offer_start()

    def _show(self, status: LinkStatus) -> None:
        phase = status.phase
        self.set_class(phase is Phase.CONNECTED, "-connected")
        self.set_class(phase in (Phase.CONNECTING, Phase.RECONNECTING, Phase.STARTING), "-waiting")
        self.set_class(phase in (Phase.ENDED, Phase.STOPPED), "-ended")
        hint = _NEXT_STEP.get(phase)
        if phase is Phase.ENDED:
            hint = "enter: reattach" if self.link.terminal_id else "enter: new shell"
        leave = f"{key_display(self.view.leave_key)}: dashboard"
        parts = (status_text(status), hint, leave)
        self.border_subtitle = " · ".join(part for part in parts if part)

    def _offer_start(self) -> None:
        # Only over this pane's own screen: pushed while another screen is on top, the
        # offer would surface later over the dashboard and take its next key. Enter here
        # offers it again.
        if self._offering_start or not self.screen.is_current:
            return
        self._offering_start = True

        def chosen(start: bool | None) -> None:
            self._offering_start = False
            if start:
                self.connect(power_on=True)
            self.focus_terminal()

        self.app.push_screen(StartComputerScreen(self.computer_name), chosen)
