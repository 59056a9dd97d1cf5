"""Feed program output into a `TerminalScreen`, fast.

pyte's `Stream` walks escape sequences one character at a time through a generator, which is
most of its cost, and it is also where several of the notes' bugs live (`CSI > 4;2 m` applied
as underline, DCS payloads and colon sub-parameters printed, `CSI ? 4 m` raising and losing the
rest of the chunk). `TerminalStream` replaces that state machine with one regular expression
that cuts the text into whole tokens and dispatches each to the same pyte screen handlers (it
reuses pyte's own CSI/escape tables), so screens come out as pyte's, except where pyte is wrong.

Fast paths:
- printable runs go to `draw` whole; printable ASCII is written a row slice at a time;
- a run of plain ASCII lines ending in CR LF (`seq`, `ls`, logs without colour) goes to
  `TerminalScreen.draw_lines`, which scrolls the screen once per run instead of once per line;
- a run of printable ASCII mixed with SGR, EL, CUP, `ESC ( B` and CR LF (coloured logs, `ls
  --color`, the rows of `top` and htop) is cut with one `re.split`, its SGRs are looked up in a
  memo, and `TerminalScreen.draw_styled` writes each row's cells at once, scrolling as above.

Robustness: a sequence split across chunks is kept until its end arrives; DCS/SOS/PM/APC
strings (sixel, XTGETTCAP, tmux passthrough) are discarded however long; a handler that raises
drops only its own sequence, never the rest of the chunk.
"""

from __future__ import annotations

import codecs
import logging
import re
from collections.abc import Callable
from typing import Any

import pyte
from pyte import charsets

from .screen import Cell, StyledRun, TerminalScreen

log = logging.getLogger(__name__)

# Escape finals exclude the introducers of CSI `[`, OSC `]` and strings `P X ^ _`, so that an
# unfinished CSI or DCS is never taken for a two-character escape.
_ESC_FINAL = r"[\x30-\x4f\x51-\x57\x59\x5a\x5c\x60-\x7e]"
_TOKEN = re.compile(
    r"(?P<lines>(?:[ -~]*+\r\n)++)"
    r"|(?P<styled>(?:[ -~]++|\x1b\[[0-9;]*+[mH]|\x1b\[K|\x1b\(B|\r\n)++)"
    r"|(?P<text>[^\x00-\x1f\x7f-\x9f]++)"
    r"|\x1b\[(?P<sgr>[0-9;]*+)m"
    r"|\x1b\[(?P<simple_params>[0-9;]*+)(?P<simple_final>[\x40-\x7e])"
    r"|(?:\x1b\[|\x9b)(?P<params>[\x30-\x3f\x07-\x0d]*+)(?P<inter>[\x20-\x2f]*+)(?P<final>[\x40-\x7e])"
    r"|(?P<control>[\x00-\x1a\x1c-\x1f\x7f])"
    r"|\x1b(?P<esc_inter>[\x20-\x2f]*+)(?P<esc_final>" + _ESC_FINAL + ")"
    r"|(?:\x1b\]|\x9d)(?P<osc>[^\x07\x1b\x9c]*+)(?:\x07|\x1b\\|\x9c)"
    r"|(?P<string>(?:\x1b[PX^_]|[\x90\x98\x9e\x9f])(?:[^\x1b\x9c]++|\x1b[^\\])*+(?:\x1b\\|\x9c))"
    r"|(?P<c1>[\x80-\x8f\x91-\x97\x99\x9a\x9c])"
)
# The sequences inside a styled run, cutting it into text (re.split keeps them).
_STYLED_PARTS = re.compile(r"(\x1b\[[0-9;]*[mH]|\x1b\[K|\x1b\(B|\r\n)")
# What may still become a complete token when more data arrives.
_INCOMPLETE = re.compile(
    r"(?:(?:\x1b\[|\x9b)[\x30-\x3f\x07-\x0d]*[\x20-\x2f]*"
    r"|(?:\x1b\]|\x9d)[^\x07\x1b\x9c]*\x1b?"
    r"|\x1b[\x20-\x2f]*)\Z"
)
_OSC_START = re.compile(r"\x1b\]|\x9d")
_PARTIAL_OSC = re.compile(r"(?:\x1b\]|\x9d)[^\x07\x1b\x9c]*")
_PARTIAL_CSI = re.compile(r"(?:\x1b\[|\x9b)[\x30-\x3f\x07-\x0d]*[\x20-\x2f]*")
_STRING_START = re.compile(r"\x1b[PX^_]|[\x90\x98\x9e\x9f]")
_STRING_END = re.compile(r"\x1b\\|\x9c")
_OSC_END = re.compile(r"\x07|\x1b\\|\x9c")
_ABORTS = "\x18\x1a\x7f"  # CAN and SUB cancel a sequence; DEL inside one is dropped
_MAX_PENDING = 4096
_CACHE_LIMIT = 1024
_RESETS = frozenset(("", "0", "00"))  # SGR parameters that only reset
_FG, _BG = Cell._fields.index("fg"), Cell._fields.index("bg")
_RESET_SEQUENCES = frozenset(f"\x1b[{params}m" for params in _RESETS)

_CONTROLS = {
    "\x07": "bell",
    "\x08": "backspace",
    "\x09": "tab",
    "\x0a": "linefeed",
    "\x0b": "linefeed",
    "\x0c": "linefeed",
    "\x0d": "carriage_return",
    "\x0e": "shift_out",
    "\x0f": "shift_in",
}
_CSI_EXTRA = {
    "S": "scroll_up",
    "T": "scroll_down",
    "b": "repeat_last_character",
    "s": "save_cursor_position",
    "u": "restore_cursor_position",
    "I": "tab_forward",
    "Z": "tab_backward",
    "`": "cursor_to_column",
}
_PRIVATE_CSI = {
    "h": "set_mode",
    "l": "reset_mode",
    "J": "erase_in_display",
    "K": "erase_in_line",
    "n": "report_device_status",
}
_ESCAPES = {**pyte.Stream.escape, "E": "next_line"}


class TerminalStream:
    """Parse bytes (or text) and apply them to a `TerminalScreen`."""

    def __init__(self, screen: TerminalScreen) -> None:
        self.screen = screen
        self._decoder = codecs.getincrementaldecoder("utf-8")("replace")
        self._tail = ""
        self._string_end: re.Pattern[str] | None = None  # set while skipping a long string
        self._params: dict[str, tuple[int, ...]] = {}
        # SGR results by (attributes before, parameter text). SGR 0 depends on reverse-screen
        # mode, so the memo is cleared whenever a sequence that may change modes is applied.
        self._sgr_memo: dict[tuple[Any, str], Any] = {}
        handler = self._handler
        self._controls = {char: handler(name) for char, name in _CONTROLS.items()}
        self._csi = {final: handler(name) for final, name in pyte.Stream.csi.items()}
        self._csi.update({final: handler(name) for final, name in _CSI_EXTRA.items()})
        self._private_csi = {final: handler(name) for final, name in _PRIVATE_CSI.items()}
        self._escapes = {final: handler(name) for final, name in _ESCAPES.items()}

    def _handler(self, name: str) -> Callable[..., Any]:
        method: Callable[..., Any] = getattr(self.screen, name)
        return method

    def feed(self, data: bytes) -> None:
        """Feed raw output; UTF-8 split across calls is decoded correctly."""
        self.feed_text(self._decoder.decode(data))

    def feed_text(self, data: str) -> None:
        """Feed already decoded output."""
        if self._tail:
            data = self._tail + data
            self._tail = ""
        pos = 0
        if self._string_end is not None:
            pos = self._skip_string(data, 0)
        while pos < len(data):
            pos = self._feed_tokens(data, pos)
            if pos < len(data):
                pos = self._recover(data, pos)

    def _feed_tokens(self, data: str, pos: int) -> int:
        """Apply whole tokens from `pos` on; return where the first unmatched text starts."""
        screen = self.screen
        draw = screen.draw
        csi = self._csi
        parse = self._parse_params
        sgr_memo = self._sgr_memo
        for token in _TOKEN.finditer(data, pos):
            if token.start() != pos:
                return pos
            pos = token.end()
            kind = token.lastgroup
            if kind == "styled":
                self._draw_styled(token.group(kind))
            elif kind == "text":
                draw(token.group(kind))
            elif kind == "sgr":
                cursor = screen.cursor
                params = token.group(kind)
                # A reset does not depend on the attributes before it: one memo entry.
                key = (None, params) if params in _RESETS else (cursor.attrs, params)
                attrs = sgr_memo.get(key)
                if attrs is None:
                    self._select_graphic_rendition(params, key)
                else:
                    cursor.attrs = attrs
            elif kind == "simple_final":  # most CSIs: no prefix, intermediates or sub-params
                handler = csi.get(token.group(kind))
                if handler is not None:
                    try:
                        handler(*parse(token.group("simple_params")))
                    except Exception:
                        log.debug("ignored a failing CSI %r", token.group(), exc_info=True)
            elif kind == "lines":
                screen.draw_lines(token.group(kind)[:-2].split("\r\n"))
            elif kind == "control":
                control = self._controls.get(token.group(kind))
                if control is not None:
                    control()
            elif kind == "final":
                self._dispatch_csi(token.group("params"), token.group("inter"), token.group(kind))
            elif kind == "esc_final":
                self._dispatch_escape(token.group("esc_inter"), token.group(kind))
            elif kind == "osc":
                self._dispatch_osc(token.group(kind))
            # "string" (DCS, SOS, PM, APC) and stray C1 controls are dropped.
        return pos

    def _draw_styled(self, run: str) -> None:
        """Printable ASCII mixed with SGR, EL, CUP, `ESC ( B` and CR LF: the bulk of what colour
        and full-screen programs print. The text between the sequences goes to the screen a row
        at a time."""
        screen = self.screen
        cursor = screen.cursor
        memo = self._sgr_memo
        parts = _STYLED_PARTS.split(run)
        attrs = cursor.attrs
        lines: list[list[StyledRun]] = []
        runs: list[StyledRun] = []
        if parts[0]:
            runs.append((attrs, parts[0]))
        for index in range(1, len(parts), 2):
            sequence = parts[index]
            final = sequence[-1]
            if final == "m":
                key = (None, sequence) if sequence in _RESET_SEQUENCES else (attrs, sequence)
                after = memo.get(key)
                if after is None:
                    after = _truecolour(attrs, sequence)
                    if after is None:
                        cursor.attrs = attrs
                        self._select_graphic_rendition(sequence[2:-1], key)
                        after = cursor.attrs
                attrs = after
            elif final == "\n":
                lines.append(runs)
                runs = []
            elif final != "B" or screen.g0_charset is not charsets.LAT1_MAP:
                # EL, CUP or a G0 change: draw what came before first.
                if lines:
                    screen.draw_styled(lines, runs)
                    lines, runs = [], []
                elif runs:
                    screen.draw_runs(runs)
                    runs = []
                cursor.attrs = attrs
                if final == "K":
                    screen.erase_in_line(0)
                elif final == "H":
                    screen.cursor_position(*self._parse_params(sequence[2:-1]))
                else:
                    self._dispatch_escape("(", "B")
            text = parts[index + 1]
            if text:
                runs.append((attrs, text))
        if lines:
            screen.draw_styled(lines, runs)
        elif runs:
            screen.draw_runs(runs)
        cursor.attrs = attrs

    def _select_graphic_rendition(self, params: str, key: tuple[Any, str]) -> None:
        """SGR, remembering the result under `key` (attributes before, parameters)."""
        screen = self.screen
        screen.select_graphic_rendition(*self._parse_params(params))
        if len(self._sgr_memo) > _CACHE_LIMIT:
            self._sgr_memo.clear()
        self._sgr_memo[key] = screen.cursor.attrs

    def _recover(self, data: str, pos: int) -> int:
        """Handle what no token matches: an unfinished sequence, or a malformed one."""
        if _INCOMPLETE.match(data, pos):
            if len(data) - pos <= _MAX_PENDING:
                self._tail = data[pos:]
                return len(data)
            if _OSC_START.match(data, pos):  # an endless OSC (a huge OSC 52): skip it
                self._string_end = _OSC_END
                return self._skip_string(data, pos)
            return pos + 1
        if _STRING_START.match(data, pos):
            self._string_end = _STRING_END
            return self._skip_string(data, pos)
        partial = _PARTIAL_CSI.match(data, pos) or _PARTIAL_OSC.match(data, pos)
        if partial is not None:
            # xterm aborts a sequence on CAN, SUB or an unexpected character; ESC restarts it.
            stop = partial.end()
            return stop + 1 if data[stop] in _ABORTS else stop
        return pos + 1  # a lone ESC before a control or non-ASCII character

    def _skip_string(self, data: str, pos: int) -> int:
        assert self._string_end is not None
        end = self._string_end.search(data, pos)
        if end is not None:
            self._string_end = None
            return end.end()
        if data.endswith("\x1b"):
            self._tail = "\x1b"
        return len(data)

    def _parse_params(self, params: str) -> tuple[int, ...]:
        cached = self._params.get(params)
        if cached is None:
            if len(self._params) > _CACHE_LIMIT:
                self._params.clear()
            values = []
            for param in params.split(";"):
                head = param.partition(":")[0]
                values.append(min(int(head), 9999) if head.isdigit() else 0)
            cached = self._params[params] = tuple(values)
        return cached

    def _dispatch_csi(self, params: str, inter: str, final: str) -> None:
        self._sgr_memo.clear()
        if not params.isprintable():  # C0 controls inside a CSI run where they appear
            for char in params:
                control = self._controls.get(char)
                if control is not None:
                    control()
            params = "".join(char for char in params if char.isprintable())
        prefix = params[:1]
        try:
            if not inter and prefix not in ("?", ">", "=", "<"):
                handler = self._csi.get(final)
                if handler is not None:
                    if ":" in params and final == "m":
                        handler(*_sgr_params(params))
                    else:
                        handler(*self._parse_params(params))
            elif not inter and prefix == "?":
                handler = self._private_csi.get(final)
                if handler is not None:
                    handler(*self._parse_params(params[1:]), private=True)
            else:
                self._dispatch_csi_extension(prefix, params, inter, final)
        except Exception:
            log.debug("ignored a failing CSI %r %r %r", params, inter, final, exc_info=True)

    def _dispatch_csi_extension(self, prefix: str, params: str, inter: str, final: str) -> None:
        screen = self.screen
        if prefix == ">" and not inter and final == "c":
            screen.report_secondary_device_attributes()
        elif inter == " " and final == "q" and prefix not in (">", "=", "<"):
            screen.set_cursor_style(*self._parse_params(params))
        elif inter == "!" and final == "p" and not params:
            screen.soft_reset()
        elif inter == "$" and final == "p" and prefix in ("", "?"):
            mode = self._parse_params(params.removeprefix("?"))[0]
            screen.report_mode(mode, private=prefix == "?")
        # Everything else (XTMODKEYS, kitty keyboard, XTWINOPS, DECSCA...) is ignored.

    def _dispatch_escape(self, inter: str, final: str) -> None:
        self._sgr_memo.clear()
        screen = self.screen
        try:
            if not inter:
                handler = self._escapes.get(final)
                if handler is not None:
                    handler()
            elif inter == "#" and final == "8":
                screen.alignment_display()
            elif inter in ("(", ")"):
                screen.define_charset(final, inter)
            # ESC % (UTF-8 switch), ESC SP F and the like are ignored: input is always UTF-8.
        except Exception:
            log.debug("ignored a failing escape %r %r", inter, final, exc_info=True)

    def _dispatch_osc(self, body: str) -> None:
        code, _, text = body.partition(";")
        if code in ("0", "2"):
            self.screen.set_title(text)
        if code in ("0", "1"):
            self.screen.set_icon_name(text)


def _truecolour(attrs: Cell, sequence: str) -> Cell | None:
    """`attrs` after `ESC [ 38;2;r;g;b m` or `48;2;...`, else None.

    Every line of a truecolour log tends to carry a colour of its own, so these miss every memo;
    computing them straight away skips the parameter and SGR caches they would only churn.
    """
    head = sequence[2:7]
    if head not in ("38;2;", "48;2;"):
        return None
    rgb = sequence[7:-1].split(";")
    if len(rgb) != 3 or not all(map(str.isdigit, rgb)):
        return None
    red, green, blue = (min(int(value), 255) for value in rgb)
    colour = f"{red:02x}{green:02x}{blue:02x}"
    fields = list(attrs)
    fields[_FG if head == "38;2;" else _BG] = colour
    result: Cell = tuple.__new__(Cell, fields)
    return result


def _sgr_params(params: str) -> list[int]:
    """Flatten SGR parameters with colon sub-parameters (`4:3`, `38:2::r:g:b`)."""
    values: list[int] = []
    for param in params.split(";"):
        if ":" not in param:
            values.append(min(int(param), 9999) if param.isdigit() else 0)
            continue
        parts = [int(part) if part.isdigit() else 0 for part in param.split(":")]
        head = parts[0]
        if head == 4:
            values.append(24 if parts[1] == 0 else 4)
        elif head in (38, 48, 58) and len(parts) > 1:
            if parts[1] == 2 and len(parts) >= 6:
                parts = [head, 2, *parts[-3:]]  # drop the colour-space id
            values.extend(parts)
        else:
            values.append(head)
    return values
