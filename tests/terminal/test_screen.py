"""TerminalScreen + TerminalStream behaviour: what pyte gets wrong, done right."""

from __future__ import annotations

import unicodedata
from collections.abc import Callable

import pytest

from tests.terminal.conftest import Term

MakeTerm = Callable[..., Term]


@pytest.mark.parametrize("mode", ["1049", "1047", "47"])
def test_alternate_screen_leaves_the_shell_screen_intact(make_term: MakeTerm, mode: str) -> None:
    t = make_term(20, 5).feed("BEFORE-VIM\r\n$ vim")
    t.feed(f"\x1b[?{mode}h\x1b[H\x1b[2J~ vim screen\x1b[5;1H-- INSERT --")
    assert t.rows[0] == "~ vim screen"
    assert t.screen.in_alternate_screen
    t.feed(f"\x1b[?{mode}l")
    assert t.rows[:2] == ["BEFORE-VIM", "$ vim"]
    assert not t.screen.in_alternate_screen


def test_1049_restores_the_cursor_and_alternate_scrolling_is_not_history(
    make_term: MakeTerm,
) -> None:
    t = make_term(20, 3).feed("zero\r\none\r\ntwo\r\n$ ")
    assert t.history == ["zero"]
    t.feed("\x1b[?1049h" + "".join(f"pager line {n}\r\n" for n in range(10)))
    assert t.rows[0] == "pager line 8"
    t.feed("\x1b[?1049l")
    assert t.rows == ["one", "two", "$"]
    assert t.cursor == (2, 2)
    assert t.history == ["zero"]  # nothing the pager scrolled went into the scrollback


def test_scrollback_keeps_rows_scrolled_off_the_top_in_order(make_term: MakeTerm) -> None:
    t = make_term(10, 3, scrollback=4).feed("".join(f"{n}\r\n" for n in range(1, 11)))
    assert t.rows == ["9", "10", ""]
    assert t.history == ["5", "6", "7", "8"]  # bounded to the last 4
    assert t.screen.scrollback_pushed == 8


def test_scrolling_inside_margins_does_not_feed_the_scrollback(make_term: MakeTerm) -> None:
    t = make_term(10, 5).feed("top\x1b[2;4r\x1b[4;1H" + "x\r\n" * 6)
    assert t.history == []
    assert t.rows[0] == "top"


def test_scroll_up_and_down(make_term: MakeTerm) -> None:
    t = make_term(10, 4).feed("a\r\nb\r\nc\r\nd\x1b[2;2H")
    t.feed("\x1b[2S")
    assert t.rows == ["c", "d", "", ""]
    assert t.cursor == (1, 1)  # SU does not move the cursor
    assert t.history == ["a", "b"]
    t.feed("\x1b[T")
    assert t.rows == ["", "c", "d", ""]


def test_rep_repeats_the_last_character(make_term: MakeTerm) -> None:
    assert make_term(10, 2).feed("ab\x1b[3b").rows[0] == "abbbb"
    assert make_term(10, 2).feed("─\x1b[4b|").rows[0] == "─────|"


def test_replies_to_cursor_position_and_device_queries(make_term: MakeTerm) -> None:
    t = make_term(20, 5).feed("\x1b[3;5H\x1b[6n\x1b[5n\x1b[c\x1b[>c\x1b[?2004$p")
    assert t.replies == [
        "\x1b[3;5R",
        "\x1b[0n",
        "\x1b[?62;22c",
        "\x1b[>1;10;0c",
        "\x1b[?2004;2$y",
    ]
    t.replies.clear()
    t.feed("\x1b[?2004h\x1b[?2004$p\x1b[?1049h\x1b[?1049$p\x1b[?7777$p")
    assert t.replies == ["\x1b[?2004;1$y", "\x1b[?1049;1$y", "\x1b[?7777;0$y"]


def test_cursor_position_report_at_the_right_margin(make_term: MakeTerm) -> None:
    t = make_term(5, 2).feed("abcde\x1b[6n")  # pending wrap: xterm reports the last column
    assert t.replies == ["\x1b[1;5R"]


def test_wide_characters_take_two_cells(make_term: MakeTerm) -> None:
    t = make_term(10, 2).feed("中文x")
    row = t.screen.buffer[0]
    assert [row[x].data for x in range(5)] == ["中", "", "文", "", "x"]
    assert t.cursor == (5, 0)


def test_a_wide_character_that_does_not_fit_wraps(make_term: MakeTerm) -> None:
    t = make_term(5, 2).feed("abcd中")
    assert t.rows == ["abcd", "中"]
    assert t.cursor == (2, 1)


def test_variation_selector_and_zero_width_joiner_keep_the_rest_of_the_text(
    make_term: MakeTerm,
) -> None:
    t = make_term(30, 2).feed("I \u2764\ufe0f you")
    assert t.rows[0] == "I \u2764\ufe0f you"
    assert t.cursor == (7, 0)
    family = "\U0001f468\u200d\U0001f469\u200d\U0001f467"
    t = make_term(30, 2).feed(family + "!")
    assert t.cursor == (3, 0)  # one cell as wide as its first emoji, as in tmux
    assert [t.screen.buffer[0][x].data for x in range(3)] == [family, "", "!"]


def test_the_character_after_a_joiner_joins_the_cell_whatever_its_width(
    make_term: MakeTerm,
) -> None:
    t = make_term(20, 2).feed("\u2764\ufe0f\u200d\U0001f525|a\u200d\U0001f4bb|")
    row = t.screen.buffer[0]
    assert [row[x].data for x in range(4)] == [
        "\u2764\ufe0f\u200d\U0001f525",
        "|",
        "a\u200d\U0001f4bb",
        "|",
    ]
    assert t.cursor == (4, 0)


def test_a_joiner_before_ascii_is_dropped_and_the_text_drawn(make_term: MakeTerm) -> None:
    t = make_term(20, 2).feed("a\u200dz\u200d\u200d\U0001f4bb")
    row = t.screen.buffer[0]
    assert [row[x].data for x in range(2)] == ["a", "z\u200d\U0001f4bb"]
    assert t.cursor == (2, 0)


def test_a_joiner_split_from_its_emoji_by_a_colour_change_still_joins(make_term: MakeTerm) -> None:
    t = make_term(20, 2).feed("\U0001f469\u200d").feed("\x1b[31m").feed("\U0001f4bb!")
    assert t.screen.buffer[0][0].data == "\U0001f469\u200d\U0001f4bb"
    assert t.cursor == (3, 0)


def test_a_joiner_is_forgotten_once_the_cursor_moves(make_term: MakeTerm) -> None:
    t = make_term(20, 2).feed("\U0001f469\u200d\r\n\U0001f4bb")
    assert t.screen.buffer[0][0].data == "\U0001f469"
    assert t.screen.buffer[1][0].data == "\U0001f4bb"


def test_skin_tone_modifiers_and_regional_indicators_are_measured_as_programs_do(
    make_term: MakeTerm,
) -> None:
    t = make_term(20, 2).feed("\U0001f44d\U0001f3fd|\U0001f1eb\U0001f1f7|\U0001f1ea|")
    row = t.screen.buffer[0]
    assert [row[x].data for x in range(10)] == [
        *("\U0001f44d", "", "\U0001f3fd", "", "|"),  # glibc's wcwidth: 2 + 2
        *("\U0001f1eb", "\U0001f1f7", "|"),  # 1 + 1: a flag takes two columns
        *("\U0001f1ea", "|"),
    ]


def test_zero_width_characters_in_the_first_column_are_dropped(make_term: MakeTerm) -> None:
    t = make_term(10, 3).feed("ab\r\n\u0301x\r\n\u200d\U0001f4bby")
    assert t.rows == ["ab", "x", "y"]
    assert t.screen.buffer[0][1].data == "b"


def test_a_cell_keeps_at_most_21_bytes_like_tmux(make_term: MakeTerm) -> None:
    family = "\U0001f468\u200d\U0001f469\u200d\U0001f467\u200d\U0001f466"
    t = make_term(10, 2).feed(family + "!")
    assert t.screen.buffer[0][0].data == family[:-1]  # 21 bytes; the last emoji is dropped
    assert t.screen.buffer[0][2].data == "!"
    marks = "".join(chr(0x300 + n) for n in range(1, 13))  # 2 bytes each
    t = make_term(10, 2).feed("e" + marks + "!")
    assert t.screen.buffer[0][0].data == unicodedata.normalize("NFC", "e" + marks[:10])
    assert t.screen.buffer[0][1].data == "!"


def test_combining_mark_after_a_wide_character_joins_it(make_term: MakeTerm) -> None:
    t = make_term(10, 2).feed("中\u0301x")
    assert t.screen.buffer[0][0].data == "中\u0301"
    assert t.screen.buffer[0][1].data == ""
    assert t.screen.buffer[0][2].data == "x"


def test_shrinking_keeps_the_prompt(make_term: MakeTerm) -> None:
    t = make_term(20, 8).feed("$ ls\r\nfoo  bar\r\n$ ")
    t.screen.resize(lines=3)
    assert t.rows == ["$ ls", "foo  bar", "$"]
    assert t.cursor == (2, 2)
    assert t.history == []


def test_shrinking_a_full_screen_moves_the_top_into_the_scrollback(make_term: MakeTerm) -> None:
    t = make_term(20, 5).feed("one\r\ntwo\r\nthree\r\nfour\r\n$ ")
    t.screen.resize(lines=2, columns=10)
    assert t.rows == ["four", "$"]
    assert t.history == ["one", "two", "three"]
    assert t.cursor == (2, 1)
    t.screen.resize(lines=4)  # growing brings them back, like xterm
    assert t.rows == ["two", "three", "four", "$"]
    assert t.history == ["one"]
    assert t.cursor == (2, 3)


def test_resize_clamps_the_cursor_and_tab_stops(make_term: MakeTerm) -> None:
    t = make_term(40, 10).feed("\x1b[10;40H")
    t.screen.resize(lines=4, columns=12)
    assert 0 <= t.screen.cursor.y < 4
    assert t.screen.cursor.x <= 12
    assert max(t.screen.tabstops) < 12
    t.feed("\r\t\t\tX")
    assert "X" in t.rows[t.screen.cursor.y]


@pytest.mark.parametrize(
    "sequence",
    [
        "\x1b[?4m",  # vim 9 XTQMODKEYS: pyte raises and drops the rest of the chunk
        "\x1b[>4;2m",  # XTMODKEYS: pyte turns underline on
        "\x1b[=5u",  # kitty keyboard: pyte prints "5u"
        "\x1b[<u",
        "\x1b[>1u",
        "\x1bP$qm\x1b\\",  # DECRQSS: pyte prints the payload
        "\x1bP+q544e\x1b\\",  # XTGETTCAP
        "\x1b_Gf=24;AAAA\x1b\\",  # kitty graphics (APC)
        "\x1b[!p",  # DECSTR: pyte prints "p"
        "\x1b[?r",  # w3m's XTRESTORE: pyte raises
        "\x1b[6;2;3G",  # extra parameters (column 6 is where the cursor is)
        "\x1b[22;0;0t",  # XTWINOPS title stack
        "\x1b[2 q",  # DECSCUSR
        "\x1b]133;A\x07",  # prompt marks
        "\x1b]10;?\x1b\\",
        "\x1b[99999999999999999999A",
        "\x1b[;;;;;;;;;;;;;;;m",
        "\x1b[38;5m\x1b[38;2;1m\x1b[48;5;999m",
    ],
)
def test_unsupported_sequences_leave_no_garbage_and_lose_nothing(
    make_term: MakeTerm, sequence: str
) -> None:
    t = make_term(30, 3).feed("left " + sequence + "right")
    assert t.rows[0] == "left right"
    assert not any(cell.underscore for cell in t.screen.buffer[0].values())


def test_sequences_split_across_chunks(make_term: MakeTerm) -> None:
    data = "\x1b[31mred\x1b[0m \x1bP$qm\x1b\\ok \x1b]2;title\x07中 \x1b[?1049h\x1b[?1049l!"
    whole = make_term(30, 3).feed(data)
    pieces = make_term(30, 3)
    for byte in data.encode():
        pieces.feed(bytes([byte]))
    assert pieces.rows == whole.rows == ["red ok 中 !", "", ""]
    assert pieces.screen.buffer[0][0].fg == "red"
    assert pieces.titles == ["title"]


def test_colon_sub_parameters(make_term: MakeTerm) -> None:
    t = make_term(20, 2).feed("\x1b[4:3mU\x1b[4:0m\x1b[38:2::255:0:0mR\x1b[38:5:196mP\x1b[58:5:1mN")
    row = t.screen.buffer[0]
    assert row[0].underscore and not row[1].underscore
    assert row[1].fg == "ff0000"
    assert row[2].fg == "ff0000"  # palette 196
    assert row[3].data == "N" and not row[3].dim  # underline colour is consumed, not applied


def test_sgr_extras(make_term: MakeTerm) -> None:
    t = make_term(20, 2).feed("\x1b[2mD\x1b[22;8mC\x1b[28;38;5;1mR\x1b[48;5;9mB\x1b[105mM")
    row = t.screen.buffer[0]
    assert row[0].dim and not row[1].dim and row[1].conceal
    assert row[2].fg == "red"  # palette 0-15 stay names, so the theme applies
    assert row[3].bg == "brightred"
    assert row[4].bg == "bfightmagenta"  # pyte's own name for SGR 105


def test_mode_tracking(make_term: MakeTerm) -> None:
    t = make_term(10, 2)
    s = t.screen
    assert not s.application_cursor and not s.bracketed_paste and s.mouse_tracking == 0
    t.feed("\x1b[?1h\x1b[?2004h\x1b[?1004h\x1b[?1000h\x1b[?1006h\x1b[?2026h\x1b[?1007h")
    assert s.application_cursor and s.bracketed_paste and s.focus_reporting
    assert s.synchronized_output and s.alternate_scroll
    assert (s.mouse_tracking, s.mouse_encoding) == (1000, "sgr")
    t.feed("\x1b[?1002h")
    assert s.mouse_tracking == 1002  # xterm: the new mode replaces the old one
    t.feed("\x1b[?1002l\x1b[?1015h")
    assert (s.mouse_tracking, s.mouse_encoding) == (0, "urxvt")
    t.feed("\x1b[?25l")
    assert not s.cursor_visible


def test_column_mode_does_not_resize(make_term: MakeTerm) -> None:
    t = make_term(20, 3).feed("\x1b[?3h")
    assert t.screen.columns == 20


def test_bell_and_title(make_term: MakeTerm) -> None:
    t = make_term(10, 2).feed("\x07\x1b]0;one\x07\x1b]2;two\x1b\\\x1b]1;icon\x07")
    assert t.bells == 1
    assert t.titles == ["one", "two"]
    assert t.screen.title == "two"


def test_erase_saved_lines_clears_only_the_scrollback(make_term: MakeTerm) -> None:
    t = make_term(10, 2).feed("a\r\nb\r\nc")
    assert t.history == ["a"]
    t.feed("\x1b[3J")
    assert t.history == []
    assert t.rows == ["b", "c"]


def test_save_and_restore_cursor_forms(make_term: MakeTerm) -> None:
    t = make_term(20, 4).feed("\x1b[2;3H\x1b[s\x1b[4;1Hx\x1b[uy")
    assert t.rows[1] == "  y"
    t.feed("\x1b[1;1H\x1b7\x1b[3;3H\x1b8z")
    assert t.rows[0] == "z"


def test_line_drawing_charset(make_term: MakeTerm) -> None:
    assert make_term(10, 2).feed("\x1b(0lqqk\x1b(B ok").rows[0] == "┌──┐ ok"


def test_next_line_returns_the_carriage(make_term: MakeTerm) -> None:
    assert make_term(10, 3).feed("ab\x1bEcd").rows[:2] == ["ab", "cd"]


def test_tab_forward_and_back(make_term: MakeTerm) -> None:
    t = make_term(30, 2).feed("\x1b[2Ix\x1b[2Zy")
    assert t.screen.buffer[0][16].data == "x"
    assert t.screen.buffer[0][8].data == "y"


def test_dirty_rows_are_precise_and_scrolls_are_counted(make_term: MakeTerm) -> None:
    t = make_term(10, 4).feed("a\r\nb\r\nc\r\nd")
    t.screen.dirty.clear()
    t.feed("x")
    assert t.screen.dirty == {3}
    scrolls = t.screen.scroll_count
    t.feed("\r\n")
    assert t.screen.scroll_count == scrolls + 1
    assert t.screen.dirty == {2, 3}  # the edited row moved up; the new bottom row is blank


def test_reverse_index_at_the_top_scrolls_down(make_term: MakeTerm) -> None:
    t = make_term(10, 3).feed("a\r\nb\r\nc\x1b[H\x1bM")
    assert t.rows == ["", "a", "b"]


def test_soft_reset(make_term: MakeTerm) -> None:
    t = make_term(10, 3).feed("\x1b[?1h\x1b[4h\x1b[2;3r\x1b[1m\x1b[!px")
    assert not t.screen.application_cursor
    assert t.screen.margins is None
    assert not t.screen.buffer[t.screen.cursor.y][t.screen.cursor.x - 1].bold
