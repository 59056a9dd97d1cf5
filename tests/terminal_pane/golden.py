"""Golden comparisons: the pane's screen against tmux running the same program at the same size.

tmux runs on the host (`TERM=xterm-256color`) with one pane of exactly the widget's size,
whose program is `celesto-tui computer ssh`: the CLI's raw attach to a terminal of the same
computer. Both sides run the program in their own shell on that computer, and the screens are
compared cell by cell: text, and colours/attributes as `tmux capture-pane -e` reports them.

`capture-pane` prints each cell's characters, not where cells start: the capture is cut into
cells with the rules tmux itself drew with, independent of the pane's code. tmux measures
characters with the C library's `wcwidth` (this machine's glibc, as the programs in the
computer do), joins zero-width characters to the cell before, and after a zero-width joiner
joins the next non-ASCII character too.
"""

from __future__ import annotations

import asyncio
import ctypes
import locale
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path

from pyte import charsets, graphics

from celesto_tui.terminal.widget import TerminalView

REPO = Path(__file__).resolve().parents[2]
TMUX = shutil.which("tmux")


def _tmux_version() -> tuple[int, ...]:
    if TMUX is None:
        return ()
    out = subprocess.run([TMUX, "-V"], capture_output=True, text=True, check=False).stdout
    match = re.search(r"(\d+)\.(\d+)", out)
    return (int(match.group(1)), int(match.group(2))) if match else ()


TMUX_VERSION = _tmux_version()
_SGR = re.compile(r"\x1b\[([0-9;:]*)m")
_FG_16 = [graphics.FG_ANSI[30 + n] for n in range(8)] + [
    graphics.FG_AIXTERM[90 + n] for n in range(8)
]
_BG_16 = [graphics.BG_ANSI[40 + n] for n in range(8)] + [
    graphics.BG_AIXTERM[100 + n] for n in range(8)
]

Colour = int | tuple[int, int, int] | None
ZERO_WIDTH_JOINER = "\u200d"

_libc = ctypes.CDLL(None)
_libc.wcwidth.argtypes = [ctypes.c_wchar]
_libc.wcwidth.restype = ctypes.c_int


def tmux_width(char: str) -> int:
    """Columns tmux 3.3a gives a character: the C library's `wcwidth`, 1 when it has none."""
    if _libc.wcwidth("\u4e2d") != 2:  # the C library measures in a UTF-8 locale only
        locale.setlocale(locale.LC_CTYPE, "C.UTF-8")
    width = int(_libc.wcwidth(char))
    return 1 if width < 0 else width


@dataclass(frozen=True)
class Look:
    """What a cell looks like, in terms both emulators can be compared in."""

    data: str
    fg: Colour = None
    bg: Colour = None
    bold: bool = False
    underline: bool = False
    reverse: bool = False


# -- the widget side --------------------------------------------------------------------------


def _widget_colour(value: str, names: list[str]) -> Colour:
    if value == "default":
        return None
    if value in names:
        return names.index(value)
    if value in graphics.FG_BG_256[16:]:
        return graphics.FG_BG_256.index(value, 16)
    return int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16)


def widget_looks(view: TerminalView) -> list[list[Look]]:
    terminal = view.terminal
    rows = []
    for y in range(terminal.lines):
        line = terminal.buffer[y]
        row = []
        for x in range(terminal.columns):
            cell = line[x]
            row.append(
                Look(
                    cell.data,
                    _widget_colour(cell.fg, _FG_16),
                    _widget_colour(cell.bg, _BG_16),
                    cell.bold,
                    cell.underscore,
                    cell.reverse,
                )
            )
        rows.append(row)
    return rows


def widget_text(view: TerminalView) -> list[str]:
    """The rows as the view paints them (the rendered strips), trailing blanks removed."""
    return [view.render_line(y).text.rstrip() for y in range(view.size.height)]


# -- the tmux side ----------------------------------------------------------------------------


_FLAGS = {
    1: ("bold", True),
    22: ("bold", False),
    4: ("underline", True),
    21: ("underline", True),
    24: ("underline", False),
    7: ("reverse", True),
    27: ("reverse", False),
}


def _apply_sgr(look: Look, params: str) -> Look:
    codes = [int(code) if code else 0 for code in params.replace(":", ";").split(";")]
    changes: dict[str, object] = {}
    while codes:
        code = codes.pop(0)
        if code == 0:
            changes = {"fg": None, "bg": None, "bold": False, "underline": False}
            changes["reverse"] = False
        elif code in _FLAGS:
            name, value = _FLAGS[code]
            changes[name] = value
        elif 30 <= code <= 37 or 40 <= code <= 47:
            changes["fg" if code < 40 else "bg"] = code % 10
        elif 90 <= code <= 97 or 100 <= code <= 107:
            changes["fg" if code < 100 else "bg"] = code % 10 + 8
        elif code in (39, 49):
            changes["fg" if code == 39 else "bg"] = None
        elif code in (38, 48) and len(codes) >= 2 and codes[0] == 5:
            changes["fg" if code == 38 else "bg"] = codes[1]
            del codes[:2]
        elif code in (38, 48) and len(codes) >= 4 and codes[0] == 2:
            changes["fg" if code == 38 else "bg"] = (codes[1], codes[2], codes[3])
            del codes[:4]
    return replace(look, **changes)  # type: ignore[arg-type]


def parse_capture(lines: list[str], columns: int) -> list[list[Look]]:
    """`capture-pane -p -e` output (SGR escapes between characters) as rows of cells."""
    rows = []
    look = Look("")
    line_drawing = False  # tmux marks DEC line-drawing cells with SO ... SI, across lines too
    for line in lines:
        row: list[Look] = []
        position = 0
        joining = False  # the previous character was a zero-width joiner
        while position < len(line):
            match = _SGR.match(line, position)
            if match:
                look = _apply_sgr(look, match.group(1))
                position = match.end()
                continue
            char = line[position]
            position += 1
            if char in "\x0e\x0f":
                line_drawing = char == "\x0e"
                continue
            if line_drawing:
                char = charsets.VT100_MAP[ord(char)] if ord(char) < 256 else char
            width = tmux_width(char)
            joined, joining = joining and not char.isascii(), char == ZERO_WIDTH_JOINER
            if (width == 0 or joined) and row:  # a zero-width tail joins the cell before it
                index = len(row) - 2 if row[-1].data == "" and len(row) > 1 else len(row) - 1
                row[index] = replace(row[index], data=row[index].data + char)
                continue
            row.append(Look(char, *_attrs(look)))
            if width == 2:
                row.append(Look("", *_attrs(look)))
        row.extend(Look(" ", *_attrs(Look(""))) for _ in range(columns - len(row)))
        rows.append(row[:columns])
    return rows


def _attrs(look: Look) -> tuple[Colour, Colour, bool, bool, bool]:
    return look.fg, look.bg, look.bold, look.underline, look.reverse


class Tmux:
    """A private tmux server with one session attached to a computer through the CLI."""

    def __init__(self, columns: int, lines: int) -> None:
        assert TMUX is not None
        self.columns, self.lines = columns, lines
        self._home = tempfile.mkdtemp(prefix="celesto-golden-")
        self.socket = os.path.join(self._home, "tmux.sock")
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("TMUX")}
        self.env["TERM"] = "xterm-256color"

    def _run(self, *args: str) -> str:
        command = [str(TMUX), "-S", self.socket, "-f", "/dev/null", *args]
        result = subprocess.run(
            command, env=self.env, capture_output=True, text=True, timeout=10, check=True
        )
        return result.stdout

    def start(self, argv: list[str], env: dict[str, str]) -> None:
        """Run `argv` (with `env` added, and the repository importable) in the tmux pane."""
        options = [f"{name}={value}" for name, value in {**env, "PYTHONPATH": str(REPO)}.items()]
        self._run(
            "new-session",
            "-d",
            "-s",
            "golden",
            "-x",
            str(self.columns),
            "-y",
            str(self.lines),
            *(item for option in options for item in ("-e", option)),
            shlex.join(argv),
        )
        self._run("set-option", "-t", "golden", "status", "off")
        self._run("set-option", "-t", "golden", "remain-on-exit", "on")

    def attach(self, base_url: str, api_key: str, computer_id: str) -> None:
        """`celesto-tui computer ssh` to a new terminal on the computer."""
        self.start(
            [sys.executable, "-m", "celesto_tui", "computer", "ssh", computer_id],
            {"CELESTO_BASE_URL": base_url, "CELESTO_API_KEY": api_key},
        )

    def size(self) -> tuple[int, int]:
        width, height = self._run(
            "display-message", "-p", "-t", "golden", "#{pane_width} #{pane_height}"
        ).split()
        return int(width), int(height)

    def send(self, text: str, enter: bool = True) -> None:
        self._run("send-keys", "-t", "golden", "-l", text)
        if enter:
            self._run("send-keys", "-t", "golden", "Enter")

    def keys(self, *names: str) -> None:
        self._run("send-keys", "-t", "golden", *names)

    def text(self) -> list[str]:
        """The rows as tmux shows them (line-drawing characters as such), blanks removed."""
        return ["".join(look.data for look in row).rstrip() for row in self.looks()]

    def looks(self) -> list[list[Look]]:
        return parse_capture(self._capture("-e"), self.columns)

    def _capture(self, *options: str) -> list[str]:
        out = self._run("capture-pane", "-p", "-t", "golden", *options)
        lines = out.split("\n")[: self.lines]
        return lines + [""] * (self.lines - len(lines))

    def cursor(self) -> tuple[int, int]:
        x, y = self._run("display-message", "-p", "-t", "golden", "#{cursor_x} #{cursor_y}").split()
        return int(x), int(y)

    async def wait_for(self, needle: str, timeout: float = 15.0) -> list[str]:
        """Until `needle` shows and the screen stopped changing."""
        deadline = time.monotonic() + timeout
        previous: list[str] | None = None
        while True:
            current = self.text()
            if previous == current and needle in "\n".join(current):
                return current
            if time.monotonic() > deadline:
                joined = "\n".join(current)
                raise AssertionError(f"tmux never showed {needle!r}; it shows:\n{joined}")
            previous = current
            await asyncio.sleep(0.1)

    def close(self) -> None:
        subprocess.run(
            [str(TMUX), "-S", self.socket, "kill-server"],
            env=self.env,
            capture_output=True,
            timeout=10,
            check=False,
        )
        shutil.rmtree(self._home, ignore_errors=True)
