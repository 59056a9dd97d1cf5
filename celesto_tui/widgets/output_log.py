"""Command output that keeps its lines: stdout and stderr told apart, searchable, copyable.

stderr lines carry a ``▌`` gutter (readable without colour) and the theme's error colour.
The buffer is capped; a search re-renders with the matches highlighted and scrolls to the
current one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from rich.style import Style
from rich.text import Text
from textual.color import Color
from textual.widgets import RichLog

Stream = Literal["stdout", "stderr", "info", "ok", "bad"]
MAX_LINES = 10_000
STDERR_GUTTER = "▌ "


@dataclass(frozen=True)
class Line:
    stream: Stream
    text: str


class OutputLog(RichLog):
    DEFAULT_CSS = """
    OutputLog { height: 1fr; border: round $primary 50%; background: $surface; }
    OutputLog:focus { border: round $primary; }
    """

    def __init__(self, id: str | None = None) -> None:
        super().__init__(id=id, wrap=False, markup=False, highlight=False, max_lines=MAX_LINES)
        self.lines_kept: list[Line] = []
        self.query_text = ""
        self.matches: list[int] = []
        self.match_index = -1

    def _style(self, name: str) -> Style:
        try:
            return Style(color=Color.parse(self.app.get_css_variables()[name]).rich_color)
        except (KeyError, ValueError):
            return Style()

    def _text(self, line: Line) -> Text:
        if line.stream == "stderr":
            style = self._style("error")
            text = Text(STDERR_GUTTER, style=style + Style(bold=True))
            text.append(line.text, style=style)
        elif line.stream == "info":
            text = Text(line.text, style=Style(dim=True, bold=True))
        elif line.stream == "ok":
            text = Text(line.text, style=self._style("success") + Style(bold=True))
        elif line.stream == "bad":
            text = Text(line.text, style=self._style("error") + Style(bold=True))
        else:
            text = Text(line.text)
        if self.query_text:
            text.highlight_words([self.query_text], "reverse", case_sensitive=False)
        return text

    def add(self, stream: Stream, text: str) -> None:
        line = Line(stream, text.expandtabs())
        self.lines_kept.append(line)
        if len(self.lines_kept) > MAX_LINES:
            del self.lines_kept[: len(self.lines_kept) - MAX_LINES]
        self.write(self._text(line))

    def reset(self) -> None:
        self.lines_kept.clear()
        self.matches, self.match_index = [], -1
        self.clear()

    def plain(self) -> str:
        return "\n".join(
            (STDERR_GUTTER if line.stream == "stderr" else "") + line.text
            for line in self.lines_kept
        )

    def search(self, query: str) -> int:
        """Highlight ``query``; return how many lines match (and go to the first)."""
        self.query_text = query.strip()
        needle = self.query_text.lower()
        self.matches = (
            [i for i, line in enumerate(self.lines_kept) if needle in line.text.lower()]
            if needle
            else []
        )
        self.match_index = 0 if self.matches else -1
        self.clear()
        for line in self.lines_kept:
            self.write(self._text(line))
        self._scroll_to_match()
        return len(self.matches)

    def next_match(self, step: int = 1) -> None:
        if self.matches:
            self.match_index = (self.match_index + step) % len(self.matches)
            self._scroll_to_match()

    def _scroll_to_match(self) -> None:
        if self.match_index >= 0:
            self.scroll_to(y=max(0, self.matches[self.match_index] - 2), animate=False)
