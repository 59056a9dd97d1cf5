"""The fast stream gives the same screen as plain pyte, and as itself fed byte by byte.

1. Against `pyte.Screen` + `pyte.ByteStream`, on output pyte handles correctly: text, C0
   controls, cursor movement, erasing, insert/delete, scroll regions and SGR (excluding what
   the notes list as pyte bugs, e.g. palette colours 0-15 via 38;5, ED 3, NEL, wide characters).
2. Against our own stream fed one byte at a time, which never takes the fast paths (no text
   runs, no batched lines), on everything, Unicode included.
"""

from __future__ import annotations

import itertools

import pyte
from hypothesis import given, settings
from hypothesis import strategies as st

from celesto_tui.widgets.terminal.screen import TerminalScreen
from celesto_tui.widgets.terminal.stream import TerminalStream

_numbers = st.integers(min_value=0, max_value=12).map(str)
_sgr_codes = st.sampled_from(
    [0, 1, 3, 4, 5, 7, 9, 22, 23, 24, 25, 27, 29, *range(30, 38), 39, *range(40, 48), 49]
).map(str) | st.sampled_from([*range(90, 98), *range(100, 108)]).map(str)
_extended_colours = st.one_of(
    st.builds(lambda ground, n: f"{ground};5;{n}", st.sampled_from([38, 48]), st.integers(16, 255)),
    st.builds(
        lambda ground, r, g, b: f"{ground};2;{r};{g};{b}",
        st.sampled_from([38, 48]),
        st.integers(0, 255),
        st.integers(0, 255),
        st.integers(0, 255),
    ),
)
_sgr = st.lists(st.one_of(_sgr_codes, _extended_colours), max_size=4).map(
    lambda codes: f"\x1b[{';'.join(codes)}m"
)
# pyte raises on more parameters than a handler takes, so the reference gets the right count.
_csi = st.one_of(
    st.builds(
        lambda params, final: f"\x1b[{';'.join(params)}{final}",
        st.lists(_numbers, max_size=1),
        st.sampled_from(list("ABCDEFGLMPX@d")),
    ),
    st.builds(
        lambda params, final: f"\x1b[{';'.join(params)}{final}",
        st.lists(_numbers, max_size=2),
        st.sampled_from(list("Hfr")),
    ),
)
_erase = st.builds(
    lambda how, final: f"\x1b[{how}{final}",
    st.sampled_from(["", "0", "1", "2"]),
    st.sampled_from("JK"),
)
_ascii_text = st.text(
    st.characters(min_codepoint=0x20, max_codepoint=0x7E), min_size=1, max_size=30
)
# What colour programs print between cursor moves (one token for the stream's styled path).
_styled_lines = st.lists(
    st.lists(
        st.one_of(
            _ascii_text,
            _sgr,
            st.sampled_from(["\x1b[K", "\x1b(B", "\x1b[H", "\x1b[3;5H", "\x1b[;2H"]),
        ),
        max_size=6,
    ).map("".join),
    min_size=1,
    max_size=12,
).map("\r\n".join)
_pyte_tokens = st.one_of(
    _ascii_text,
    _ascii_text,
    st.sampled_from(["\r\n", "\r\n", "\r", "\n", "\b", "\t", "\x07", "\x1b7", "\x1b8"]),
    st.sampled_from(["\x1bM", "\x1bD", "\x1b[r", "\x1b[4h", "\x1b[4l", "\x1b[?7l", "\x1b[?7h"]),
    _csi,
    _erase,
    _sgr,
    st.lists(_ascii_text, min_size=2, max_size=40).map(lambda lines: "\r\n".join(lines) + "\r\n"),
    _styled_lines,
)
_unicode_text = st.text(
    st.one_of(
        st.characters(min_codepoint=0x20, max_codepoint=0x7E),
        st.sampled_from(
            ["中", "文", "é", "\u0301", "\ufe0f", "\u200d", "\u2764", "\U0001f600", "\U0001f3fd"]
        ),
    ),
    min_size=1,
    max_size=20,
)
_any_tokens = st.one_of(
    _pyte_tokens,
    _unicode_text,
    st.sampled_from(["\x1b[?1049h", "\x1b[?1049l", "\x1b[2S", "\x1b[T", "\x1b[3b", "\x1bE"]),
    st.sampled_from(["\x1b(0", "\x1b(B", "\x1b]0;t\x07", "\x1bP$q\x1b\\", "\x1b[>4;2m"]),
)
_sizes = st.tuples(st.integers(2, 30), st.integers(2, 10))


def _chunks(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({cut % (len(data) + 1) for cut in cuts} | {0, len(data)})
    return [data[start:end] for start, end in itertools.pairwise(points)]


def _ours(columns: int, lines: int, chunks: list[bytes]) -> TerminalScreen:
    screen = TerminalScreen(columns, lines, scrollback=50)
    stream = TerminalStream(screen)
    for chunk in chunks:
        stream.feed(chunk)
    return screen


def _cells(screen: pyte.Screen, fields: int) -> list[list[tuple[object, ...]]]:
    return [
        [tuple(screen.buffer[y][x])[:fields] for x in range(screen.columns)]
        for y in range(screen.lines)
    ]


@settings(max_examples=300, deadline=None, database=None)
@given(size=_sizes, tokens=st.lists(_pyte_tokens, max_size=60), cuts=st.lists(st.integers(0)))
def test_same_screen_as_pyte(size: tuple[int, int], tokens: list[str], cuts: list[int]) -> None:
    columns, lines = size
    data = "".join(tokens).encode()
    reference = pyte.Screen(columns, lines)
    pyte.ByteStream(reference).feed(data)
    ours = _ours(columns, lines, _chunks(data, cuts))
    assert _cells(ours, 9) == _cells(reference, 9)
    assert (ours.cursor.x, ours.cursor.y) == (reference.cursor.x, reference.cursor.y)
    assert tuple(ours.cursor.attrs)[:9] == tuple(reference.cursor.attrs)


@settings(max_examples=300, deadline=None, database=None)
@given(size=_sizes, tokens=st.lists(_any_tokens, max_size=60), cuts=st.lists(st.integers(0)))
def test_fast_paths_match_byte_by_byte_feeding(
    size: tuple[int, int], tokens: list[str], cuts: list[int]
) -> None:
    columns, lines = size
    data = "".join(tokens).encode()
    fast = _ours(columns, lines, _chunks(data, cuts))
    slow = _ours(columns, lines, [data[i : i + 1] for i in range(len(data))])
    assert _cells(fast, 11) == _cells(slow, 11)
    assert (fast.cursor.x, fast.cursor.y) == (slow.cursor.x, slow.cursor.y)
    assert fast.in_alternate_screen == slow.in_alternate_screen
    assert [dict(row) for row in fast.scrollback] == [dict(row) for row in slow.scrollback]
    assert fast.scrollback_pushed == slow.scrollback_pushed
