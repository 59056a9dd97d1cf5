"""The sort picker: the table's visible columns, filtered as you type; Enter sorts by the
highlighted one (the current one, marked ▲/▼, is reversed); Escape leaves the sort alone.

Dismissed with the chosen column key, or None.
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

from ...model.table_rows import sort_arrow
from .fields import focus_css


class SortPickerScreen(ModalScreen[str | None]):
    DEFAULT_CSS = """
    SortPickerScreen { align: center middle; }
    SortPickerScreen > Vertical {
        width: 40; max-width: 100%; height: auto; max-height: 100%;
        border: thick $primary; background: $surface; padding: 0 1;
    }
    SortPickerScreen OptionList { height: auto; max-height: 14; border: none; }
    SortPickerScreen .sort-hint { color: $text-muted; }
    """
    DEFAULT_CSS += focus_css("SortPickerScreen")
    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="sort-picker-cancel"),
        # The field keeps the focus for typing; the arrows move through the list.
        Binding("down", "move(1)", show=False, priority=True, id="sort-picker-down"),
        Binding("up", "move(-1)", show=False, priority=True, id="sort-picker-up"),
    ]

    def __init__(
        self, columns: Sequence[tuple[str, str]], current: str, reverse: bool, title: str
    ) -> None:
        """``columns``: (key, label) of the columns on screen, in their order."""
        super().__init__()
        self.columns = list(columns)
        self.current = current
        self.reverse = reverse
        self.title_text = title

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(Content.assemble((self.title_text, "bold")))
            yield Input(placeholder="type to filter the columns", id="sort-filter")
            yield OptionList(id="sort-columns")
            yield Label(
                "enter: sort · the current column reverses · esc: cancel", classes="sort-hint"
            )

    def on_mount(self) -> None:
        self._show("")
        self.query_one("#sort-filter", Input).focus()

    def matching(self, text: str) -> list[tuple[str, str]]:
        """The columns whose label or key contains every typed word."""
        words = text.lower().split()
        return [
            (key, label)
            for key, label in self.columns
            if all(word in f"{label} {key}".lower() for word in words)
        ]

    def _show(self, text: str) -> None:
        options = self.query_one("#sort-columns", OptionList)
        options.clear_options()
        shown = self.matching(text)
        for key, label in shown:
            mark = f" {sort_arrow(self.reverse)}" if key == self.current else ""
            options.add_option(Option(Content(f"{label}{mark}"), id=key))
        keys = [key for key, _ in shown]
        if keys:
            options.highlighted = keys.index(self.current) if self.current in keys else 0

    @on(Input.Changed, "#sort-filter")
    def _filter(self, event: Input.Changed) -> None:
        event.stop()
        self._show(event.value)

    def action_move(self, step: int) -> None:
        options = self.query_one("#sort-columns", OptionList)
        if options.option_count:
            current = options.highlighted if options.highlighted is not None else 0
            options.highlighted = (current + step) % options.option_count

    @on(Input.Submitted, "#sort-filter")
    def _submit(self, event: Input.Submitted) -> None:
        event.stop()
        self._choose()

    @on(OptionList.OptionSelected, "#sort-columns")
    def _clicked(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.dismiss(event.option.id)

    def _choose(self) -> None:
        options = self.query_one("#sort-columns", OptionList)
        if options.highlighted is None:
            return  # nothing matches: keep typing, or escape
        self.dismiss(options.get_option_at_index(options.highlighted).id)

    def action_cancel(self) -> None:
        self.dismiss(None)
