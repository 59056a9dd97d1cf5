"""Selections over the screen and its scrollback: spans, text, words."""

from __future__ import annotations

from collections.abc import Callable

from celesto_tui.terminal.selection import (
    Selection,
    line_at,
    selected_text,
    top_row,
    word_at,
)
from tests.terminal.conftest import Term

MakeTerm = Callable[..., Term]


def test_a_selection_is_the_same_whichever_way_it_was_dragged() -> None:
    forward = Selection((3, 5), (4, 2), 0)
    backward = Selection((4, 2), (3, 5), 0)
    for selection in (forward, backward):
        assert selection.span(2, 10) is None
        assert selection.span(3, 10) == (5, 10)
        assert selection.span(4, 10) == (0, 3)
        assert selection.span(5, 10) is None


def test_text_across_the_scrollback_and_the_screen(make_term: MakeTerm) -> None:
    t = make_term(12, 2).feed("first\r\nsecond\r\nthird")
    screen = t.screen
    assert t.history == ["first"]
    top = top_row(screen, history_offset=1)  # scrolled back one row: "first" on top
    selection = Selection((top, 2), (top + 2, 2), screen.generation)
    assert selected_text(screen, selection) == "rst\nsecond\nthi"


def test_rows_gone_from_the_scrollback_are_left_out(make_term: MakeTerm) -> None:
    t = make_term(10, 2, scrollback=1).feed("a\r\nb\r\nc\r\nd")
    screen = t.screen
    assert t.history == ["b"]
    assert selected_text(screen, Selection((0, 0), (3, 9), screen.generation)) == "b\nc\nd"


def test_wide_characters_are_taken_whole(make_term: MakeTerm) -> None:
    t = make_term(10, 1).feed("ab中文cd")
    row = top_row(t.screen, 0)
    assert selected_text(t.screen, Selection((row, 3), (row, 4), 0)) == "中文"  # 3: 中's right half


def test_words_and_lines(make_term: MakeTerm) -> None:
    t = make_term(40, 1).feed("$ git log -- 'src/app.py' 中文字")
    screen, row = t.screen, top_row(t.screen, 0)
    words = {x: word_at(screen, (row, x), 0) for x in (0, 3, 15, 28, 30)}
    assert {x: w and selected_text(screen, w) for x, w in words.items()} == {
        0: "$",
        3: "git",
        15: "src/app.py",
        28: "中文字",
        30: "中文字",
    }
    assert word_at(screen, (row, 1), 0) is None  # a blank
    assert selected_text(screen, line_at(screen, (row, 7), 0)) == "$ git log -- 'src/app.py' 中文字"
