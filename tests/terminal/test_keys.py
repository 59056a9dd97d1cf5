"""Key, paste, focus and mouse encoding (shared/terminal-notes.md §5).

Every key is checked with both kinds of Textual key events: legacy terminals give
`event.character` (ctrl+a -> "\\x01"); the kitty keyboard protocol and Pilot give `None`.
"""

from __future__ import annotations

import pytest
from textual import events

from celesto_tui.terminal.keys import (
    encode_focus,
    encode_key,
    encode_mouse,
    encode_paste,
)

# (event.key, the character a legacy terminal reports, bytes xterm sends)
KEYS = [
    ("a", "a", b"a"),
    ("A", "A", b"A"),
    ("space", " ", b" "),
    ("exclamation_mark", "!", b"!"),
    ("\u00e9", "\u00e9", "\u00e9".encode()),
    ("enter", "\r", b"\r"),
    ("tab", "\t", b"\t"),
    ("shift+tab", None, b"\x1b[Z"),
    ("backspace", "\x7f", b"\x7f"),
    ("escape", "\x1b", b"\x1b"),
    ("up", None, b"\x1b[A"),
    ("down", None, b"\x1b[B"),
    ("right", None, b"\x1b[C"),
    ("left", None, b"\x1b[D"),
    ("home", None, b"\x1b[H"),
    ("end", None, b"\x1b[F"),
    ("insert", None, b"\x1b[2~"),
    ("delete", None, b"\x1b[3~"),
    ("pageup", None, b"\x1b[5~"),
    ("pagedown", None, b"\x1b[6~"),
    ("f1", None, b"\x1bOP"),
    ("f2", None, b"\x1bOQ"),
    ("f3", None, b"\x1bOR"),
    ("f4", None, b"\x1bOS"),
    ("f5", None, b"\x1b[15~"),
    ("f6", None, b"\x1b[17~"),
    ("f7", None, b"\x1b[18~"),
    ("f8", None, b"\x1b[19~"),
    ("f9", None, b"\x1b[20~"),
    ("f10", None, b"\x1b[21~"),
    ("f11", None, b"\x1b[23~"),
    ("f12", None, b"\x1b[24~"),
    ("ctrl+a", "\x01", b"\x01"),
    ("ctrl+c", "\x03", b"\x03"),
    ("ctrl+d", "\x04", b"\x04"),
    ("ctrl+p", "\x10", b"\x10"),
    ("ctrl+q", "\x11", b"\x11"),
    ("ctrl+z", "\x1a", b"\x1a"),
    ("ctrl+shift+a", None, b"\x01"),
    ("ctrl+@", "\x00", b"\x00"),
    ("ctrl+space", None, b"\x00"),
    ("ctrl+backslash", "\x1c", b"\x1c"),
    ("ctrl+right_square_bracket", "\x1d", b"\x1d"),
    ("ctrl+circumflex_accent", "\x1e", b"\x1e"),
    ("ctrl+underscore", "\x1f", b"\x1f"),
    ("ctrl+backspace", None, b"\x08"),
    ("alt+x", "x", b"\x1bx"),
    ("alt+shift+x", "X", b"\x1bX"),
    ("alt+ctrl+a", None, b"\x1b\x01"),
    ("alt+backspace", None, b"\x1b\x7f"),
    ("alt+enter", None, b"\x1b\r"),
    ("ctrl+up", None, b"\x1b[1;5A"),
    ("shift+left", None, b"\x1b[1;2D"),
    ("alt+right", None, b"\x1b[1;3C"),
    ("ctrl+shift+home", None, b"\x1b[1;6H"),
    ("ctrl+delete", None, b"\x1b[3;5~"),
    ("shift+pageup", None, b"\x1b[5;2~"),
    ("shift+f1", None, b"\x1b[1;2P"),
    ("ctrl+f5", None, b"\x1b[15;5~"),
    ("alt+f12", None, b"\x1b[24;3~"),
]


def _event_kinds(key: str, legacy: str | None) -> list[events.Key]:
    """The same key as a legacy terminal and as kitty/Pilot report it."""
    return [events.Key(key, legacy), events.Key(key, None)]


@pytest.mark.parametrize(("key", "legacy", "expected"), KEYS)
def test_keys_encode_the_same_with_and_without_character(
    key: str, legacy: str | None, expected: bytes
) -> None:
    for event in _event_kinds(key, legacy):
        assert encode_key(event.key, event.character) == expected, event


@pytest.mark.parametrize(
    ("key", "expected"),
    [("up", b"\x1bOA"), ("down", b"\x1bOB"), ("home", b"\x1bOH"), ("end", b"\x1bOF")],
)
def test_application_cursor_mode_uses_ss3(key: str, expected: bytes) -> None:
    for event in _event_kinds(key, None):
        assert encode_key(event.key, event.character, application_cursor=True) == expected
    # Modified keys keep the CSI form in application mode.
    assert encode_key(f"ctrl+{key}", None, application_cursor=True).startswith(b"\x1b[1;5")


def test_legacy_ctrl_h_backspace_is_kept_apart_from_delete() -> None:
    assert encode_key("backspace", "\x08") == b"\x08"
    assert encode_key("backspace", "\x7f") == b"\x7f"


def test_enter_in_newline_mode() -> None:
    assert encode_key("enter", None, newline_mode=True) == b"\r\n"


def test_keys_a_terminal_does_not_send() -> None:
    assert encode_key("super+c", None) is None
    assert encode_key("f24", None) is None


def test_bracketed_paste_is_sanitised() -> None:
    evil = "echo hi\x1b[201~rm -rf ~\n"
    assert encode_paste(evil, bracketed=True) == b"\x1b[200~echo hi[201~rm -rf ~\r\x1b[201~"
    assert encode_paste("a\r\nb\nc", bracketed=False) == b"a\rb\rc"
    # Control characters never act as keys, bracketed or not; tab and text stay.
    keys = "ls\x03\x04\x1a\x7f\x9b2J\tx\x08y\u00e9"
    assert encode_paste(keys, bracketed=False) == "ls2J\txy\u00e9".encode()
    assert (
        encode_paste(keys, bracketed=True)
        == b"\x1b[200~" + "ls2J\txy\u00e9".encode() + b"\x1b[201~"
    )


def test_focus_reports() -> None:
    assert encode_focus(True) == b"\x1b[I"
    assert encode_focus(False) == b"\x1b[O"


def test_mouse_encodings() -> None:
    assert encode_mouse(0, 4, 2, encoding="sgr") == b"\x1b[<0;5;3M"
    assert encode_mouse(0, 4, 2, encoding="sgr", release=True) == b"\x1b[<0;5;3m"
    assert encode_mouse(2, 0, 0, encoding="sgr", ctrl=True, alt=True) == b"\x1b[<26;1;1M"
    assert encode_mouse(0, 9, 9, encoding="sgr", motion=True) == b"\x1b[<32;10;10M"
    assert encode_mouse(64, 0, 0, encoding="sgr") == b"\x1b[<64;1;1M"
    assert encode_mouse(0, 4, 2, encoding="x10") == b"\x1b[M" + bytes((32, 37, 35))
    assert encode_mouse(1, 4, 2, encoding="x10", release=True) == b"\x1b[M" + bytes((35, 37, 35))
    assert encode_mouse(0, 300, 2, encoding="x10") is None
    assert encode_mouse(0, 300, 2, encoding="utf8") == "\x1b[M \u014d#".encode()
    assert encode_mouse(0, 4, 2, encoding="urxvt") == b"\x1b[32;5;3M"
