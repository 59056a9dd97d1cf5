"""Offer to start a stopped computer before opening its terminal: Start / Cancel."""

from __future__ import annotations

from rich.markup import escape
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Label


class StartComputerScreen(ModalScreen[bool]):
    """Dismissed with True when the user chose Start."""

    DEFAULT_CSS = """
    StartComputerScreen { align: center middle; }
    StartComputerScreen > Vertical {
        width: 56; height: auto; border: thick $warning; background: $surface; padding: 1 2;
    }
    StartComputerScreen Horizontal { height: auto; align-horizontal: right; margin-top: 1; }
    StartComputerScreen Button { margin-left: 2; }
    """
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="start-cancel")]

    def __init__(self, name: str, status: str = "stopped") -> None:
        super().__init__()
        self.computer_name = name
        self.status = status

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(f"[b]{escape(self.computer_name)}[/b] is {escape(self.status)}.")
            yield Label("Start it and open the terminal?")
            with Horizontal():
                yield Button("Cancel", id="cancel")
                yield Button("Start", id="start", variant="primary")

    def on_mount(self) -> None:
        self.query_one("#start", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(event.button.id == "start")

    def action_cancel(self) -> None:
        self.dismiss(False)
