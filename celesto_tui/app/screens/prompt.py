"""A one-value prompt (e.g. the port to publish), validated as it is typed. Its sentences
wrap to the dialog's width."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static

from celesto_api import CelestoError

from .fields import FIELD_BINDINGS, focus_css


class PromptScreen(ModalScreen[Any]):
    """Dismissed with the validated value, or None."""

    DEFAULT_CSS = """
    PromptScreen { align: center middle; }
    PromptScreen > Vertical {
        width: 64; max-width: 100%; height: auto;
        border: thick $primary; background: $surface; padding: 1 2;
    }
    PromptScreen Label { width: 100%; }
    PromptScreen #prompt-error { color: $error; height: auto; }
    PromptScreen Horizontal { height: auto; align-horizontal: right; margin-top: 1; }
    PromptScreen Button { margin-left: 2; }
    """
    DEFAULT_CSS += focus_css("PromptScreen")
    BINDINGS = [*FIELD_BINDINGS, Binding("escape", "cancel", "Cancel", id="prompt-cancel")]

    def __init__(
        self,
        title: str,
        label: str,
        value: str,
        validate: Callable[[str], Any],
        *,
        verb: str = "OK",
        restrict: str | None = None,
        placeholder: str = "",
    ) -> None:
        super().__init__()
        self.title_text = title
        self.label = label
        self.value = value
        self.validate = validate
        self.verb = verb
        self.restrict = restrict
        self.placeholder = placeholder

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(Content.assemble((self.title_text, "bold")))
            yield Label(Content(self.label))
            yield Input(
                self.value,
                placeholder=self.placeholder,
                id="prompt-value",
                restrict=self.restrict,
            )
            yield Static("", id="prompt-error", markup=False)
            with Horizontal():
                yield Button("Cancel", id="cancel")
                yield Button(self.verb, id="ok", variant="primary")

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    def _checked(self) -> tuple[bool, Any]:
        error = self.query_one("#prompt-error", Static)
        try:
            value = self.validate(self.query_one(Input).value)
        except CelestoError as exc:
            error.update(f"✖ {exc.message}")
            return False, None
        error.update("")
        return True, value

    def on_input_changed(self) -> None:
        ok, _ = self._checked()
        self.query_one("#ok", Button).disabled = not ok

    def on_input_submitted(self) -> None:
        self._submit()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "ok":
            self._submit()
        else:
            self.dismiss(None)

    def _submit(self) -> None:
        ok, value = self._checked()
        if ok:
            self.dismiss(value)

    def action_cancel(self) -> None:
        self.dismiss(None)
