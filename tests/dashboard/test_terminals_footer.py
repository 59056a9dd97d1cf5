"""The terminals screen at 80x24: every key hint of its footer is on screen, whether the
terminal has the focus (the tab keys) or not (the app's keys too: help, back, quit)."""

from __future__ import annotations

from itertools import pairwise
from typing import Any

from textual.widgets import Tabs

from celesto_tui.app.widgets.key_hints import KeyHints
from celesto_tui.terminal.terminals_screen import TerminalsScreen

from .conftest import AppFactory, loaded, wait_for
from .test_shell_mark import open_shell


def footer_keys(screen: TerminalsScreen) -> list[tuple[str, int, int]]:
    """(action, first column, past the last column) of each key hint."""
    footer = screen.query_one(KeyHints)
    return [(spot.hint.action, spot.x, spot.right) for spot in footer.placed()]


def assert_all_within(keys: list[tuple[str, int, int]], width: int) -> None:
    assert keys
    for action, left, right in keys:
        assert left >= 0 and right <= width, f"{action} at {left}..{right}"
    spans = sorted((left, right) for _, left, right in keys)
    for (_, end), (start, _) in pairwise(spans):
        assert end <= start, "key hints drawn over each other"


async def test_every_key_hint_fits_80_columns(
    make_app: AppFactory, running_computer: dict[str, Any]
) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(pilot)
        screen = await open_shell(pilot, str(running_computer["id"]))
        await wait_for(pilot, lambda: len(footer_keys(screen)) >= 4, what="the footer")
        keys = footer_keys(screen)
        assert {"next_tab", "previous_tab", "close_tab", "pop_out"} <= {a for a, _, _ in keys}
        assert_all_within(keys, 80)

        screen.query_one(Tabs).focus()  # off the terminal: the app's keys show too
        await wait_for(
            pilot, lambda: "help" in {a for a, _, _ in footer_keys(screen)}, what="app keys"
        )
        keys = footer_keys(screen)
        actions = [action for action, _, _ in keys]
        assert actions[:2] == ["help", "back"]  # help and the way back first
        assert {"quit", "next_tab", "close_tab", "pop_out"} <= set(actions)
        assert_all_within(keys, 80)
