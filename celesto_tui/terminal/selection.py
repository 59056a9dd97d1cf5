"""Text selected with the mouse in a `TerminalScreen`: where it is and what it says.

A position is (row, column). Rows are counted from the first row that ever scrolled off the
top (`TerminalScreen.scrollback_pushed` rows ago), so a selection stays on its text while
output scrolls it into the scrollback. A change of the whole screen (a resize, the alternate
screen, a reset) bumps `TerminalScreen.generation`, and a selection of an older generation
no longer applies.
"""

from __future__ import annotations

from dataclasses import dataclass

from .screen import Row, TerminalScreen

Point = tuple[int, int]

# What ends a word for a double click: blanks, quotes and brackets; so paths, URLs and
# `user@host:~/dir` are one word each.
_WORD_BREAKS = frozenset(" \t\"'`()[]{}<>|,;")


@dataclass(frozen=True)
class Selection:
    """Cells from `anchor` (where the drag started) to `head`, both included."""

    anchor: Point
    head: Point
    generation: int

    @property
    def start(self) -> Point:
        return min(self.anchor, self.head)

    @property
    def end(self) -> Point:
        return max(self.anchor, self.head)

    def span(self, row: int, columns: int) -> tuple[int, int] | None:
        """The selected columns `first <= x < last` of `row`, or None."""
        (first_row, first_column), (last_row, last_column) = self.start, self.end
        if not first_row <= row <= last_row:
            return None
        first = first_column if row == first_row else 0
        last = last_column + 1 if row == last_row else columns
        return first, min(last, columns)


def top_row(screen: TerminalScreen, history_offset: int) -> int:
    """The row shown at the top of a view scrolled `history_offset` rows back."""
    return screen.scrollback_pushed - history_offset


def row_cells(screen: TerminalScreen, row: int) -> Row | None:
    """The cells of `row`, or None when it left the scrollback (or is below the screen)."""
    kept = len(screen.scrollback)
    index = row - (screen.scrollback_pushed - kept)
    if 0 <= index < kept:
        return screen.scrollback[index]
    index -= kept
    if 0 <= index < screen.lines:
        cells: Row | None = screen.buffer.get(index)
        return Row() if cells is None else cells
    return None


def selected_text(screen: TerminalScreen, selection: Selection) -> str:
    """The selection's text: rows joined with newlines, trailing blanks removed."""
    lines = []
    for row in range(selection.start[0], selection.end[0] + 1):
        cells = row_cells(screen, row)
        span = selection.span(row, screen.columns)
        if cells is None or span is None:
            continue
        first, last = span
        if first > 0 and cells[first].data == "":
            first -= 1  # the right half of a wide character: take the character
        lines.append("".join(cells[x].data for x in range(first, last)).rstrip())
    return "\n".join(lines)


def word_at(screen: TerminalScreen, point: Point, generation: int) -> Selection | None:
    """The word under `point` (a double click), or None on a blank."""
    row, column = point
    cells = row_cells(screen, row)
    if cells is None or _breaks(cells, column):
        return None
    first = column
    while first > 0 and not _breaks(cells, first - 1):
        first -= 1
    last = column
    while last + 1 < screen.columns and not _breaks(cells, last + 1):
        last += 1
    return Selection((row, first), (row, last), generation)


def line_at(screen: TerminalScreen, point: Point, generation: int) -> Selection:
    """The whole row under `point` (a triple click)."""
    row = point[0]
    return Selection((row, 0), (row, screen.columns - 1), generation)


def _breaks(cells: Row, column: int) -> bool:
    data = cells[column].data
    if data == "" and column > 0:  # the right half of a wide character
        data = cells[column - 1].data
    return not data or data[0] in _WORD_BREAKS
