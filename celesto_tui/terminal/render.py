"""Turn `TerminalScreen` rows into Textual `Strip`s.

Each live row keeps one styled `Strip` until the screen reports it dirty; a scroll of the whole
screen shifts the cache instead of invalidating it, so a linefeed at the bottom converts one
row, not all of them. Styles are cached per cell attribute tuple and already include the
widget's base style (Textual draws unstyled Line-API segments with the outer terminal's colours,
not the widget's). The cursor is not part of the cache: `overlay_cursor` draws it on top.

Wide characters: the screen gives them two cells, the second holding "". The strip shows the
glyph once, and pads or substitutes glyphs whose width Rich measures differently, so later
columns never shift. A cell's zero-width joiners, what they join and its variation selectors
are not sent to the outer terminal: it would join or widen the glyphs behind our back (a ZWJ
sequence shows as its first emoji). A skin-tone modifier has cells of its own (as in tmux and
for the programs' wcwidth) but no width for Rich, so it is drawn as what it is on its own: a
swatch of its colour, two cells wide.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache

from rich.cells import cell_len
from rich.color import Color
from rich.segment import Segment
from rich.style import Style
from textual.strip import Strip

from .screen import BLANK, Row, TerminalScreen, cell_width

_PYTE_COLOUR_NAMES = {
    "black": "black",
    "red": "red",
    "green": "green",
    "brown": "yellow",
    "blue": "blue",
    "magenta": "magenta",
    "cyan": "cyan",
    "white": "white",
    "brightblack": "bright_black",
    "brightred": "bright_red",
    "brightgreen": "bright_green",
    "brightbrown": "bright_yellow",
    "brightblue": "bright_blue",
    "brightmagenta": "bright_magenta",
    "bfightmagenta": "bright_magenta",  # sic: pyte 0.8.2's name for SGR 105
    "brightcyan": "bright_cyan",
    "brightwhite": "bright_white",
}
_ASCII = frozenset(chr(code) for code in range(0x20, 0x7F))
# Fitzpatrick types 1-2 to 6, in the colours emoji fonts give the modifiers on their own.
_SKIN_TONES = {
    "\U0001f3fb": Style(bgcolor="#f7dece"),
    "\U0001f3fc": Style(bgcolor="#f3d2a2"),
    "\U0001f3fd": Style(bgcolor="#d5ab88"),
    "\U0001f3fe": Style(bgcolor="#af7e57"),
    "\U0001f3ff": Style(bgcolor="#7c533e"),
}
_HISTORY_CACHE_LIMIT = 2048

AttributeKey = tuple[object, ...]
"""A cell without its character: (fg, bg, bold, italics, underscore, strike, reverse, ...)."""


@lru_cache(maxsize=1024)
def pyte_colour(name: str) -> Color | None:
    """A Rich colour for a pyte colour name or hex string; None for the default colour."""
    if name == "default":
        return None
    standard = _PYTE_COLOUR_NAMES.get(name)
    if standard is not None:
        return Color.parse(standard)
    try:
        return Color.from_rgb(int(name[0:2], 16), int(name[2:4], 16), int(name[4:6], 16))
    except ValueError:
        return None


def cell_style(key: AttributeKey) -> Style:
    """The Rich style of a cell's attributes (`Cell[1:]`)."""
    fg, bg, bold, italics, underscore, strike, reverse, blink, dim, conceal = key
    return Style(
        color=pyte_colour(str(fg)),
        bgcolor=pyte_colour(str(bg)),
        bold=bool(bold) or None,
        dim=bool(dim) or None,
        italic=bool(italics) or None,
        underline=bool(underscore) or None,
        strike=bool(strike) or None,
        reverse=bool(reverse) or None,
        blink=bool(blink) or None,
        conceal=bool(conceal) or None,
    )


@lru_cache(maxsize=4096)
def glyph(data: str) -> tuple[str, int]:
    """What to print for a cell's text, and how many columns pyte gave it.

    The text always measures exactly that many cells for Rich.
    """
    width = 2 if cell_width(data[0]) == 2 else 1
    text = data[0] + "".join(char for char in data[1:] if unicodedata.combining(char))
    measured = cell_len(text)
    if measured == width:
        return text, width
    if 0 < measured < width:
        return text + " " * (width - measured), width
    return "\ufffd" + " " * (width - 1), width


def overlay_cursor(strip: Strip, x: int, width: int, shape: str) -> Strip:
    """Draw a cursor over cells `x .. x + width - 1` of a strip.

    "block" reverses the cells (un-reversing reversed ones, as xterm does); "underline" and
    "bar" underline them.
    """
    if not 0 <= x < strip.cell_length:
        return strip
    left, middle, right = strip.divide([x, x + width, strip.cell_length])
    segments = []
    for text, style, control in middle:
        style = style or Style()
        if shape == "block":
            style = style + Style(reverse=not style.reverse)
        else:
            style = style + Style(underline=True)
        segments.append(Segment(text, style, control))
    return Strip.join([left, Strip(segments, middle.cell_length), right])


def overlay_selection(strip: Strip, first: int, last: int, style: Style) -> Strip:
    """Draw cells `first .. last - 1` of a strip in the selection's style."""
    last = min(last, strip.cell_length)
    if not 0 <= first < last:
        return strip
    left, middle, right = strip.divide([first, last, strip.cell_length])
    segments = [Segment(text, (old or Style()) + style, control) for text, old, control in middle]
    return Strip.join([left, Strip(segments, middle.cell_length), right])


class TerminalRenderer:
    """Cached `Strip`s for the rows of a `TerminalScreen` and its scrollback."""

    def __init__(self, screen: TerminalScreen) -> None:
        self.screen = screen
        self.rows_rendered = 0
        """How many rows were converted to strips so far (for tests and benchmarks)."""
        self._base = Style()
        self._styles: dict[AttributeKey, Style] = {}
        self._rows: list[Strip | None] = []
        self._history: dict[int, Strip] = {}
        self._generation = -1
        self._scrolls = 0

    def set_base_style(self, style: Style) -> None:
        """Use `style` (the widget's colours) under every cell; redraw if it changed."""
        if style != self._base:
            self._base = style
            self._styles.clear()
            self.invalidate()

    def invalidate(self) -> None:
        """Forget every cached strip."""
        self._rows = [None] * self.screen.lines
        self._history.clear()

    @property
    def out_of_date(self) -> bool:
        """Whether the screen changed wholesale or scrolled since the last `sync`."""
        screen = self.screen
        return screen.generation != self._generation or screen.scroll_count != self._scrolls

    def sync(self) -> set[int] | None:
        """Take the screen's changes since the last call.

        Returns the live rows whose content changed, or None when every row did (a resize, a
        switch of screens, a scroll). Clears `screen.dirty`.
        """
        screen = self.screen
        dirty = screen.dirty
        if screen.generation != self._generation or len(self._rows) != screen.lines:
            self._generation = screen.generation
            self._scrolls = screen.scroll_count
            self.invalidate()
            dirty.clear()
            return None
        rows = self._rows
        changed: set[int] | None = set()
        shift = screen.scroll_count - self._scrolls
        if shift:
            self._scrolls = screen.scroll_count
            shift = min(shift, len(rows))
            rows = self._rows = rows[shift:] + [None] * shift
            changed = None
        for y in dirty:
            if 0 <= y < len(rows):
                rows[y] = None
        if changed is not None:
            changed.update(y for y in dirty if 0 <= y < len(rows))
        dirty.clear()
        return changed

    def row(self, y: int) -> Strip:
        """The strip of live row `y` (call `sync` first so the cache matches the screen)."""
        strip = self._rows[y]
        if strip is None:
            strip = self._rows[y] = self.convert(self.screen.buffer.get(y))
        return strip

    def history_row(self, index: int) -> Strip:
        """The strip of scrollback row `index` (0 is the oldest kept)."""
        screen = self.screen
        key = screen.scrollback_pushed - len(screen.scrollback) + index
        strip = self._history.get(key)
        if strip is None:
            if len(self._history) > _HISTORY_CACHE_LIMIT:
                self._history.clear()
            strip = self._history[key] = self.convert(screen.scrollback[index])
        return strip

    def _style(self, key: AttributeKey) -> Style:
        style = self._styles.get(key)
        if style is None:
            style = self._styles[key] = self._base + cell_style(key)
        return style

    def convert(self, row: Row | None) -> Strip:
        """Render one row as a strip exactly `screen.columns` cells wide."""
        self.rows_rendered += 1
        columns = self.screen.columns
        if not row:
            default = BLANK if row is None else row.default
            return Strip([Segment(" " * columns, self._style(default[1:]))], columns)
        style = self._style
        segments: list[Segment] = []
        texts: list[str] = []
        run_key: AttributeKey | None = None
        default_key = row.default[1:]
        x = 0  # the next column to fill
        for column, cell in sorted(row.items()):
            if column >= columns:
                break
            if column < x:
                continue  # the right half of a wide character drawn already
            if column > x:
                if run_key != default_key:
                    if texts:
                        segments.append(Segment("".join(texts), style(run_key or default_key)))
                        texts = []
                    run_key = default_key
                texts.append(" " * (column - x))
                x = column
            key = cell[1:]
            if key != run_key:
                if texts:
                    segments.append(Segment("".join(texts), style(run_key or default_key)))
                    texts = []
                run_key = key
            data = cell[0]
            if data in _ASCII:
                texts.append(data)
                x += 1
                continue
            text, width = glyph(data) if data else (" ", 1)  # "" alone: an orphaned half
            if width == 2:
                right = row.get(column + 1)
                if column + 1 >= columns or right is None or right[0] != "":
                    text, width = " ", 1  # no room, or the right half was overwritten
                elif (swatch := _SKIN_TONES.get(data[0])) is not None:
                    if texts:
                        segments.append(Segment("".join(texts), style(key)))
                        texts = []
                    segments.append(Segment("  ", style(key) + swatch))
                    x += 2
                    continue
            texts.append(text)
            x += width
        if x < columns:
            if run_key != default_key:
                if texts:
                    segments.append(Segment("".join(texts), style(run_key or default_key)))
                    texts = []
                run_key = default_key
            texts.append(" " * (columns - x))
        if texts:
            segments.append(Segment("".join(texts), style(run_key or default_key)))
        return Strip(segments, columns)
