"""Encode user input the way xterm sends it to a program: keys, paste, focus, mouse.

Keys are encoded from Textual's `event.key` ("ctrl+shift+up", "alt+x", "f5") and use
`event.character` only for printable text. With the kitty keyboard protocol (which Textual 8
turns on where the outer terminal supports it) and under Pilot, ctrl combinations, Enter and
Escape arrive with `character=None`, so the name is the only reliable source.

Modified cursor, editing and function keys use xterm's PC-style modifier parameter
m = 1 + shift + 2·alt + 4·ctrl + 8·meta (`CSI 1;m A`, `CSI 3;m ~`). Alt with a character key
sends ESC first (xterm's metaSendsEscape). See shared/terminal-notes.md §5 for the table.
"""

from __future__ import annotations

from textual.keys import key_to_character

ESC = "\x1b"
CSI = ESC + "["
SS3 = ESC + "O"

_CURSOR_KEYS = {"up": "A", "down": "B", "right": "C", "left": "D", "home": "H", "end": "F"}
_TILDE_KEYS = {
    "insert": 2,
    "delete": 3,
    "pageup": 5,
    "pagedown": 6,
    "f5": 15,
    "f6": 17,
    "f7": 18,
    "f8": 19,
    "f9": 20,
    "f10": 21,
    "f11": 23,
    "f12": 24,
    "f13": 25,
    "f14": 26,
    "f15": 28,
    "f16": 29,
    "f17": 31,
    "f18": 32,
    "f19": 33,
    "f20": 34,
}
_SS3_FUNCTION_KEYS = {"f1": "P", "f2": "Q", "f3": "R", "f4": "S"}
# Ctrl with a non-letter: the VT220 conventions xterm follows.
_CONTROL_SYMBOLS = {
    "space": "\x00",
    "@": "\x00",
    "at": "\x00",
    "2": "\x00",
    "left_square_bracket": "\x1b",
    "3": "\x1b",
    "backslash": "\x1c",
    "4": "\x1c",
    "right_square_bracket": "\x1d",
    "5": "\x1d",
    "circumflex_accent": "\x1e",
    "6": "\x1e",
    "underscore": "\x1f",
    "slash": "\x1f",
    "minus": "\x1f",
    "7": "\x1f",
    "question_mark": "\x7f",
    "8": "\x7f",
}
_MODIFIER_WEIGHTS = {"shift": 1, "alt": 2, "ctrl": 4, "meta": 8}

BRACKETED_PASTE_START = CSI + "200~"
BRACKETED_PASTE_END = CSI + "201~"
# Control characters a paste may not carry (xterm's allowPasteControls=false): all C0 but
# tab and CR (newlines are CR by then), DEL, and C1, ESC and the 8-bit CSI included.
_PASTE_CONTROLS = dict.fromkeys(
    [*(code for code in range(0x20) if code not in (0x09, 0x0D)), *range(0x7F, 0xA0)]
)


def split_key(key: str) -> tuple[frozenset[str], str]:
    """Split a Textual key name into its modifiers and base key."""
    if key.endswith("+") and key != "+":  # "ctrl++": a literal plus
        head = key[:-2]
        return frozenset(head.split("+")) if head else frozenset(), "plus"
    *modifiers, base = key.split("+")
    return frozenset(modifiers), base


def encode_key(
    key: str,
    character: str | None = None,
    *,
    application_cursor: bool = False,
    newline_mode: bool = False,
) -> bytes | None:
    """The bytes xterm sends for a key, or None for keys a terminal does not transmit.

    Args:
        key: Textual's `event.key`.
        character: Textual's `event.character` (may be None even for printable keys).
        application_cursor: DECCKM is set: unmodified arrows/Home/End use SS3.
        newline_mode: LNM is set: Enter sends CR LF.
    """
    modifiers, base = split_key(key)
    if not modifiers <= _MODIFIER_WEIGHTS.keys():
        return None  # super/hyper combinations belong to the desktop, not the program
    text = _encode(base, modifiers, character, application_cursor, newline_mode)
    return None if text is None else text.encode("utf-8")


def _encode(
    base: str,
    modifiers: frozenset[str],
    character: str | None,
    application_cursor: bool,
    newline_mode: bool,
) -> str | None:
    parameter = 1 + sum(_MODIFIER_WEIGHTS[name] for name in modifiers)
    ctrl = "ctrl" in modifiers
    prefix = ESC if "alt" in modifiers or "meta" in modifiers else ""
    if base in _CURSOR_KEYS:
        final = _CURSOR_KEYS[base]
        if parameter > 1:
            return f"{CSI}1;{parameter}{final}"
        return (SS3 if application_cursor else CSI) + final
    if base in _TILDE_KEYS:
        number = _TILDE_KEYS[base]
        return f"{CSI}{number};{parameter}~" if parameter > 1 else f"{CSI}{number}~"
    if base in _SS3_FUNCTION_KEYS:
        final = _SS3_FUNCTION_KEYS[base]
        return f"{CSI}1;{parameter}{final}" if parameter > 1 else SS3 + final
    if base == "enter":
        return prefix + ("\r\n" if newline_mode else "\r")
    if base == "tab":
        return CSI + "Z" if "shift" in modifiers else prefix + "\t"
    if base == "backspace":
        return prefix + ("\x08" if ctrl or character == "\x08" else "\x7f")
    if base == "escape":
        return prefix + ESC
    if ctrl:
        control = _control_character(base)
        if control is None:
            control = _printable(base, modifiers, None)  # xterm sends ctrl+1 as "1"
        return None if control is None else prefix + control
    printable = _printable(base, modifiers, character)
    return None if printable is None else prefix + printable


def _control_character(base: str) -> str | None:
    if len(base) == 1 and base.isascii() and base.isalpha():
        return chr(ord(base.lower()) & 0x1F)
    return _CONTROL_SYMBOLS.get(base)


def _printable(base: str, modifiers: frozenset[str], character: str | None) -> str | None:
    if character is not None and character.isprintable() and character:
        return character
    text = key_to_character(base)
    if text is None or not text.isprintable():
        return None
    return text.upper() if "shift" in modifiers else text


def encode_paste(text: str, *, bracketed: bool) -> bytes:
    """Pasted text as a terminal sends it.

    Newlines become CR, as typed Enter would. Control characters other than tab and CR are
    removed (as xterm does): a paste can neither end the bracket early nor act as typed keys
    (Ctrl-C, Ctrl-D, escape sequences). With bracketed paste (`?2004`) the text is wrapped in
    `CSI 200~ … CSI 201~`.
    """
    text = text.replace("\r\n", "\r").replace("\n", "\r").translate(_PASTE_CONTROLS)
    if not bracketed:
        return text.encode("utf-8")
    return (BRACKETED_PASTE_START + text + BRACKETED_PASTE_END).encode("utf-8")


def encode_focus(focused: bool) -> bytes:
    """Focus in/out report (`?1004`)."""
    return (CSI + ("I" if focused else "O")).encode()


MOUSE_LEFT, MOUSE_MIDDLE, MOUSE_RIGHT = 0, 1, 2
MOUSE_RELEASE = 3
MOUSE_WHEEL_UP, MOUSE_WHEEL_DOWN = 64, 65
_MOUSE_MOTION = 32


def encode_mouse(
    button: int,
    x: int,
    y: int,
    *,
    encoding: str,
    release: bool = False,
    motion: bool = False,
    shift: bool = False,
    alt: bool = False,
    ctrl: bool = False,
) -> bytes | None:
    """An xterm mouse report, or None when the position cannot be encoded.

    Args:
        button: 0 left, 1 middle, 2 right, 3 none (motion without a button), 64/65 wheel.
        x: 0-based column.
        y: 0-based row.
        encoding: "sgr" (1006), "urxvt" (1015), "utf8" (1005) or "x10" (the default).
        release: The button was released.
        motion: The pointer moved (with `button` held, or 3 for none).
    """
    code = button
    if motion:
        code += _MOUSE_MOTION
    code += 4 * shift + 8 * alt + 16 * ctrl
    column, row = x + 1, y + 1
    if encoding == "sgr":
        return f"{CSI}<{code};{column};{row}{'m' if release else 'M'}".encode()
    if release:
        code = (code & ~0b11) | MOUSE_RELEASE  # the legacy encodings cannot say which button
    if encoding == "urxvt":
        return f"{CSI}{code + 32};{column};{row}M".encode()
    limit = 2015 if encoding == "utf8" else 223
    if column > limit or row > limit:
        return None
    if encoding == "utf8":
        return (CSI + "M" + chr(32 + code) + chr(32 + column) + chr(32 + row)).encode("utf-8")
    return (CSI + "M").encode() + bytes((32 + code, 32 + column, 32 + row))
