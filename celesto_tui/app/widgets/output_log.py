"""Command output that keeps its lines: stdout and stderr told apart, searchable, copyable.

stderr lines carry a ``▌`` gutter (readable without colour) and the theme's error colour.
Only the lines on screen are ever rendered (the line API), so a command printing hundreds
of thousands of lines costs a list append per line, not a render: the UI stays responsive.
The buffer keeps the last `MAX_LINES`; a search highlights matches and scrolls to them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from textual.binding import Binding
from textual.color import Color
from textual.geometry import Size
from textual.scroll_view import ScrollView
from textual.strip import Strip

Stream = Literal["stdout", "stderr", "info", "ok", "bad"]
MAX_LINES = 10_000
STDERR_GUTTER = "▌ "
# Escape sequences (colours, cursor moves) and other control characters: a line shows text.
CONTROL = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b.|[\x00-\x08\x0b-\x1f\x7f]"
)


@dataclass(frozen=True)
class Line:
    stream: Stream
    text: str


def clean(text: str) -> str:
    return CONTROL.sub("", text.expandtabs())


class OutputLog(ScrollView, can_focus=True):
    """Follows new lines while its view is at the end (k9s-style): scrolled up, it stays put
    and its border counts the lines that came since; `f` or End follows again."""

    DEFAULT_CSS = """
    OutputLog { height: 1fr; border: round $primary 50%; background: $surface; }
    OutputLog:focus { border: round $primary; }
    """
    BINDINGS = [Binding("f", "follow", "Follow", id="output-follow")]

    def __init__(self, id: str | None = None) -> None:
        super().__init__(id=id)
        self.lines_kept: list[Line] = []
        self.query_text = ""
        self.matches: list[int] = []
        self.match_index = -1
        self._widest = 0
        self._styles: dict[str, Style] = {}
        self._styles_theme = ""
        self.unseen = 0  # lines added while scrolled up
        # Not "is the view at the end now": lines added in one frame move the end before the
        # view's scroll to it lands. Only scrolling up pauses; reaching the end resumes.
        self.following = True

    def action_follow(self) -> None:
        self.scroll_end(animate=False, immediate=True, x_axis=False)
        self._show_unseen(0)

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        if new_value >= self.max_scroll_y:
            self.following = True
            if self.unseen:
                self._show_unseen(0)
        elif new_value < old_value:
            self.following = False

    def _show_unseen(self, count: int) -> None:
        self.unseen = count
        plural = "" if count == 1 else "s"
        self.border_subtitle = f"paused · {count} new line{plural} · f follows" if count else ""

    # --- adding ----------------------------------------------------------------------------

    def add(self, stream: Stream, text: str) -> None:
        self.add_lines(stream, (text,))

    def add_lines(self, stream: Stream, texts: Iterable[str]) -> None:
        """Append lines; the view follows the end if it was there."""
        follow = self.following
        new = [Line(stream, clean(text)) for text in texts]
        if not new:
            return
        gutter = len(STDERR_GUTTER) if stream == "stderr" else 0
        self._widest = max(self._widest, max(cell_len(line.text) for line in new) + gutter)
        self.lines_kept.extend(new)
        dropped = len(self.lines_kept) - MAX_LINES
        if dropped > 0:
            del self.lines_kept[:dropped]
        if self.query_text:
            self._find_matches(keep_position=True)
        self.virtual_size = Size(self._widest, len(self.lines_kept))
        if follow:
            self.scroll_end(animate=False, immediate=False, x_axis=False)
        else:
            self._show_unseen(self.unseen + len(new))
        self.refresh()

    def reset(self) -> None:
        self._show_unseen(0)
        self.lines_kept.clear()
        self.matches, self.match_index = [], -1
        self._widest = 0
        self.virtual_size = Size(0, 0)
        self.scroll_home(animate=False)
        self.refresh()

    def plain(self) -> str:
        return "\n".join(
            (STDERR_GUTTER if line.stream == "stderr" else "") + line.text
            for line in self.lines_kept
        )

    # --- search ------------------------------------------------------------------------------

    def search(self, query: str) -> int:
        """Highlight ``query``; return how many lines match (and go to the first)."""
        self.query_text = query.strip()
        self._find_matches(keep_position=False)
        self._scroll_to_match()
        self.refresh()
        return len(self.matches)

    def _find_matches(self, keep_position: bool) -> None:
        needle = self.query_text.lower()
        current = self.matches[self.match_index] if keep_position and self.matches else None
        self.matches = (
            [i for i, line in enumerate(self.lines_kept) if needle in line.text.lower()]
            if needle
            else []
        )
        if current is not None and current in self.matches:
            self.match_index = self.matches.index(current)
        else:
            self.match_index = 0 if self.matches else -1

    def next_match(self, step: int = 1) -> None:
        if self.matches:
            self.match_index = (self.match_index + step) % len(self.matches)
            self._scroll_to_match()
            self.refresh()

    def _scroll_to_match(self) -> None:
        if self.match_index >= 0:
            self.scroll_to(y=max(0, self.matches[self.match_index] - 2), animate=False)

    # --- rendering (only the lines on screen) ------------------------------------------------

    def _style(self, name: str) -> Style:
        if self._styles_theme != self.app.theme:
            variables = self.app.get_css_variables()

            def color(variable: str) -> Style:
                try:
                    return Style(color=Color.parse(variables[variable]).rich_color)
                except (KeyError, ValueError):
                    return Style()

            error, success = color("error"), color("success")
            self._styles = {
                "stderr": error,
                "gutter": error + Style(bold=True),
                "info": Style(dim=True, bold=True),
                "ok": success + Style(bold=True),
                "bad": error + Style(bold=True),
                "stdout": Style(),
                "match": Style(reverse=True),
                "current": Style(reverse=True, bold=True, underline=True),
            }
            self._styles_theme = self.app.theme
        return self._styles.get(name, Style())

    def _segments(self, index: int) -> list[Segment]:
        line = self.lines_kept[index]
        style = self._style(line.stream)
        segments = (
            [Segment(STDERR_GUTTER, self._style("gutter"))] if line.stream == "stderr" else []
        )
        needle = self.query_text.lower()
        if not needle or needle not in line.text.lower():
            segments.append(Segment(line.text, style))
            return segments
        current = self.match_index >= 0 and self.matches[self.match_index] == index
        highlight = style + self._style("current" if current else "match")
        text, lower, start = line.text, line.text.lower(), 0
        while (found := lower.find(needle, start)) >= 0:
            if found > start:
                segments.append(Segment(text[start:found], style))
            segments.append(Segment(text[found : found + len(needle)], highlight))
            start = found + len(needle)
        if start < len(text):
            segments.append(Segment(text[start:], style))
        return segments

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        width = self.scrollable_content_region.width
        index = scroll_y + y
        base = self.rich_style
        if index >= len(self.lines_kept):
            return Strip.blank(width, base)
        strip = Strip(self._segments(index)).crop_extend(scroll_x, scroll_x + width, base)
        return strip.apply_style(base)
