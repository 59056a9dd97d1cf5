"""The terminals screen in a real terminal, for tests that need one (the pop-out).

Usage: CELESTO_BASE_URL=… CELESTO_API_KEY=… python terminals_app.py COMPUTER_ID NAME [LEAVE_KEY]
"""

from __future__ import annotations

import sys

from textual.app import App

from celesto_api import AsyncCelesto
from celesto_tui.terminal.terminals_screen import TerminalsScreen


class TerminalsOnly(App[None]):
    def __init__(self, computer_id: str, name: str, leave_key: str | None) -> None:
        super().__init__()
        self.api = AsyncCelesto()
        self.terminals = TerminalsScreen(self.api, leave_key=leave_key)
        self.terminals.open_terminal(computer_id, name)

    def on_mount(self) -> None:
        self.push_screen(self.terminals)

    async def on_unmount(self) -> None:
        await self.api.aclose()


if __name__ == "__main__":
    TerminalsOnly(sys.argv[1], sys.argv[2], sys.argv[3] if len(sys.argv) > 3 else None).run()
