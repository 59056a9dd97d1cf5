"""Golden tests: real programs in a computer render in the pane as in tmux, cell for cell.

Each test runs a program twice on the same computer of the embedded backend: in the pane
(through its WebSocket connection) and in a tmux pane of the same size attached with
`celesto-tui computer ssh`. Text, colours, attributes and the cursor must match.
"""

from __future__ import annotations

import contextlib
import shutil
import textwrap
import unicodedata
from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any

import pytest
from rich.cells import cell_len
from textual.pilot import Pilot

from celesto_api import AsyncCelesto
from celesto_api.local import LocalServer

from .conftest import PaneApp, wait_for_text, wait_prompt
from .golden import TMUX, TMUX_VERSION, Look, Tmux, widget_looks, widget_text

pytestmark = pytest.mark.skipif(
    TMUX is None, reason="tmux is not installed (apt-get install -y tmux)"
)

COLUMNS, LINES = 80, 24

SETUP = r"""
set -e
mkdir -p ~/golden/ls/alpha ~/golden/ls/beta
cd ~/golden/ls
printf 'notes\n' > notes.txt
printf '#!/bin/sh\necho run\n' > run.sh && chmod +x run.sh
: > archive.tar.gz; : > photo.png; : > data.json; : > README
ln -sf notes.txt link-to-notes; ln -sf missing broken-link
mkdir -p shared && chmod 1777 shared
cd ~/golden
seq 1 300 | sed 's/^/line /; s/$/: the quick brown fox jumps over the lazy dog/' > numbers.txt
printf '\033[1;31mred bold\033[0m plain \033[42mgreen bg\033[0m \033[38;5;208morange\033[0m\n' \
    > colours.txt
seq 1 80 | sed 's/^/more /' >> colours.txt
"""

CURSES = textwrap.dedent(
    """
    import curses, locale
    locale.setlocale(locale.LC_ALL, "")

    def main(screen):
        curses.start_color()
        curses.use_default_colors()
        curses.init_pair(1, curses.COLOR_RED, -1)
        curses.init_pair(2, curses.COLOR_BLACK, curses.COLOR_CYAN)
        curses.init_pair(3, 208, -1)
        curses.curs_set(0)
        screen.box()
        screen.addstr(1, 2, "CURSES-READY", curses.A_BOLD)
        screen.addstr(2, 2, "red text", curses.color_pair(1))
        screen.addstr(3, 2, " black on cyan ", curses.color_pair(2))
        screen.addstr(4, 2, "orange 256 underlined", curses.color_pair(3) | curses.A_UNDERLINE)
        screen.addstr(5, 2, "reverse", curses.A_REVERSE)
        screen.addstr(6, 2, "wide: 日本語 ok")
        screen.hline(8, 1, curses.ACS_HLINE, 40)
        screen.vline(9, 45, curses.ACS_VLINE, 8)
        screen.refresh()
        window = curses.newwin(7, 30, 10, 8)
        window.bkgd(" ", curses.color_pair(2))
        window.box()
        window.addstr(2, 3, "an inner window")
        window.addstr(4, 3, "-" * 20)
        window.refresh()
        screen.getch()

    curses.wrapper(main)
    """
)


def visible(look: Look) -> Look:
    """The cell without what cannot be seen: the foreground of a plain blank (tmux drops it
    when erasing with a background colour, xterm and pyte keep it)."""
    if look.data == " " and not (look.underline or look.reverse):
        return replace(look, fg=None, bold=False)
    return replace(look, data=composed(look.data))


def as_painted(row: list[Look]) -> str:
    """What the pane paints for tmux's cells: a cell's first character and its combining marks
    (joiners, what they join and variation selectors would change glyph widths behind the
    outer terminal's back), padded to the cell's width; a skin-tone modifier, which Rich gives
    no width, as a swatch (two blanks in text)."""
    painted = []
    for x, look in enumerate(row):
        if not look.data:
            continue
        width = 2 if x + 1 < len(row) and row[x + 1].data == "" else 1
        if "\U0001f3fb" <= look.data[0] <= "\U0001f3ff":
            painted.append(" " * width)
            continue
        text = composed(look.data[0] + "".join(filter(unicodedata.combining, look.data[1:])))
        painted.append(text + " " * (width - cell_len(text)))
    return "".join(painted).rstrip()


def composed(text: str) -> str:
    """pyte composes a combining mark with its base (NFC); tmux keeps what was sent."""
    return unicodedata.normalize("NFC", text)


class Pair:
    """The pane and a tmux pane on the same computer, driven together."""

    def __init__(self, pilot: Pilot[None], app: PaneApp, tmux: Tmux) -> None:
        self.pilot, self.app, self.tmux = pilot, app, tmux
        self.view = app.pane.view

    async def run(self, command: str, marker: str, enter: bool = True) -> None:
        self.view.send(command.encode() + (b"\r" if enter else b""))
        self.tmux.send(command, enter)
        await self.settle(marker)

    async def keys(self, pane_bytes: bytes, tmux_keys: tuple[str, ...], marker: str) -> None:
        self.view.send(pane_bytes)
        self.tmux.keys(*tmux_keys)
        await self.settle(marker)

    async def settle(self, marker: str) -> None:
        await wait_for_text(self.pilot, self.view, marker)
        previous: list[str] = []
        while (current := widget_text(self.view)) != previous or self.view.pending_bytes:
            previous = current
            await self.pilot.pause(0.1)
        await self.tmux.wait_for(marker)

    def look_of(self, word: str) -> tuple[object, object, bool]:
        """(fg, bg, bold) of the first cell of `word` in the pane (after `assert_same`)."""
        for y, line in enumerate(widget_text(self.view)):
            if word in line:
                look = widget_looks(self.view)[y][line.index(word)]
                return look.fg, look.bg, look.bold
        raise AssertionError(f"{word!r} is not on the screen")

    def assert_same(self) -> None:
        theirs, cells = self.tmux.looks(), widget_looks(self.view)
        expected = [as_painted(row) for row in theirs]
        ours = [composed(line) for line in widget_text(self.view)]
        assert ours == expected, "\n".join(["tmux:", *expected, "pane:", *ours])
        for y, (their_row, our_row) in enumerate(zip(theirs, cells, strict=True)):
            for x, (their, our) in enumerate(zip(their_row, our_row, strict=True)):
                assert visible(our) == visible(their), f"cell ({x}, {y}): tmux {their}, pane {our}"
        terminal = self.view.terminal
        if terminal.cursor_visible:
            assert (terminal.cursor.x, terminal.cursor.y) == self.tmux.cursor()


@pytest.fixture
async def prepared(async_sdk: AsyncCelesto, running_computer: dict[str, Any]) -> dict[str, Any]:
    result = await async_sdk.computers.exec(running_computer["id"], SETUP)
    assert result["exit_code"] == 0, result
    script = f"cat > ~/golden/draw.py <<'PYEOF'\n{CURSES}\nPYEOF"
    result = await async_sdk.computers.exec(running_computer["id"], script)
    assert result["exit_code"] == 0, result
    return running_computer


@contextlib.asynccontextmanager
async def pair(
    aclient: AsyncCelesto, computer: dict[str, Any], server: LocalServer
) -> AsyncIterator[Pair]:
    tmux = Tmux(COLUMNS, LINES)
    try:
        tmux.attach(server.base_url, server.api_key, computer["id"])
        app = PaneApp(aclient, computer["id"], computer["name"])
        async with app.run_test(size=(COLUMNS + 2, LINES + 2)) as pilot:
            await wait_prompt(pilot, app.pane)
            await tmux.wait_for("$")
            assert tmux.size() == (COLUMNS, LINES)
            assert app.pane.view.size == (COLUMNS, LINES)
            both = Pair(pilot, app, tmux)
            await both.run("cd ~/golden && clear", "~/golden$")
            yield both
    finally:
        tmux.close()


async def test_bash_prompt_and_output(
    async_sdk: AsyncCelesto, prepared: dict[str, Any], local_server: LocalServer
) -> None:
    async with pair(async_sdk, prepared, local_server) as both:
        await both.run("echo one; printf 'two\\tcols\\n'; echo $((6*7))", "42")
        both.assert_same()


async def test_coloured_ls(
    async_sdk: AsyncCelesto, prepared: dict[str, Any], local_server: LocalServer
) -> None:
    async with pair(async_sdk, prepared, local_server) as both:
        await both.run("clear; ls --color=always -F ls; ls --color=always ls | head -3", "alpha")
        both.assert_same()
        assert both.look_of("alpha") == (4, None, True)  # directories: bold blue
        assert both.look_of("archive.tar.gz") == (1, None, True)  # archives: bold red


async def test_python_curses_program(
    async_sdk: AsyncCelesto, prepared: dict[str, Any], local_server: LocalServer
) -> None:
    async with pair(async_sdk, prepared, local_server) as both:
        await both.run("python3 draw.py", "an inner window")
        both.assert_same()
        assert both.look_of("red text") == (1, None, False)
        assert both.look_of("black on cyan") == (0, 6, False)
        assert both.look_of("orange") == (208, None, False)
        await both.keys(b"q", ("q",), "$")
        both.assert_same()


async def test_less_pages_and_restores_the_shell_screen(
    async_sdk: AsyncCelesto, prepared: dict[str, Any], local_server: LocalServer
) -> None:
    async with pair(async_sdk, prepared, local_server) as both:
        await both.run("echo before-less", "before-less")
        await both.run("less numbers.txt", "line 23:")
        both.assert_same()
        await both.keys(b" ", ("Space",), "line 46:")
        both.assert_same()
        await both.keys(b"q", ("q",), "before-less")
        both.assert_same()
        await both.run("less -R colours.txt", "red bold")
        both.assert_same()
        assert both.look_of("red bold") == (1, None, True)
        assert both.look_of("green bg") == (None, 2, False)
        await both.keys(b"q", ("q",), "before-less")


@pytest.mark.skipif(shutil.which("vim") is None, reason="vim is not installed on this machine")
async def test_vim_edits_and_restores_the_shell_screen(
    async_sdk: AsyncCelesto, prepared: dict[str, Any], local_server: LocalServer
) -> None:
    async with pair(async_sdk, prepared, local_server) as both:
        await both.run("echo before-vim", "before-vim")
        await both.run("vim -u NONE -i NONE -N -n numbers.txt", "numbers.txt")
        both.assert_same()
        await both.keys(b"Ggg20Gdd", ("G", "g", "g", "2", "0", "G", "d", "d"), "line 21:")
        both.assert_same()
        await both.keys(b":q!\r", (":q!", "Enter"), "before-vim")
        both.assert_same()


async def test_emoji_and_wide_text(
    async_sdk: AsyncCelesto, prepared: dict[str, Any], local_server: LocalServer
) -> None:
    lines = [
        r"smile \U1F600 party \U1F389 end|",
        r"\u65e5\u672c\u8a9e|",
        r"I \u2764\uFE0F you|",
        r"cafe\u0301 na\u0303o|",
    ]
    async with pair(async_sdk, prepared, local_server) as both:
        await both.run("printf '" + r"\n".join(lines) + r"\n'", "you|")
        both.assert_same()


@pytest.mark.skipif(
    TMUX_VERSION[:2] != (3, 3),
    reason="the capture is cut into cells with tmux 3.3's rules for emoji sequences "
    f"(checked on 3.3a); this is tmux {TMUX_VERSION}",
)
async def test_emoji_sequences_measured_per_code_point(
    async_sdk: AsyncCelesto, prepared: dict[str, Any], local_server: LocalServer
) -> None:
    """Skin-tone modifiers keep cells of their own, a flag is two one-column regional
    indicators, a ZWJ sequence is one cell as wide as its first emoji, as the programs'
    wcwidth and tmux count them."""
    lines = [
        r"thumbs \U1F44D\U1F3FD flag \U1F1EB\U1F1F7 lone \U1F1EA \U1F3FB|",
        r"coder \U1F469\u200d\U1F4BB runner \U1F3C3\u200d\u2640\uFE0F family "
        r"\U1F468\u200d\U1F469\u200d\U1F467 end|",
        r"fire \u2764\uFE0F\u200d\U1F525 keycap 1\uFE0F\u20E3 tone-join "
        r"\U1F44D\U1F3FD\u200d\U1F4BB done|",
    ]
    async with pair(async_sdk, prepared, local_server) as both:
        await both.run("printf '" + r"\n".join(lines) + r"\n'", "done|")
        both.assert_same()
