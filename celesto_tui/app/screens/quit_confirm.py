"""Quitting would stop computers or end shells (`model.quitting`): say so, Cancel focused.

``q`` again (the key that opened it) or Enter on Quit quits; Escape or Enter on Cancel stays.
"""

from __future__ import annotations

from textual.binding import Binding

from ...model.quitting import QuitLosses
from .confirm import ConfirmScreen

SHOWN_NAMES = 8


class QuitConfirmScreen(ConfirmScreen):
    BINDINGS = [Binding("q", "confirm", "Quit", id="quit-confirm")]

    def __init__(self, losses: QuitLosses) -> None:
        self.losses = losses
        names = list(losses.computers[:SHOWN_NAMES])
        if len(losses.computers) > SHOWN_NAMES:
            names.append(f"and {len(losses.computers) - SHOWN_NAMES} more")
        super().__init__(
            f"Quit? {losses.sentence()}.",
            names,
            verb="Quit",
            note="The embedded backend stops with the dashboard: its computers come back "
            "stopped (files kept), its shells do not come back. q again quits.",
        )
        self.losses = losses

    def action_confirm(self) -> None:
        self.dismiss(True)
