"""The terminals screen's footer: every key hint within 80 columns.

With the focus off the terminal (on the tab bar), the app's own keys join the tab keys and
Textual's footer ran past 80 columns, cutting off `? Keys` and `q Quit` and drawing the
palette key over them. Here it is compact, help and the way back come first, and the keys
that mean nothing over a terminal (poll the API now, the palette's own hint: ctrl+p goes to
the shell) are left out."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.widgets import Footer

FIRST_ACTIONS = ("help", "back")
LEFT_OUT_ACTIONS = frozenset({"refresh"})


class TerminalsFooter(Footer):
    def __init__(self) -> None:
        super().__init__(compact=True, show_command_palette=False)

    def compose(self) -> ComposeResult:
        # FooterKey is not public: its `action` attribute is all that is needed.
        keys = [
            widget
            for widget in super().compose()
            if getattr(widget, "action", "") not in LEFT_OUT_ACTIONS
        ]
        first = sorted(
            (widget for widget in keys if getattr(widget, "action", "") in FIRST_ACTIONS),
            key=lambda widget: FIRST_ACTIONS.index(getattr(widget, "action", "")),
        )
        yield from first
        yield from (widget for widget in keys if widget not in first)
