"""An 80x24 terminal: help stays in the footer, the id column folds away before the live
columns, the exec output gets room, and tables fit without a horizontal scrollbar."""

from __future__ import annotations

from typing import Any

from celesto_tui.app.screens.help import HelpScreen
from celesto_tui.app.widgets.key_hints import KeyHints, PlacedHint

from .conftest import AppFactory, computers_view, loaded, select, wait_for


def help_key(app: Any) -> PlacedHint | None:
    for spot in app.screen.query_one(KeyHints).placed():
        if spot.hint.action == "help":
            return spot
    return None


async def test_80x24_keeps_help_the_live_columns_and_room_for_output(
    make_app: AppFactory, running_computer: dict[str, Any]
) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(pilot)
        await select(pilot, running_computer["id"])
        view = computers_view(app)
        table = view.table
        await wait_for(pilot, lambda: help_key(app) is not None, what="the footer")
        key = help_key(app)
        assert key is not None and key.x >= 0 and key.right <= 80, key
        assert key.hint.description == "Keys"
        assert "? Keys" in app.screen.query_one(KeyHints).render().plain

        assert table.hidden_columns[:1] == ("id",)
        shown = [str(c.label) for c in table.ordered_columns if c.get_render_width(table) > 2]
        assert {"CPU%", "RAM used", "Age"} <= set(shown), shown
        assert table.virtual_size.width <= table.scrollable_content_region.width
        assert not table.show_horizontal_scrollbar

        await pilot.press("e")
        await wait_for(pilot, lambda: view.exec_pane.prompt.has_focus, what="the prompt")
        assert view.exec_pane.output.scrollable_content_region.height > 4
        key = help_key(app)  # "?" types into the prompt: help has another key there
        assert key is not None and key.x >= 0 and key.right <= 80, key
        await pilot.press("f1")
        await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen), what="help")


async def test_wide_layouts_keep_the_id_column(
    make_app: AppFactory, running_computer: dict[str, Any]
) -> None:
    app = make_app()
    async with app.run_test(size=(160, 40)) as pilot:
        await loaded(pilot)
        await select(pilot, running_computer["id"])
        table = computers_view(app).table
        assert table.hidden_columns == ()
        row = [str(cell) for cell in table.get_row(running_computer["id"])]
        assert running_computer["id"] in row
