"""Confirmation for actions that change or destroy things.

Escape cancels, and every target is listed. A plain yes/no has Cancel focused. With
``typed`` the field to type into has the focus instead, and the confirm button (and Enter)
stays disabled until that text (the computer's name, or ``delete 3`` for several) has been
typed.
"""

from __future__ import annotations

from collections.abc import Sequence

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static

from .fields import FIELD_BINDINGS, focus_css


class ConfirmScreen(ModalScreen[bool]):
    DEFAULT_CSS = """
    ConfirmScreen { align: center middle; }
    ConfirmScreen > Vertical {
        width: 72; max-width: 100%; height: auto; max-height: 100%; border: thick $warning;
        background: $surface; padding: 1 2;
    }
    ConfirmScreen.danger > Vertical { border: thick $error; }
    ConfirmScreen Label { width: 100%; }
    ConfirmScreen #confirm-targets { height: auto; max-height: 12; margin: 1 0; }
    ConfirmScreen #confirm-buttons { height: auto; align-horizontal: right; margin-top: 1; }
    ConfirmScreen Button { margin-left: 2; }
    """
    DEFAULT_CSS += focus_css("ConfirmScreen")
    BINDINGS = [*FIELD_BINDINGS, Binding("escape", "cancel", "Cancel", id="confirm-cancel")]

    def __init__(
        self,
        title: str,
        targets: Sequence[str],
        *,
        verb: str,
        note: str = "",
        typed: str | None = None,
        danger: bool = False,
    ) -> None:
        super().__init__(classes="danger" if danger else "")
        self.title_text = title
        self.targets = list(targets)
        self.verb = verb
        self.note = note
        self.typed = typed
        self.danger = danger

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(Content.assemble((self.title_text, "bold")))
            with VerticalScroll(id="confirm-targets"):
                for target in self.targets:
                    yield Static(Content(f"  • {target}"))
            if self.note:
                yield Label(Content(self.note))
            if self.typed is not None:
                yield Label(Content.assemble("Type ", (self.typed, "bold"), " to confirm:"))
                yield Input(placeholder=self.typed, id="confirm-text")
            with Horizontal(id="confirm-buttons"):
                yield Button("Cancel", id="cancel")
                yield Button(
                    self.verb,
                    id="confirm",
                    variant="error" if self.danger else "warning",
                    disabled=self.typed is not None,
                )

    def on_mount(self) -> None:
        if self.typed is not None:
            self.query_one("#confirm-text", Input).focus()
        else:
            self.query_one("#cancel", Button).focus()

    def on_input_changed(self, event: Input.Changed) -> None:
        self.query_one("#confirm", Button).disabled = event.value.strip() != self.typed

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.value.strip() == self.typed:
            self.dismiss(True)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(event.button.id == "confirm")

    def action_cancel(self) -> None:
        self.dismiss(False)
