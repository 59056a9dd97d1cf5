"""Random and adversarial output never breaks the emulator or the rendering."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from rich.cells import cell_len

from celesto_tui.terminal.render import TerminalRenderer
from celesto_tui.terminal.screen import TerminalScreen
from celesto_tui.terminal.selection import Selection, selected_text
from celesto_tui.terminal.stream import TerminalStream

_FRAGMENTS = [
    "\x1b",
    "\x1b[",
    "\x1b]",
    "\x1bP",
    "\x1b_",
    "\x1b^",
    "\x1bX",
    "\x1b\\",
    "\x1b(",
    "\x1b)0",
    "\x1b#8",
    "\x1b%G",
    "\x9b",
    "\x9d",
    "\x90",
    "\x9c",
    "\x85",
    "?",
    ">",
    "=",
    "<",
    ";",
    ":",
    "$",
    "!",
    " ",
    "'",
    "0",
    "1",
    "7",
    "25",
    "1049",
    "2004",
    "9999999999",
    "-1",
    "\x07",
    "\x08",
    "\t",
    "\n",
    "\r",
    "\r\n",
    "\x0b",
    "\x0e",
    "\x0f",
    "\x18",
    "\x1a",
    "\x7f",
    "\x00",
    *"ABCDEFGHIJKLMPSTXZ@`abcdefghlmnpqrstu",
    "中",
    "\U0001f600",
    "\U0001f3fd",
    "\u0301",
    "\ufe0f",
    "\u200d",
    "\u200b",
    "\U0001f1fa\U0001f1f8",
    "\U0001f1fa",
    "\U0001f468\u200d\U0001f469\u200d\U0001f467\u200d\U0001f466",
    "\ufffd",
    "x" * 90,
    "abc\r\n" * 30,
]
_output = st.lists(
    st.one_of(
        st.sampled_from(_FRAGMENTS),
        st.text(max_size=8),
        st.binary(max_size=8).map(lambda data: data.decode("latin-1")),
    ),
    max_size=120,
).map("".join)
_operations = st.lists(
    st.one_of(
        st.tuples(st.just("feed"), _output, st.integers(1, 64)),
        st.tuples(st.just("resize"), st.integers(1, 40), st.integers(1, 12)),
        st.tuples(st.just("bytes"), st.binary(max_size=64), st.integers(1, 64)),
    ),
    max_size=12,
)


def _check(screen: TerminalScreen, renderer: TerminalRenderer) -> None:
    assert 0 <= screen.cursor.x <= screen.columns  # == columns: a wrap is pending
    assert 0 <= screen.cursor.y < screen.lines
    for y in range(screen.lines):
        row = screen.buffer.get(y, {})
        assert all(0 <= x < screen.columns for x in row)
        assert all(len(cell.data.encode()) <= 21 for cell in row.values())  # tmux's cap
    changed = renderer.sync()
    assert changed is None or all(0 <= y < screen.lines for y in changed)
    strips = [renderer.row(y) for y in range(screen.lines)]
    strips += [renderer.history_row(index) for index in range(len(screen.scrollback))]
    for strip in strips:
        assert strip.cell_length == screen.columns
        assert sum(cell_len(segment.text) for segment in strip) == screen.columns
    top = screen.scrollback_pushed - len(screen.scrollback)
    everything = Selection((top, 0), (screen.scrollback_pushed + screen.lines, 0), 0)
    assert selected_text(screen, everything).count("\n") <= len(strips) - 1


@settings(max_examples=250, deadline=None, database=None)
@given(
    size=st.tuples(st.integers(1, 40), st.integers(1, 12)),
    operations=_operations,
)
def test_fuzzed_output_keeps_the_screen_consistent(
    size: tuple[int, int], operations: list[tuple[str, object, int]]
) -> None:
    screen = TerminalScreen(*size, scrollback=20, on_reply=lambda reply: None)
    stream = TerminalStream(screen)
    renderer = TerminalRenderer(screen)
    for kind, payload, number in operations:
        if kind == "resize":
            assert isinstance(payload, int)
            screen.resize(lines=number, columns=payload)
        else:
            data = payload.encode() if isinstance(payload, str) else payload
            assert isinstance(data, bytes)
            for start in range(0, len(data), number):
                stream.feed(data[start : start + number])
        _check(screen, renderer)
