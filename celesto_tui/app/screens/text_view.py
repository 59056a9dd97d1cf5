"""A scrollable, copyable text (a deployment's build log, an error's details)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Label, TextArea


class TextScreen(ModalScreen[None]):
    DEFAULT_CSS = """
    TextScreen { align: center middle; }
    TextScreen > Vertical {
        width: 90%; height: 85%; border: thick $primary; background: $surface; padding: 0 1;
    }
    TextScreen TextArea { height: 1fr; }
    TextScreen #text-hint { color: $text-muted; }
    """
    BINDINGS = [
        Binding("escape,q", "close", "Close", id="text-close"),
        Binding("y", "copy", "Copy", id="text-copy"),
    ]

    def __init__(self, title: str, text: str) -> None:
        super().__init__()
        self.title_text = title
        self.text = text

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(Content.assemble((self.title_text, "bold")))
            yield TextArea(self.text, read_only=True, show_line_numbers=False, id="text-body")
            yield Label(
                "Esc closes · y copies everything · select text with the mouse", id="text-hint"
            )

    def on_mount(self) -> None:
        area = self.query_one(TextArea)
        area.focus()
        area.scroll_end(animate=False)

    def action_copy(self) -> None:
        self.app.copy_to_clipboard(self.text)
        self.notify("Copied.")

    def action_close(self) -> None:
        self.dismiss(None)
