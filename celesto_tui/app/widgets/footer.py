"""The footer, with `? Keys` first: at 80 columns the focused widget's keys fill the row and
Textual's footer cuts off the app's own keys at the end, help among them."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.widgets import Footer

FIRST_ACTIONS = ("help",)


class DashboardFooter(Footer):
    def compose(self) -> ComposeResult:
        keys = list(super().compose())
        # FooterKey is not public: its `action` attribute is all that is needed.
        first = [widget for widget in keys if getattr(widget, "action", "") in FIRST_ACTIONS]
        yield from first
        yield from (widget for widget in keys if widget not in first)
