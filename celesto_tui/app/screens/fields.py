"""What every dialog with fields shares: Tab that keeps up with fast typing, and a focused
field that stands out.

Textual's own Tab binding is not a priority one: the key first travels to the focused field
and bubbles back to the app before focus moves, and keys typed right behind it (a burst from
a fast typist, a paste, tmux) have already been handed to the old field by then, so
``Tab 2048 Tab 4gb`` put ``20484`` in one field. As priority bindings, Tab and Shift+Tab move
the focus when the app reads them, before it hands on the next key.
"""

from __future__ import annotations

from textual.binding import Binding, BindingType

FIELD_BINDINGS: list[BindingType] = [
    Binding("tab", "app.focus_next", show=False, priority=True, id="dialog-next-field"),
    Binding(
        "shift+tab", "app.focus_previous", show=False, priority=True, id="dialog-previous-field"
    ),
]


def focus_css(screen: str) -> str:
    """CSS for ``screen`` (a class name) making its focused field and that field's label
    stand out in every theme (compact fields have no border to light up)."""
    return f"""
    {screen} Input:focus, {screen} Select:focus > SelectCurrent {{
        background: $accent 40%;
        color: $text;
    }}
    {screen} .field-row:focus-within .field-label {{ color: $accent; text-style: bold; }}
    """
