"""Rows to strips: colours, attributes, wide characters, cursor, and caching."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from rich.cells import cell_len
from rich.color import Color
from rich.style import Style
from textual.strip import Strip

from celesto_tui.terminal.render import overlay_cursor
from tests.terminal.conftest import Term

MakeTerm = Callable[..., Term]


def _style_at(strip: Strip, column: int) -> Style:
    position = 0
    for segment in strip:
        width = cell_len(segment.text)
        if position <= column < position + width:
            return segment.style or Style()
        position += width
    raise IndexError(column)


def _rendered(t: Term, y: int = 0) -> Strip:
    t.renderer.sync()
    return t.renderer.row(y)


@pytest.mark.parametrize(
    ("sgr", "attribute", "expected"),
    [
        ("31", "color", Color.parse("red")),
        ("93", "color", Color.parse("bright_yellow")),
        ("38;5;1", "color", Color.parse("red")),
        ("38;5;196", "color", Color.from_rgb(255, 0, 0)),
        ("38;2;1;2;3", "color", Color.from_rgb(1, 2, 3)),
        ("44", "bgcolor", Color.parse("blue")),
        ("105", "bgcolor", Color.parse("bright_magenta")),
        ("48;2;10;20;30", "bgcolor", Color.from_rgb(10, 20, 30)),
        ("1", "bold", True),
        ("2", "dim", True),
        ("3", "italic", True),
        ("4", "underline", True),
        ("7", "reverse", True),
        ("9", "strike", True),
    ],
)
def test_colours_and_attributes(
    make_term: MakeTerm, sgr: str, attribute: str, expected: object
) -> None:
    strip = _rendered(make_term(10, 2).feed(f"\x1b[{sgr}mX\x1b[0mY"))
    assert getattr(_style_at(strip, 0), attribute) == expected
    plain = _style_at(strip, 1)
    assert not plain.bold and plain.color is None and plain.bgcolor is None


def test_base_style_sits_under_every_cell(make_term: MakeTerm) -> None:
    t = make_term(6, 1).feed("\x1b[31mR\x1b[0m")
    base = Style(color="white", bgcolor="black")
    t.renderer.set_base_style(base)
    strip = _rendered(t)
    assert _style_at(strip, 0).color == Color.parse("red")
    assert _style_at(strip, 0).bgcolor == Color.parse("black")
    assert _style_at(strip, 3) == base


@pytest.mark.parametrize(
    "text",
    [
        "中文 abc",
        "I \u2764\ufe0f you",
        "\U0001f468\u200d\U0001f469\u200d\U0001f467 family",
        "\U0001f44d\U0001f3fd thumbs",
        "\U0001f1fa\U0001f1f8 flag",
        "e\u0301 combining",
        "abcdefghi中",  # the wide character wraps instead of being cut
    ],
)
def test_every_row_is_exactly_as_wide_as_the_screen(make_term: MakeTerm, text: str) -> None:
    t = make_term(10, 3).feed(text)
    for y in range(3):
        strip = _rendered(t, y)
        assert strip.cell_length == 10
        assert sum(cell_len(segment.text) for segment in strip) == 10


def test_wide_character_is_drawn_once(make_term: MakeTerm) -> None:
    assert _rendered(make_term(6, 1).feed("中x")).text == "中x   "


def test_overwritten_half_of_a_wide_character_becomes_blank(make_term: MakeTerm) -> None:
    t = make_term(6, 1).feed("中文\x1b[2Gx")  # overwrite the right half of 中
    strip = _rendered(t)
    assert strip.text == " x文  "
    assert strip.cell_length == 6


def test_joiners_and_variation_selectors_are_not_sent_to_the_outer_terminal(
    make_term: MakeTerm,
) -> None:
    text = _rendered(make_term(12, 1).feed("\u2764\ufe0f\U0001f468\u200d\U0001f469|")).text
    assert text.rstrip() == "\u2764\U0001f468|"  # a ZWJ sequence shows as its first emoji


def test_a_skin_tone_modifier_is_drawn_as_a_swatch_of_its_colour(make_term: MakeTerm) -> None:
    strip = _rendered(make_term(8, 1).feed("\U0001f44d\U0001f3fd|"))
    assert strip.text == "\U0001f44d  |   "  # the modifier keeps its own two cells
    assert strip.cell_length == 8
    assert _style_at(strip, 2).bgcolor == _style_at(strip, 3).bgcolor == Color.parse("#d5ab88")
    assert _style_at(strip, 4).bgcolor is None


def test_only_dirty_rows_are_rendered_again(make_term: MakeTerm) -> None:
    t = make_term(20, 6).feed("one\r\ntwo\r\nthree\r\n$ ")
    renderer = t.renderer
    assert renderer.sync() is None  # first sync: everything
    for y in range(6):
        renderer.row(y)
    assert renderer.rows_rendered == 6

    t.feed("l")
    assert renderer.sync() == {3}
    for y in range(6):
        renderer.row(y)
    assert renderer.rows_rendered == 7

    assert renderer.sync() == set()
    for y in range(6):
        renderer.row(y)
    assert renderer.rows_rendered == 7  # nothing changed: nothing rendered


def test_a_scroll_renders_only_the_new_row(make_term: MakeTerm) -> None:
    t = make_term(20, 4).feed("a\r\nb\r\nc\r\nd")
    renderer = t.renderer
    renderer.sync()
    for y in range(4):
        renderer.row(y)
    before = renderer.rows_rendered
    t.feed("\r\ne")  # scrolls the whole screen by one row
    assert renderer.sync() is None  # every visible row moved, so Textual repaints them all
    rows = [renderer.row(y).text.rstrip() for y in range(4)]
    assert rows == ["b", "c", "d", "e"]
    assert renderer.rows_rendered == before + 1  # but only the new bottom row was converted


def test_block_cursor_reverses_and_underline_cursor_underlines(make_term: MakeTerm) -> None:
    t = make_term(6, 1).feed("ab\x1b[7mc")
    strip = _rendered(t)
    block = overlay_cursor(strip, 0, 1, "block")
    assert _style_at(block, 0).reverse
    assert not _style_at(block, 1).reverse
    assert _style_at(overlay_cursor(strip, 2, 1, "block"), 2).reverse is False
    assert _style_at(overlay_cursor(strip, 1, 1, "underline"), 1).underline
    assert overlay_cursor(strip, 0, 1, "block").cell_length == 6


def test_scrollback_rows_render_at_the_current_width(make_term: MakeTerm) -> None:
    t = make_term(30, 2).feed("a wide line of thirty columns!\r\nb\r\nc")
    t.screen.resize(columns=10)
    t.renderer.sync()
    history = t.renderer.history_row(0)
    assert history.cell_length == 10
    assert history.text == "a wide lin"
