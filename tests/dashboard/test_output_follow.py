"""The exec output follows new lines (k9s-style): scrolled up it stays put and its border
counts what came since; `f` (or reaching the end) follows again. A burst of lines added in
one frame never reads as "scrolled up"."""

from __future__ import annotations

from typing import Any

from textual.app import App, ComposeResult

from celesto_tui.app.widgets.output_log import OutputLog

from .conftest import wait_for


class OutputApp(App[None]):
    def compose(self) -> ComposeResult:
        yield OutputLog(id="out")


def lines(count: int, start: int = 0) -> list[str]:
    return [f"line {number}" for number in range(start, start + count)]


async def test_scrolling_up_pauses_and_f_follows_again() -> None:
    app = OutputApp()
    async with app.run_test(size=(60, 12)) as pilot:
        log = app.query_one(OutputLog)
        log.focus()
        for number in range(0, 200, 10):  # a burst: twenty adds before any repaint
            log.add_lines("stdout", lines(10, number))
        await wait_for(pilot, lambda: log.scroll_offset.y == log.max_scroll_y > 0)
        assert log.following and not log.border_subtitle

        await pilot.press("pageup")
        await wait_for(pilot, lambda: not log.following, what="paused")
        held = log.scroll_offset.y
        log.add_lines("stdout", lines(3, 200))
        log.add("stderr", "boom")
        await pilot.pause()
        assert log.scroll_offset.y == held  # stays put
        assert log.border_subtitle == "paused · 4 new lines · f follows"

        await pilot.press("f")
        await wait_for(pilot, lambda: log.scroll_offset.y == log.max_scroll_y, what="the end")
        assert log.following and not log.border_subtitle and log.unseen == 0
        log.add_lines("stdout", lines(5, 300))
        await wait_for(pilot, lambda: log.scroll_offset.y == log.max_scroll_y, what="followed")
        assert not log.border_subtitle


async def test_scrolling_back_to_the_end_follows_again() -> None:
    app = OutputApp()
    async with app.run_test(size=(60, 12)) as pilot:
        log: Any = app.query_one(OutputLog)
        log.focus()
        log.add_lines("stdout", lines(100))
        await wait_for(pilot, lambda: log.scroll_offset.y == log.max_scroll_y > 0)
        await pilot.press("home")
        await wait_for(pilot, lambda: not log.following)
        log.add("stdout", "one more")
        await pilot.pause()
        assert log.border_subtitle == "paused · 1 new line · f follows"
        await pilot.press("end")
        await wait_for(pilot, lambda: log.following, what="following")
        assert not log.border_subtitle
