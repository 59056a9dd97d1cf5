"""The footer's key hints (one widget, Textual's footer look): a click presses the key, the
palette key sits on the right, the hints follow the focus, the wheel scrolls the hints that
do not fit, and a disabled key is dimmed and does nothing."""

from __future__ import annotations

from typing import Any

from textual import events
from textual.app import App, ComposeResult
from textual.command import CommandPalette

from celesto_tui.app.screens.help import HelpScreen
from celesto_tui.app.widgets.key_hints import KeyHints, PlacedHint

from .conftest import AppFactory, computers_view, loaded, select, wait_for


def wheel(kind: type[events.MouseEvent], widget: KeyHints) -> events.MouseEvent:
    """A turn of the wheel over the hints (Pilot has no wheel)."""
    return kind(widget, 5, 0, 0, 1, 0, False, False, False)


def spot_of(hints: KeyHints, action: str) -> PlacedHint:
    return next(spot for spot in hints.placed() if spot.hint.action == action)


async def test_a_click_on_a_hint_presses_its_key(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=(160, 40)) as pilot:
        await loaded(pilot)
        hints = app.screen.query_one(KeyHints)
        help_spot = spot_of(hints, "help")
        assert help_spot.x == 0  # first, whatever has the focus
        await pilot.click(KeyHints, offset=(help_spot.x + 1, 0))
        await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen), what="help")
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, HelpScreen), what="back")

        palette = hints.palette
        assert palette is not None and palette.key == "ctrl+p"
        spot = spot_of(hints, palette.action)
        assert spot.right == 160 - 1  # docked right, a cell of padding after it
        assert hints.render().plain.endswith("▏^p Palette ")
        await pilot.click(KeyHints, offset=(spot.x, 0))
        await wait_for(pilot, lambda: isinstance(app.screen, CommandPalette), what="palette")


async def test_the_hints_follow_the_focus(
    make_app: AppFactory, running_computer: dict[str, Any]
) -> None:
    app = make_app()
    async with app.run_test(size=(160, 40)) as pilot:
        await loaded(pilot)
        await select(pilot, running_computer["id"])
        hints = app.screen.query_one(KeyHints)
        on_table = [spot.hint.action for spot in hints.placed()]
        assert "create" in on_table
        await pilot.press("e")
        view = computers_view(app)
        await wait_for(pilot, lambda: view.exec_pane.prompt.has_focus, what="the prompt")
        await wait_for(
            pilot,
            lambda: [spot.hint.action for spot in hints.placed()] != on_table,
            what="the prompt's keys",
        )
        assert hints.placed()[0].hint.action == "help"


async def test_the_wheel_scrolls_hints_that_do_not_fit(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(pilot)
        hints = app.screen.query_one(KeyHints)
        keys = [spot for spot in hints.placed() if spot.hint is not hints.palette]
        limit = 80 - (hints.palette.width + 2 if hints.palette else 0)
        assert keys[-1].right > limit, "the test needs more hints than 80 columns hold"
        for _ in range(40):
            hints.post_message(wheel(events.MouseScrollDown, hints))
        await pilot.pause()
        keys = [spot for spot in hints.placed() if spot.hint is not hints.palette]
        assert keys[-1].right <= limit  # the last hint came into view
        assert keys[0].x < 0
        # A click lands on what is drawn there now, not on the first hint.
        shown = next(spot for spot in keys if spot.x >= 0)
        assert hints._hint_at(shown.x) is shown.hint
        for _ in range(40):
            hints.post_message(wheel(events.MouseScrollUp, hints))
        await pilot.pause()
        assert hints.placed()[0].x == 0
        # Scrolled, then room for every hint: none stays scrolled out of view.
        for _ in range(40):
            hints.post_message(wheel(events.MouseScrollDown, hints))
        await pilot.pause()
        assert hints.placed()[0].x < 0
        await pilot.resize_terminal(200, 24)
        await pilot.pause()
        assert hints.placed()[0].x == 0
        assert hints.render().plain.startswith(" ? Keys ")


class WithDisabledKey(App[None]):
    """No dashboard key is ever disabled (they are hidden): a small app with one that is."""

    BINDINGS = [("d", "disabled", "Disabled"), ("e", "enabled", "Enabled")]

    def __init__(self) -> None:
        super().__init__()
        self.pressed: list[str] = []

    def compose(self) -> ComposeResult:
        yield KeyHints(show_palette=False)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return None if action == "disabled" else True

    def on_key_hints_pressed(self, message: KeyHints.Pressed) -> None:
        self.pressed.append(message.key)


async def test_a_disabled_hint_is_dimmed_and_a_click_on_it_does_nothing() -> None:
    app = WithDisabledKey()
    async with app.run_test(size=(60, 5)) as pilot:
        hints = app.query_one(KeyHints)
        await wait_for(pilot, lambda: len(hints.placed()) == 2, what="two hints")
        disabled, enabled = hints.placed()
        assert (disabled.hint.enabled, enabled.hint.enabled) == (False, True)
        drawn = hints.render()
        assert drawn.plain.startswith(" d Disabled  e Enabled ")

        def dim_at(column: int) -> bool:
            return any(
                getattr(span.style, "dim", False)
                for span in drawn.spans
                if span.start <= column < span.end
            )

        assert dim_at(disabled.x + 1) and not dim_at(enabled.x + 1)
        await pilot.click(KeyHints, offset=(disabled.x + 1, 0))
        await pilot.click(KeyHints, offset=(enabled.x + 1, 0))
        await wait_for(pilot, lambda: app.pressed, what="the enabled key pressed")
        assert app.pressed == ["e"]
