"""A `pyte.Screen` that behaves like a modern xterm.

pyte 0.8.2 is the engine, but its `Screen` misses or mishandles what shells, vim, less and
ncurses send every day (see shared/terminal-notes.md §3). `TerminalScreen` keeps pyte's buffer
layout (`buffer[y][x]` of cells, `dirty`, `cursor`, `mode`) and fixes, per the notes:

- handlers tolerate extra parameters and `private=` instead of raising `TypeError`;
- the alternate screen (`?1049`, `?1047`, `?47`) with the shell screen restored on exit;
- its own bounded scrollback, fed only by full-screen scrolls of the main screen;
- SU/SD (`CSI S`/`CSI T`), REP (`CSI b`), CHT/CBT, SCOSC/SCORC, DECSTR, DECSCUSR, DECRQM;
- characters are measured and joined into cells as tmux 3.3a does it (the golden tests compare
  against it): zero-width characters (combining marks, variation selectors) join the cell left
  of the cursor instead of dropping the rest of the text, a zero-width joiner joins the next
  character too (a ZWJ emoji sequence is one cell as wide as its first emoji), regional
  indicators are one column each (a flag takes two), skin-tone modifiers keep cells of their
  own, and a wide character that does not fit in the last column wraps as in xterm;
- a resize that keeps the prompt: blank rows below the cursor go first, then the top rows move
  into the scrollback, and growing pulls them back;
- replies to DA1/DA2/DSR/CPR through `on_reply`, plus `on_bell` and `on_title` callbacks;
- SGR dim, conceal, colon sub-parameters and palette colours 0-15 kept as names;
- dirty rows are tracked precisely, and a scroll of the whole screen is reported as a scroll
  (`scroll_count`) so a renderer can move its cached rows instead of redrawing all of them.

The escape-sequence parser lives in `stream.py`; this module only holds screen state.
"""

from __future__ import annotations

import copy
import unicodedata
from collections import defaultdict, deque
from collections.abc import Callable, Iterable
from typing import Any, NamedTuple

import pyte
from pyte import charsets, graphics, modes
from pyte.screens import Margins, wcwidth


class Cell(NamedTuple):
    """A styled character cell: pyte's `Char` fields plus `dim` and `conceal`.

    `data` is "" for the right half of a wide character.
    """

    data: str
    fg: str = "default"
    bg: str = "default"
    bold: bool = False
    italics: bool = False
    underscore: bool = False
    strikethrough: bool = False
    reverse: bool = False
    blink: bool = False
    dim: bool = False
    conceal: bool = False


BLANK = Cell(" ")
_REVERSE_BLANK = Cell(" ", reverse=True)


def _private(mode: int) -> int:
    """pyte stores private (DEC) modes shifted left by 5 bits."""
    return mode << 5


APPLICATION_CURSOR = _private(1)
AUTOWRAP = modes.DECAWM
ORIGIN = modes.DECOM
CURSOR_VISIBLE = modes.DECTCEM
INSERT = modes.IRM
NEWLINE = modes.LNM
REVERSE_SCREEN = modes.DECSCNM
ALTERNATE_SCREENS = frozenset({_private(47), _private(1047), _private(1049)})
MOUSE_X10 = _private(9)
MOUSE_NORMAL = _private(1000)
MOUSE_BUTTON_MOTION = _private(1002)
MOUSE_ANY_MOTION = _private(1003)
MOUSE_TRACKING = (MOUSE_ANY_MOTION, MOUSE_BUTTON_MOTION, MOUSE_NORMAL, MOUSE_X10)
MOUSE_UTF8 = _private(1005)
MOUSE_SGR = _private(1006)
MOUSE_URXVT = _private(1015)
MOUSE_ENCODINGS = (MOUSE_SGR, MOUSE_URXVT, MOUSE_UTF8)
FOCUS_REPORTING = _private(1004)
ALTERNATE_SCROLL = _private(1007)
BRACKETED_PASTE = _private(2004)
SYNCHRONIZED_OUTPUT = _private(2026)
_COLUMN_MODE = 3  # DECCOLM: xterm ignores it unless allowed; the widget owns the size.

_REPORTABLE_PRIVATE_MODES = frozenset(
    {1, 6, 7, 25, 47, 1000, 1002, 1003, 1004, 1005, 1006, 1007, 1015, 1047, 1049, 2004, 2026}
)
_REPORTABLE_ANSI_MODES = frozenset({4, 20})

_FG_16 = [graphics.FG_ANSI[30 + n] for n in range(8)] + [
    graphics.FG_AIXTERM[90 + n] for n in range(8)
]
_BG_16 = [graphics.BG_ANSI[40 + n] for n in range(8)] + [
    graphics.BG_AIXTERM[100 + n] for n in range(8)
]
_FIELD = {name: index for index, name in enumerate(Cell._fields)}
_FG, _BG = _FIELD["fg"], _FIELD["bg"]
_SGR_FLAGS: dict[int, tuple[tuple[int, bool], ...]] = {
    code: tuple((_FIELD[name], value) for name, value in changes)
    for code, changes in {
        1: (("bold", True),),
        2: (("dim", True),),
        3: (("italics", True),),
        4: (("underscore", True),),
        5: (("blink", True),),
        6: (("blink", True),),
        7: (("reverse", True),),
        8: (("conceal", True),),
        9: (("strikethrough", True),),
        21: (("underscore", True),),
        22: (("bold", False), ("dim", False)),
        23: (("italics", False),),
        24: (("underscore", False),),
        25: (("blink", False),),
        27: (("reverse", False),),
        28: (("conceal", False),),
        29: (("strikethrough", False),),
    }.items()
}
_MAX_CELL_BYTES = 21  # tmux's limit on a cell's UTF-8; also keeps adversarial input linear
ZERO_WIDTH_JOINER = "\u200d"
_CACHE_LIMIT = 512

CURSOR_SHAPES = dict.fromkeys((0, 1, 2), "block") | dict.fromkeys((3, 4), "underline")
CURSOR_SHAPES |= dict.fromkeys((5, 6), "bar")
"""DECSCUSR parameter to cursor shape."""


class _Widths(dict[str, int]):
    """Columns per character, memoised (a dict lookup per character on the drawing path)."""

    def __missing__(self, char: str) -> int:
        # wcwidth gives regional indicators two columns each; glibc's wcwidth (what programs
        # in the computer count with, and what tmux draws with) and Rich give them one.
        width = 1 if "\U0001f1e6" <= char <= "\U0001f1ff" else wcwidth(char)
        if len(self) < 16_384:
            self[char] = width
        return width


cell_width: Callable[[str], int] = _Widths().__getitem__
"""How many columns a character takes: 0, 1 or 2 (-1 for a control character)."""


class Row(dict[int, Cell]):
    """One screen row: a sparse mapping of column to cell, blank where nothing is stored.

    It behaves like pyte's `StaticDefaultDict` but has no Python-level `__init__`, so building
    thousands of rows while scrolling stays cheap.
    """

    default: Cell = BLANK

    def __missing__(self, column: int) -> Cell:
        return self.default


_new_tuple = tuple.__new__


class _CellsOf(dict[str, Cell]):
    """Interned cells of one attribute set, so drawing a character is a dict lookup."""

    __slots__ = ("attributes",)

    def __init__(self, attrs: Cell) -> None:
        super().__init__()
        self.attributes = attrs[1:]

    def __missing__(self, data: str) -> Cell:
        cell: Cell = _new_tuple(Cell, (data, *self.attributes))
        self[data] = cell
        return cell


StyledRun = tuple[Cell, str]
"""Printable ASCII text and the attributes to draw it in."""


class _SavedMainScreen(NamedTuple):
    buffer: Any
    margins: Margins | None
    cursor: Any | None  # pyte Cursor saved by ?1049, else None


class TerminalScreen(pyte.Screen):
    """pyte screen with xterm fixes, alternate screen, scrollback and reply callbacks.

    Args:
        columns: Width in cells.
        lines: Height in rows.
        scrollback: Maximum number of rows kept after they scroll off the top.
        on_reply: Called with text the terminal must send back to the program (DSR, DA).
        on_bell: Called on BEL.
        on_title: Called with the new window title (OSC 0 / OSC 2).
    """

    # pyte types rows as holding its 9-field `Char`; ours hold `Cell`, so keep these untyped.
    buffer: Any
    cursor: Any

    def __init__(
        self,
        columns: int,
        lines: int,
        *,
        scrollback: int = 5_000,
        on_reply: Callable[[str], None] | None = None,
        on_bell: Callable[[], None] | None = None,
        on_title: Callable[[str], None] | None = None,
    ) -> None:
        self.scrollback: deque[Row] = deque(maxlen=max(0, scrollback))
        self.scrollback_pushed = 0
        """Rows ever pushed into the scrollback (minus rows pulled back by a resize)."""
        self.scroll_count = 0
        """Full-screen scrolls so far; a renderer shifts its row cache by the difference."""
        self.generation = 0
        """Bumped whenever rows change wholesale (resize, alternate screen, reset)."""
        self.on_reply = on_reply
        self.on_bell = on_bell
        self.on_title = on_title
        self.cursor_shape = "block"
        self.last_char = ""
        self._joiner_at: tuple[int, int] | None = None
        """Where the cursor was when a zero-width joiner came, until the next character."""
        self._alternate: _SavedMainScreen | None = None
        self._translation: str | None = None
        self._cells: dict[Cell, _CellsOf] = {}
        self._attrs_seen: set[Cell] = set()
        self._erasures: dict[tuple[int, int, Cell], dict[int, Cell]] = {}
        self._drawing_attrs: Cell | None = None
        self._drawing_cells = _CellsOf(BLANK)
        self._sgr_cache: dict[tuple[Cell, tuple[int, ...]], Cell] = {}
        super().__init__(columns, lines)
        self.buffer = defaultdict(self._new_row)

    def _new_row(self) -> Row:
        row = Row()
        if REVERSE_SCREEN in self.mode:
            row.default = _REVERSE_BLANK
        return row

    # -- state queries -----------------------------------------------------------------

    @property
    def default_char(self) -> Cell:  # type: ignore[override]
        return _REVERSE_BLANK if REVERSE_SCREEN in self.mode else BLANK

    @property
    def in_alternate_screen(self) -> bool:
        return self._alternate is not None

    @property
    def application_cursor(self) -> bool:
        return APPLICATION_CURSOR in self.mode

    @property
    def newline_mode(self) -> bool:
        return NEWLINE in self.mode

    @property
    def bracketed_paste(self) -> bool:
        return BRACKETED_PASTE in self.mode

    @property
    def focus_reporting(self) -> bool:
        return FOCUS_REPORTING in self.mode

    @property
    def alternate_scroll(self) -> bool:
        return ALTERNATE_SCROLL in self.mode

    @property
    def synchronized_output(self) -> bool:
        return SYNCHRONIZED_OUTPUT in self.mode

    @property
    def cursor_visible(self) -> bool:
        return not self.cursor.hidden

    @property
    def mouse_tracking(self) -> int:
        """The active xterm mouse mode: 9, 1000, 1002, 1003, or 0 when off."""
        for mode in MOUSE_TRACKING:
            if mode in self.mode:
                return mode >> 5
        return 0

    @property
    def mouse_encoding(self) -> str:
        """The active mouse report encoding: "sgr", "urxvt", "utf8" or "x10" (default)."""
        names = {MOUSE_SGR: "sgr", MOUSE_URXVT: "urxvt", MOUSE_UTF8: "utf8"}
        for mode in MOUSE_ENCODINGS:
            if mode in self.mode:
                return names[mode]
        return "x10"

    # -- whole-screen state ---------------------------------------------------------------

    def reset(self) -> None:
        super().reset()
        self.cursor.attrs = self.default_char
        self.cursor_shape = "block"
        self.last_char = ""
        self._joiner_at = None
        self._alternate = None
        self._translation = None
        self._sgr_cache.clear()
        self._mark_all_dirty()

    def soft_reset(self) -> None:
        """DECSTR (`CSI ! p`): modes, margins, attributes and saved cursor to defaults."""
        self.mode.difference_update({INSERT, ORIGIN, APPLICATION_CURSOR})
        self.mode.update({AUTOWRAP, CURSOR_VISIBLE})
        self.cursor.hidden = False
        self.margins = None
        self.cursor.attrs = self.default_char
        self.charset = 0
        self.g0_charset = charsets.LAT1_MAP
        self.g1_charset = charsets.VT100_MAP
        self._update_translation()
        self.savepoints = []

    def resize(self, lines: int | None = None, columns: int | None = None) -> None:
        """Resize keeping the prompt in view, as xterm does.

        Shrinking drops blank rows below the cursor first and only then moves top rows into the
        scrollback; growing pulls rows back from the scrollback. Cells right of a narrower width
        are dropped (there is no reflow); scrollback rows keep theirs.
        """
        lines = max(1, lines or self.lines)
        columns = max(1, columns or self.columns)
        old_columns = self.columns
        if lines == self.lines and columns == old_columns:
            return
        if lines != self.lines:
            if self._alternate is None:
                self.cursor.y = self._fit_rows(self.buffer, self.cursor.y, lines, keep_bottom=True)
            else:
                self._fit_rows(self.buffer, self.cursor.y, lines, keep_bottom=False)
                saved = self._alternate
                cursor_y = saved.cursor.y if saved.cursor is not None else self._last_used_row()
                new_y = self._fit_rows(saved.buffer, cursor_y, lines, keep_bottom=True)
                if saved.cursor is not None:
                    saved.cursor.y = new_y
        # Also rows pulled back from the scrollback may be wider than the screen.
        buffers = [self.buffer]
        if self._alternate is not None:
            buffers.append(self._alternate.buffer)
        for buffer in buffers:
            for line in buffer.values():
                for x in [x for x in line if x >= columns]:
                    del line[x]
        self.lines, self.columns = lines, columns
        self.margins = None
        self.tabstops = {stop for stop in self.tabstops if stop < columns}
        self.tabstops.update(range(8 * ((old_columns - 1) // 8 + 1), columns, 8))
        self.cursor.x = min(self.cursor.x, columns)
        self.cursor.y = min(max(self.cursor.y, 0), lines - 1)
        self.dirty.clear()
        self._mark_all_dirty()

    def _last_used_row(self) -> int:
        saved = self._alternate
        rows = [y for y, line in saved.buffer.items() if not self._is_blank(line)] if saved else []
        return max(rows, default=0)

    def _fit_rows(self, buffer: Any, cursor_y: int, lines: int, *, keep_bottom: bool) -> int:
        """Change `buffer` from `self.lines` to `lines` rows; return the new cursor row."""
        old = self.lines
        if lines < old:
            excess = old - lines
            y = old - 1
            while excess and y > cursor_y and self._is_blank(buffer.get(y)):
                buffer.pop(y, None)
                excess -= 1
                y -= 1
            if excess and keep_bottom:
                for row in range(excess):
                    self._push_scrollback(buffer.get(row))
                self._move_rows(buffer, excess, old - 1, -excess)
                cursor_y -= excess
            for row in [row for row in buffer if row >= lines]:
                del buffer[row]
        elif keep_bottom and self.scrollback:
            pulled = min(lines - old, len(self.scrollback))
            self._move_rows(buffer, 0, old - 1, pulled)
            for row in range(pulled - 1, -1, -1):
                buffer[row] = self.scrollback.pop()
            self.scrollback_pushed -= pulled
            cursor_y += pulled
        return max(0, min(cursor_y, lines - 1))

    @staticmethod
    def _move_rows(buffer: Any, first: int, last: int, by: int) -> None:
        """Move rows `first..last` by `by` (negative is up); vacated rows become blank."""
        order = range(first, last + 1) if by < 0 else range(last, first - 1, -1)
        for y in order:
            line = buffer.pop(y, None)
            if line is not None and y + by >= 0:
                buffer[y + by] = line

    def _is_blank(self, line: Row | None) -> bool:
        if not line:
            return True
        blank = self.default_char
        return all(cell == blank for cell in line.values())

    def _mark_all_dirty(self) -> None:
        self.dirty.update(range(self.lines))
        self.generation += 1
        self._joiner_at = None  # a joiner never reaches across a resize or a switch of screens

    # -- drawing --------------------------------------------------------------------------

    def _cells_for(self, attrs: Cell) -> _CellsOf:
        cells = self._cells.get(attrs)
        if cells is None:
            if len(self._cells) > _CACHE_LIMIT:
                self._cells.clear()
            cells = self._cells[attrs] = _CellsOf(attrs)
        return cells

    def draw(self, data: str) -> None:
        if self._translation is not None:
            data = data.translate(self._translation)
        if not (data.isascii() and data.isprintable() and INSERT not in self.mode):
            self._draw_any(data)
            return
        cursor = self.cursor
        x = cursor.x
        end = x + len(data)
        if x == end or end > self.columns:
            if data:
                self._draw_narrow(data)
            return
        # The hot path: printable ASCII that fits on the cursor's row.
        attrs = cursor.attrs
        if attrs is self._drawing_attrs:
            cells = self._drawing_cells
        else:
            cells = self._drawing_cells = self._cells_for(attrs)
            self._drawing_attrs = attrs
        row = self.buffer[cursor.y]
        row.update(zip(range(x, end), map(cells.__getitem__, data), strict=False))
        cursor.x = end
        self.last_char = data[-1]
        self.dirty.add(cursor.y)

    def _draw_narrow(self, text: str) -> None:
        """Draw printable ASCII: every character is one cell, so write whole row slices."""
        cursor = self.cursor
        columns = self.columns
        cells = self._cells_for(cursor.attrs)
        autowrap = AUTOWRAP in self.mode
        self.last_char = text[-1]
        while text:
            if cursor.x >= columns:
                if not autowrap:
                    self.buffer[cursor.y][columns - 1] = cells[text[-1]]
                    break
                self.dirty.add(cursor.y)
                self.carriage_return()
                self.linefeed()
            x = cursor.x
            room = columns - x
            part = text[:room]
            text = text[room:]
            line = self.buffer[cursor.y]
            if len(part) == 1:
                line[x] = cells[part]
            else:
                line.update(
                    zip(range(x, x + len(part)), map(cells.__getitem__, part), strict=False)
                )
            cursor.x = x + len(part)
        self.dirty.add(cursor.y)

    def _draw_any(self, data: str) -> None:
        cursor = self.cursor
        columns = self.columns
        cells = self._cells_for(cursor.attrs)
        autowrap = AUTOWRAP in self.mode
        insert = INSERT in self.mode
        joiner_at = self._joiner_at
        for char in data:
            if char == ZERO_WIDTH_JOINER:
                joiner_at = (cursor.x, cursor.y)
                continue
            if joiner_at is not None and not char.isascii():
                # tmux joins the character after a ZWJ to the cell before it, whatever its
                # width (ASCII is drawn on its own and leaves the joiner pending).
                joined = joiner_at == (cursor.x, cursor.y)
                joiner_at = None
                if joined:
                    self._join_previous_cell(ZERO_WIDTH_JOINER)
                    self._join_previous_cell(char)
                    continue
            width = cell_width(char)
            if width <= 0:
                if width == 0:
                    self._join_previous_cell(char)
                continue
            if cursor.x >= columns or (width == 2 and cursor.x == columns - 1 and columns > 1):
                if autowrap:
                    self.dirty.add(cursor.y)
                    self.carriage_return()
                    self.linefeed()
                else:
                    cursor.x = max(0, columns - width)
            if insert:
                self.insert_characters(width)
            line = self.buffer[cursor.y]
            line[cursor.x] = cells[char]
            if width == 2 and cursor.x + 1 < columns:
                line[cursor.x + 1] = cells[""]
            cursor.x = min(cursor.x + width, columns)
            self.last_char = char
        self._joiner_at = joiner_at
        self.dirty.add(cursor.y)

    def _join_previous_cell(self, char: str) -> None:
        """Attach a zero-width character to the cell left of the cursor, as tmux does.

        In the first column there is no such cell and the character is dropped; a cell keeps
        at most `_MAX_CELL_BYTES` of UTF-8, what does not fit is dropped too.
        """
        x, y = self.cursor.x, self.cursor.y
        if x <= 0:
            return
        column = min(x, self.columns) - 1
        line = self.buffer[y]
        if column > 0 and line[column].data == "":
            column -= 1  # the right half of a wide character: join its left half
        last = line[column]
        data = last.data + char
        if len(data.encode("utf-8")) > _MAX_CELL_BYTES:
            return
        if unicodedata.combining(char):
            data = unicodedata.normalize("NFC", data)
        line[column] = last._replace(data=data)
        self.dirty.add(y)

    def draw_lines(self, texts: Iterable[str]) -> None:
        """Same as `draw(text)`, `carriage_return()`, `linefeed()` for each text.

        Texts must be printable ASCII. While the screen scrolls as a whole this builds the new
        rows directly and shifts the screen once, instead of once per line; rows that would
        scroll out of the scrollback anyway are never built.
        """
        texts = list(texts)
        index = 0
        # Draw normally until a linefeed has scrolled: from then on every text starts on a
        # fresh bottom row.
        while index < len(texts):
            at_bottom = self.cursor.y == self.lines - 1
            self._draw_line(texts[index])
            index += 1
            if at_bottom:
                break
        if index < len(texts):
            if self._can_batch_lines():
                self._draw_lines_scrolling(texts[index:], self._cells_for(self.cursor.attrs))
            else:
                for text in texts[index:]:
                    self._draw_line(text)

    def draw_styled(self, lines: list[list[StyledRun]], tail: list[StyledRun]) -> None:
        """Draw styled printable ASCII: each of `lines` followed by CR LF, then `tail`.

        A run `(attributes, text)` is what `cursor.attrs = attributes; draw(text)` draws; a
        line's runs go into its row at once, and lines that scroll the whole screen are
        batched as in `draw_lines`. The cursor's attributes are left to the caller.
        """
        index = 0
        while index < len(lines):
            at_bottom = self.cursor.y == self.lines - 1
            self.draw_runs(lines[index])
            self.cursor.x = 0
            self.linefeed()
            index += 1
            if at_bottom:
                break
        if index < len(lines):
            if self._can_batch_lines():
                self._draw_lines_scrolling(list(map(self._cells_of_runs, lines[index:])), None)
            else:
                for runs in lines[index:]:
                    self.draw_runs(runs)
                    self.cursor.x = 0
                    self.linefeed()
        if tail:
            self.draw_runs(tail)

    def draw_runs(self, runs: list[StyledRun]) -> None:
        """Draw runs of printable ASCII, each in its own attributes, one row write if they fit."""
        cursor = self.cursor
        x = cursor.x
        if self._translation is None and INSERT not in self.mode:
            cells = self._cells_of_runs(runs)
            end = x + len(cells)
            if x < end <= self.columns:
                self.buffer[cursor.y].update(zip(range(x, end), cells, strict=False))
                cursor.x = end
                self.last_char = cells[-1].data
                self.dirty.add(cursor.y)
                return
        for attrs, text in runs:
            cursor.attrs = attrs
            self.draw(text)

    def _cells_of_runs(self, runs: list[StyledRun]) -> list[Cell]:
        cells: list[Cell] = []
        known = self._cells
        seen = self._attrs_seen
        for attrs, text in runs:
            of = known.get(attrs)
            if of is not None:
                cells += map(of.__getitem__, text)
            elif attrs in seen:
                cells += map(self._cells_for(attrs).__getitem__, text)
            else:
                # First sight of these attributes (a truecolour run is often the only one):
                # build the cells without interning them.
                if len(seen) > _CACHE_LIMIT:
                    seen.clear()
                seen.add(attrs)
                tail = attrs[1:]
                cells += [_new_tuple(Cell, (char,) + tail) for char in text]  # noqa: RUF005 (faster)
        return cells

    def _draw_line(self, text: str) -> None:
        if text:
            self.draw(text)
        self.cursor.x = 0
        self.linefeed()

    def _can_batch_lines(self) -> bool:
        margins = self.margins
        return (
            (margins is None or (margins.top == 0 and margins.bottom == self.lines - 1))
            and AUTOWRAP in self.mode
            and INSERT not in self.mode
            and self._translation is None
            and REVERSE_SCREEN not in self.mode
            and self.cursor.y == self.lines - 1
            and self.cursor.x == 0
        )

    def _draw_lines_scrolling(self, texts: list[Any], cells: _CellsOf | None) -> None:
        """Scroll `texts` in from the bottom row: strings drawn in `cells`, or (`cells` None)
        lists of cells."""
        columns = self.columns
        lines = self.lines
        keep = lines + (self.scrollback.maxlen or 0)  # rows that can still be seen afterwards
        span = range(columns)
        if max(map(len, texts)) <= columns:  # the common case: one row per text
            scrolled = len(texts)
            if cells is None:
                fresh = [Row(zip(span, text, strict=False)) for text in texts[-keep:]]
            else:
                cell = cells.__getitem__
                fresh = [Row(zip(span, map(cell, text), strict=False)) for text in texts[-keep:]]
        else:
            heights = [max(1, -(-len(text) // columns)) for text in texts]
            scrolled = sum(heights)
            skip = scrolled - keep
            fresh = []
            for text, height in zip(texts, heights, strict=True):
                if height <= skip:
                    skip -= height
                    continue
                skip = 0
                for start in range(0, height * columns, columns):
                    part = text[start : start + columns]
                    row_cells = part if cells is None else map(cells.__getitem__, part)
                    fresh.append(Row(zip(span, row_cells, strict=False)))
        old: list[Row | None] = []
        if scrolled <= keep:
            old = [self.buffer.get(y) for y in range(lines - 1)]
        rows = [*old, *fresh, None]
        if self._alternate is None:
            if self.scrollback.maxlen:
                self.scrollback.extend(Row() if row is None else row for row in rows[:-lines])
            self.scrollback_pushed += scrolled
        buffer = self.buffer
        buffer.clear()
        buffer.update((y, row) for y, row in enumerate(rows[-lines:]) if row is not None)
        last = next((text[-1] for text in reversed(texts) if text), None)
        if last is not None:
            self.last_char = last if isinstance(last, str) else last.data
        self._scrolled(scrolled)

    def repeat_last_character(self, count: int = 1, *_: int, **__: Any) -> None:
        """REP (`CSI n b`)."""
        if self.last_char:
            self.draw(self.last_char * min(max(count, 1), self.columns * self.lines))

    # -- scrolling ------------------------------------------------------------------------

    def _push_scrollback(self, line: Row | None) -> None:
        if self.scrollback.maxlen:
            self.scrollback.append(line if line is not None else self.buffer.default_factory())
        self.scrollback_pushed += 1

    def _scrolled(self, count: int) -> None:
        """Record that the whole screen moved up by `count` rows."""
        dirty = self.dirty
        lines = self.lines
        if len(dirty) < lines:
            moved = {y - count for y in dirty if y >= count}
            dirty.clear()
            dirty.update(moved)
        dirty.update(range(max(0, lines - count), lines))
        self.scroll_count += count

    def _scroll_region_up(self, count: int) -> None:
        top, bottom = self.margins or Margins(0, self.lines - 1)
        count = min(count, bottom - top + 1)
        full = top == 0 and bottom == self.lines - 1
        if full and self._alternate is None:
            for y in range(count):
                self._push_scrollback(self.buffer.get(y))
        buffer = self.buffer
        if count == 1:
            for y in range(top, bottom):
                buffer[y] = buffer[y + 1]
            buffer.pop(bottom, None)
        else:
            for y in range(top, top + count):
                buffer.pop(y, None)
            self._move_rows(buffer, top + count, bottom, -count)
        if full:
            self._scrolled(count)
        else:
            self.dirty.update(range(top, bottom + 1))

    def _scroll_region_down(self, count: int) -> None:
        top, bottom = self.margins or Margins(0, self.lines - 1)
        count = min(count, bottom - top + 1)
        for y in range(bottom - count + 1, bottom + 1):
            self.buffer.pop(y, None)
        self._move_rows(self.buffer, top, bottom - count, count)
        self.dirty.update(range(top, bottom + 1))

    def index(self) -> None:
        bottom = self.margins.bottom if self.margins else self.lines - 1
        if self.cursor.y == bottom:
            self._scroll_region_up(1)
        else:
            self.cursor.y = min(self.cursor.y + 1, bottom)

    def reverse_index(self) -> None:
        top = self.margins.top if self.margins else 0
        if self.cursor.y == top:
            self._scroll_region_down(1)
        else:
            self.cursor.y = max(self.cursor.y - 1, top)

    def next_line(self) -> None:
        """NEL (`ESC E`): carriage return and index (pyte maps it to a bare linefeed)."""
        self.carriage_return()
        self.index()

    def scroll_up(self, count: int = 1, *_: int, **__: Any) -> None:
        """SU (`CSI n S`): scroll the region up; the cursor stays."""
        self._scroll_region_up(max(count, 1))

    def scroll_down(self, count: int = 1, *_: int, **__: Any) -> None:
        """SD (`CSI n T`): scroll the region down; the cursor stays."""
        self._scroll_region_down(max(count, 1))

    def erase_in_display(self, how: int = 0, *_: int, **__: Any) -> None:
        if how == 3:  # xterm: erase the saved lines, not the screen
            self.scrollback.clear()
            self.generation += 1
        elif how in (0, 1, 2):
            # pyte's, with each row written at once: rows keep only the cells they had.
            cursor = self.cursor
            interval = range(cursor.y + 1, self.lines) if how == 0 else range(cursor.y)
            if how == 2:
                interval = range(self.lines)
            self.dirty.update(interval)
            attrs = cursor.attrs
            buffer = self.buffer
            for y in interval:
                line = buffer[y]
                line.update(dict.fromkeys(line, attrs))
            if how != 2:
                self.erase_in_line(how)

    def erase_in_line(self, how: int = 0, *_: int, **__: Any) -> None:
        cursor = self.cursor
        if how == 0:
            interval = range(cursor.x, self.columns)
        elif how == 1:
            interval = range(cursor.x + 1)
        elif how == 2:
            interval = range(self.columns)
        else:
            return
        self.dirty.add(cursor.y)
        self.buffer[cursor.y].update(self._blanks(interval, cursor.attrs))

    def _blanks(self, interval: range, attrs: Cell) -> dict[int, Cell]:
        """Cells `attrs` over `interval`, kept: full-screen programs erase the same spans."""
        key = (interval.start, interval.stop, attrs)
        blanks = self._erasures.get(key)
        if blanks is None:
            if len(self._erasures) > _CACHE_LIMIT:
                self._erasures.clear()
            blanks = self._erasures[key] = dict.fromkeys(interval, attrs)
        return blanks

    # -- modes and the alternate screen ---------------------------------------------------

    def set_mode(self, *modes_: int, private: bool = False, **_: Any) -> None:
        if private:
            modes_ = tuple(mode for mode in modes_ if mode != _COLUMN_MODE)
            for mode in modes_:
                shifted = _private(mode)
                if shifted in MOUSE_TRACKING:
                    self.mode.difference_update(MOUSE_TRACKING)
                elif shifted in MOUSE_ENCODINGS:
                    self.mode.difference_update(MOUSE_ENCODINGS)
        super().set_mode(*modes_, private=private)
        if private and 5 in modes_:
            self._sgr_cache.clear()  # SGR 0 now resets to reverse video
        if private:
            if 1049 in modes_:
                self._enter_alternate_screen(save_cursor=True)
            elif 1047 in modes_ or 47 in modes_:
                self._enter_alternate_screen(save_cursor=False)

    def reset_mode(self, *modes_: int, private: bool = False, **_: Any) -> None:
        if private:
            modes_ = tuple(mode for mode in modes_ if mode != _COLUMN_MODE)
        super().reset_mode(*modes_, private=private)
        if private and 5 in modes_:
            self._sgr_cache.clear()
        if private and any(mode in (47, 1047, 1049) for mode in modes_):
            self._leave_alternate_screen()
            self.mode.difference_update(ALTERNATE_SCREENS)

    def _enter_alternate_screen(self, *, save_cursor: bool) -> None:
        if self._alternate is not None:
            return
        self._alternate = _SavedMainScreen(
            buffer=self.buffer,
            margins=self.margins,
            cursor=copy.copy(self.cursor) if save_cursor else None,
        )
        factory = self.buffer.default_factory
        self.buffer = type(self.buffer)(factory)
        self._mark_all_dirty()

    def _leave_alternate_screen(self) -> None:
        saved = self._alternate
        if saved is None:
            return
        self._alternate = None
        self.buffer = saved.buffer
        self.margins = saved.margins
        if saved.cursor is not None:
            hidden = self.cursor.hidden
            self.cursor = saved.cursor
            self.cursor.hidden = hidden
        self.ensure_hbounds()
        self.ensure_vbounds()
        self._mark_all_dirty()

    def report_mode(self, mode: int = 0, *_: int, private: bool = False, **__: Any) -> None:
        """DECRQM (`CSI ? n $ p`): 1 set, 2 reset, 0 not recognised."""
        key = _private(mode) if private else mode
        known = _REPORTABLE_PRIVATE_MODES if private else _REPORTABLE_ANSI_MODES
        if private and mode in (47, 1047, 1049):
            state = 1 if self.in_alternate_screen else 2
        else:
            state = (1 if key in self.mode else 2) if mode in known else 0
        self.write_process_input(f"\x1b[{'?' if private else ''}{mode};{state}$y")

    def set_cursor_style(self, style: int = 0, *_: int, **__: Any) -> None:
        """DECSCUSR (`CSI n SP q`)."""
        self.cursor_shape = CURSOR_SHAPES.get(style, "block")

    # -- charsets -------------------------------------------------------------------------

    def define_charset(self, code: str, mode: str) -> None:
        super().define_charset(code, mode)
        self._update_translation()

    def shift_in(self) -> None:
        super().shift_in()
        self._update_translation()

    def shift_out(self) -> None:
        super().shift_out()
        self._update_translation()

    def _update_translation(self) -> None:
        active = self.g1_charset if self.charset else self.g0_charset
        self._translation = None if active is charsets.LAT1_MAP else active

    # -- attributes -----------------------------------------------------------------------

    def select_graphic_rendition(self, *attrs: int, private: bool = False, **_: Any) -> None:
        if private:
            return
        cursor = self.cursor
        if not attrs or attrs == (0,):
            cursor.attrs = self.default_char
            return
        key = (cursor.attrs, attrs)
        result = self._sgr_cache.get(key)
        if result is None:
            if len(self._sgr_cache) > _CACHE_LIMIT:
                self._sgr_cache.clear()
            result = self._sgr_cache[key] = self._apply_sgr(cursor.attrs, attrs)
        cursor.attrs = result

    def _apply_sgr(self, attrs: Cell, params: tuple[int, ...]) -> Cell:
        fields = list(attrs)
        pending = list(reversed(params))
        while pending:
            code = pending.pop()
            if code == 0:
                fields = list(self.default_char)
            elif code in _SGR_FLAGS:
                for index, value in _SGR_FLAGS[code]:
                    fields[index] = value
            elif 30 <= code <= 37 or code == 39:
                fields[_FG] = graphics.FG_ANSI[code]
            elif 40 <= code <= 47 or code == 49:
                fields[_BG] = graphics.BG_ANSI[code]
            elif 90 <= code <= 97:
                fields[_FG] = graphics.FG_AIXTERM[code]
            elif 100 <= code <= 107:
                fields[_BG] = graphics.BG_AIXTERM[code]
            elif code in (38, 48, 58):
                colour = _extended_colour(pending, _FG_16 if code == 38 else _BG_16)
                if colour is not None and code != 58:  # 58 (underline colour) is not drawn
                    fields[_FG if code == 38 else _BG] = colour
        result: Cell = _new_tuple(Cell, fields)
        return result

    # -- replies, bell, title -------------------------------------------------------------

    def write_process_input(self, data: str) -> None:
        if self.on_reply is not None:
            self.on_reply(data)

    def report_device_attributes(
        self, mode: int = 0, *_: int, private: bool = False, **__: Any
    ) -> None:
        """DA1 (`CSI c`): a VT220 with ANSI colour."""
        if mode == 0 and not private:
            self.write_process_input("\x1b[?62;22c")

    def report_secondary_device_attributes(self) -> None:
        """DA2 (`CSI > c`); pyte answers it with DA1."""
        self.write_process_input("\x1b[>1;10;0c")

    def report_device_status(
        self, mode: int = 0, *_: int, private: bool = False, **__: Any
    ) -> None:
        if mode == 5:
            self.write_process_input("\x1b[0n")
        elif mode == 6:
            x = min(self.cursor.x, self.columns - 1) + 1
            y = self.cursor.y + 1
            if ORIGIN in self.mode and self.margins is not None:
                y -= self.margins.top
            self.write_process_input(f"\x1b[{'?' if private else ''}{y};{x}R")

    def bell(self, *_: Any) -> None:
        if self.on_bell is not None:
            self.on_bell()

    def set_title(self, param: str) -> None:
        super().set_title(param)
        if self.on_title is not None:
            self.on_title(param)

    # -- cursor and editing handlers that tolerate extra parameters -----------------------

    def save_cursor_position(self, *_: int, **__: Any) -> None:
        """SCOSC (`CSI s`)."""
        self.save_cursor()

    def restore_cursor_position(self, *_: int, **__: Any) -> None:
        """SCORC (`CSI u`)."""
        self.restore_cursor()

    def tab_forward(self, count: int = 1, *_: int, **__: Any) -> None:
        """CHT (`CSI n I`)."""
        for _step in range(min(max(count, 1), self.columns)):
            self.tab()

    def tab_backward(self, count: int = 1, *_: int, **__: Any) -> None:
        """CBT (`CSI n Z`)."""
        for _step in range(min(max(count, 1), self.columns)):
            stops = [stop for stop in self.tabstops if stop < self.cursor.x]
            self.cursor.x = max(stops, default=0)

    def insert_characters(self, count: int | None = None, *_: int, **__: Any) -> None:
        super().insert_characters(count)
        self.buffer[self.cursor.y].pop(self.columns, None)  # pyte shifts one cell past the edge

    def delete_characters(self, count: int | None = None, *_: int, **__: Any) -> None:
        super().delete_characters(count)

    def erase_characters(self, count: int | None = None, *_: int, **__: Any) -> None:
        super().erase_characters(count)

    def insert_lines(self, count: int | None = None, *_: int, **__: Any) -> None:
        super().insert_lines(count)

    def delete_lines(self, count: int | None = None, *_: int, **__: Any) -> None:
        super().delete_lines(count)

    def cursor_up(self, count: int | None = None, *_: int, **__: Any) -> None:
        super().cursor_up(count)

    def cursor_down(self, count: int | None = None, *_: int, **__: Any) -> None:
        super().cursor_down(count)

    def cursor_forward(self, count: int | None = None, *_: int, **__: Any) -> None:
        super().cursor_forward(count)

    def cursor_back(self, count: int | None = None, *_: int, **__: Any) -> None:
        super().cursor_back(count)

    def cursor_up1(self, count: int | None = None, *_: int, **__: Any) -> None:
        super().cursor_up1(count)

    def cursor_down1(self, count: int | None = None, *_: int, **__: Any) -> None:
        super().cursor_down1(count)

    def cursor_to_column(self, column: int | None = None, *_: int, **__: Any) -> None:
        super().cursor_to_column(column)

    def cursor_to_line(self, line: int | None = None, *_: int, **__: Any) -> None:
        self.cursor.y = (line or 1) - 1
        if ORIGIN in self.mode and self.margins is not None:
            self.cursor.y += self.margins.top
        self.ensure_vbounds()

    def cursor_position(
        self, line: int | None = None, column: int | None = None, *_: int, **__: Any
    ) -> None:
        if self.margins is not None and ORIGIN in self.mode:
            super().cursor_position(line, column)
            return
        cursor = self.cursor  # pyte's, inlined: full-screen programs send one per row
        cursor.x = min(max(0, (column or 1) - 1), self.columns - 1)
        cursor.y = min(max(0, (line or 1) - 1), self.lines - 1)

    def clear_tab_stop(self, how: int = 0, *_: int, **__: Any) -> None:
        super().clear_tab_stop(how)

    def set_margins(
        self, top: int | None = None, bottom: int | None = None, *_: int, private: bool = False
    ) -> None:
        if not private:  # `CSI ? r` is XTRESTORE, not DECSTBM
            super().set_margins(top, bottom)


def _extended_colour(pending: list[int], basic: list[str]) -> str | None:
    """Consume `5;n` or `2;r;g;b` from `pending` (reversed parameters); return a pyte colour.

    Palette indices 0-15 stay colour names so the app theme applies, as for SGR 30-37/90-97.
    """
    if not pending:
        return None
    kind = pending.pop()
    if kind == 5:
        if not pending:
            return None
        index = pending.pop()
        if index < 16:
            return basic[index]
        return str(graphics.FG_BG_256[index]) if index < 256 else None
    if kind == 2:
        if len(pending) < 3:
            pending.clear()
            return None
        red, green, blue = (min(pending.pop(), 255) for _ in range(3))
        return f"{red:02x}{green:02x}{blue:02x}"
    return None
