"""Helpers for the terminal widget tests: an emulator with its callbacks recorded."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from celesto_tui.terminal.render import TerminalRenderer
from celesto_tui.terminal.screen import TerminalScreen
from celesto_tui.terminal.stream import TerminalStream


class Term:
    """A `TerminalScreen` + `TerminalStream` whose replies, bells and titles are recorded."""

    def __init__(self, columns: int = 20, lines: int = 5, scrollback: int = 100) -> None:
        self.replies: list[str] = []
        self.bells = 0
        self.titles: list[str] = []
        self.screen = TerminalScreen(
            columns,
            lines,
            scrollback=scrollback,
            on_reply=self.replies.append,
            on_bell=self._bell,
            on_title=self.titles.append,
        )
        self.stream = TerminalStream(self.screen)
        self.renderer = TerminalRenderer(self.screen)

    def _bell(self) -> None:
        self.bells += 1

    def feed(self, data: str | bytes) -> Term:
        self.stream.feed(data.encode() if isinstance(data, str) else data)
        return self

    @property
    def rows(self) -> list[str]:
        """The screen as text, trailing blanks removed."""
        return [line.rstrip() for line in self.screen.display]

    @property
    def history(self) -> list[str]:
        return [
            "".join(row[x].data for x in range(self.screen.columns)).rstrip()
            for row in self.screen.scrollback
        ]

    @property
    def cursor(self) -> tuple[int, int]:
        return self.screen.cursor.x, self.screen.cursor.y


@pytest.fixture
def make_term() -> Callable[..., Term]:
    """Factory: `term(columns, lines, scrollback=...)`."""
    return Term
