"""The pane draws a program's colours as tmux does: the ANSI palette, not the theme's shades.

tmux runs two panes of the same size: one shows SAMPLE straight from `printf`, the other the
dashboard's terminal widget (default theme) showing the same bytes. `capture-pane -e` of each
must give every word the same foreground colour and the same dim flag.
"""

from __future__ import annotations

import re
import shlex
import sys

import pytest

from .colour_app import SAMPLE, WORDS
from .golden import TMUX, Tmux

pytestmark = pytest.mark.skipif(
    TMUX is None, reason="tmux is not installed (apt-get install -y tmux)"
)

COLUMNS, LINES = 80, 6
_TOKEN = re.compile(r"\x1b\[([0-9;:]*)m|([^\x1b])")


def words_looks(lines: list[str]) -> dict[str, tuple[object, bool]]:
    """Each word of the capture with the (foreground, dim) of its first character."""
    found: dict[str, tuple[object, bool]] = {}
    fg: object = None
    dim = False
    for line in lines:
        word, look = "", (fg, dim)
        for params, char in _TOKEN.findall(line):
            if params or not char:
                codes = [int(c) if c else 0 for c in params.replace(":", ";").split(";")]
                while codes:
                    code = codes.pop(0)
                    if code == 0:
                        fg, dim = None, False
                    elif code == 2:
                        dim = True
                    elif code == 22:
                        dim = False
                    elif 30 <= code <= 37 or 90 <= code <= 97:
                        fg = code
                    elif code == 39:
                        fg = None
                    elif code in (38, 48) and codes[:1] == [5]:
                        fg = ("256", codes[1]) if code == 38 else fg
                        del codes[:2]
                    elif code in (38, 48) and codes[:1] == [2]:
                        fg = tuple(codes[1:4]) if code == 38 else fg
                        del codes[:4]
                continue
            if char.isalpha():
                if not word:
                    look = (fg, dim)
                word += char
            elif word:
                found.setdefault(word, look)
                word = ""
        if word:
            found.setdefault(word, look)
    return found


async def test_ansi_colours_and_dim_match_tmux() -> None:
    direct, dashboard = Tmux(COLUMNS, LINES), Tmux(COLUMNS, LINES)
    try:
        direct.start(["sh", "-c", f"printf %s {shlex.quote(SAMPLE)}; exec sleep 60"], {})
        dashboard.start([sys.executable, "-m", "tests.terminal_pane.colour_app"], {"COLORTERM": ""})
        await direct.wait_for("end")
        await dashboard.wait_for("end")
        expected = words_looks(direct._capture("-e"))
        shown = words_looks(dashboard._capture("-e"))
        for word, code in WORDS.items():
            assert expected[word] == (code, False)
            assert shown[word][0] == code, f"{word}: tmux shows {code}, the pane {shown[word]}"
            assert not shown[word][1]
        assert expected["dimmed"][1] and expected["dimred"] == (31, True)
        assert shown["dimmed"][1], f"dim drawn as {shown['dimmed']}"
        assert shown["dimred"] == (31, True)
    finally:
        direct.close()
        dashboard.close()
