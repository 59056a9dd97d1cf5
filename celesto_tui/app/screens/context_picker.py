"""The context picker: switch the dashboard to another profile, server or the embedded
backend without restarting (k9s's ``:ctx``).

Typing filters the list, ↑/↓ move, Enter switches to the highlighted context, Escape
cancels. The current context is marked ●; a key is shown as present or missing, never as
itself.
"""

from __future__ import annotations

from collections.abc import Sequence

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Input, Label, OptionList
from textual.widgets.option_list import Option

from ...model.contexts import Context, filtered

NAME_WIDTH = 16
HOST_WIDTH = 28


def context_row(context: Context) -> Content:
    mark = "● " if context.current else "  "
    key = "key ✓" if context.has_key else "no key"
    parts: list[str | tuple[str, str]] = [
        (mark, "bold $success"),
        (f"{context.name:<{NAME_WIDTH}} ", "bold" if context.current else ""),
        (f"{context.host:<{HOST_WIDTH}} ", "$text-muted"),
        (f"{key:<7}", "" if context.has_key else "$warning"),
    ]
    if context.note:
        parts.append((f"  {context.note}", "$text-muted italic"))
    return Content.assemble(*parts)


class ContextPickerScreen(ModalScreen[str | None]):
    DEFAULT_CSS = """
    ContextPickerScreen { align: center middle; }
    ContextPickerScreen > Vertical {
        width: 100; max-width: 100%; height: auto; max-height: 100%;
        border: thick $accent; background: $surface; padding: 0 1;
    }
    ContextPickerScreen #context-list { height: auto; max-height: 16; border: none; }
    ContextPickerScreen #context-help { color: $text-muted; width: 100%; }
    """
    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="context-cancel"),
        Binding("down", "move(1)", "Next", show=False, id="context-next"),
        Binding("up", "move(-1)", "Previous", show=False, id="context-previous"),
    ]

    def __init__(self, contexts: Sequence[Context]) -> None:
        super().__init__()
        self.contexts = list(contexts)

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(Content.assemble(("Switch context", "bold")))
            yield Input(placeholder="type to filter", id="context-filter")
            yield OptionList(id="context-list")
            yield Label(
                "Enter switches · Esc cancels · open terminal tabs close (shells keep running)",
                id="context-help",
            )

    def on_mount(self) -> None:
        self._show("")
        self.query_one("#context-filter", Input).focus()

    @property
    def shown(self) -> list[str]:
        """The names listed now, in order."""
        options = self.query_one("#context-list", OptionList)
        return [str(options.get_option_at_index(i).id) for i in range(options.option_count)]

    def _show(self, text: str) -> None:
        options = self.query_one("#context-list", OptionList)
        matches = filtered(self.contexts, text)
        options.set_options(Option(context_row(c), id=c.name) for c in matches)
        if matches:
            current = next((i for i, c in enumerate(matches) if c.current), 0)
            # The first match while filtering; the current context before anything is typed.
            options.highlighted = 0 if text.strip() else current

    @on(Input.Changed, "#context-filter")
    def _filter(self, event: Input.Changed) -> None:
        self._show(event.value)

    @on(Input.Submitted, "#context-filter")
    def _submitted(self, _event: Input.Submitted) -> None:
        self._choose()

    @on(OptionList.OptionSelected, "#context-list")
    def _selected(self, _event: OptionList.OptionSelected) -> None:
        self._choose()

    def _choose(self) -> None:
        options = self.query_one("#context-list", OptionList)
        if options.highlighted is None:
            return
        self.dismiss(str(options.get_option_at_index(options.highlighted).id))

    def action_move(self, step: int) -> None:
        options = self.query_one("#context-list", OptionList)
        if options.option_count:
            current = options.highlighted or 0
            options.highlighted = (current + step) % options.option_count

    def action_cancel(self) -> None:
        self.dismiss(None)
