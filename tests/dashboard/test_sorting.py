"""Sorting by a column directly: clicking its header (again: reversed) or picking it from the
`S` list (type to filter, Enter sorts); the header shows ▲/▼ and the sort is remembered."""

from __future__ import annotations

from typing import Any

from textual.pilot import Pilot

from celesto_tui.app.celesto_app import CelestoApp
from celesto_tui.app.screens.sort_picker import SortPickerScreen
from celesto_tui.app.widgets.resource_table import ResourceTable

from .conftest import AppFactory, computers_view, loaded, saved_state, wait_for


def header(table: ResourceTable, key: str) -> str:
    return table.columns[key].label.plain  # type: ignore[index]


async def click_header(pilot: Pilot[Any], table: ResourceTable, key: str) -> None:
    await pilot.pause()  # the widths of rows just added are measured on the next refresh
    assert await pilot.click(table, offset=(header_x(table, key), 1))


def header_x(table: ResourceTable, key: str) -> int:
    """The x offset, inside the table, of the middle of column ``key``'s header."""
    x = 1  # the table's border
    for column_key, column in table.columns.items():
        width = column.get_render_width(table)
        if column_key.value == key:
            return x + width // 2
        x += width
    raise KeyError(key)


def sorted_rows(app: CelestoApp, kind: str) -> bool:
    view = app.views[kind]
    return view.rows is not None and view.rows.params == view.params


async def test_clicking_a_header_sorts_by_it_and_again_reverses(
    make_app: AppFactory, running_computer: dict[str, Any]
) -> None:
    app = make_app()
    async with app.run_test(size=(160, 40)) as pilot:
        await loaded(pilot)
        view = computers_view(app)
        table = view.table
        await wait_for(
            pilot, lambda: running_computer["id"] in table.rows, what="the computer's row"
        )
        assert header(table, "name") == "Name ▲"  # the default sort shows too
        ports = view.ports_pane.table  # its order is fixed: no arrow to suggest otherwise
        assert all("▲" not in header(ports, key) for key in ports.spec.column_keys)
        await click_header(pilot, table, "memory")
        await wait_for(pilot, lambda: view.params.sort == "memory", what="sorted by memory")
        assert not view.params.reverse
        assert header(table, "memory") == "Memory ▲"
        assert header(table, "name") == "Name"
        await click_header(pilot, table, "memory")
        await wait_for(pilot, lambda: view.params.reverse, what="reversed")
        assert header(table, "memory") == "Memory ▼"
        await wait_for(
            pilot,
            lambda: (
                saved_state().get("views", {}).get("computers")
                == {"sort": "memory", "reverse": True, "filter": ""}
            ),
            what="the sort saved",
        )

    again = make_app()
    async with again.run_test(size=(160, 40)) as pilot:
        await loaded(pilot)
        assert header(computers_view(again).table, "memory") == "Memory ▼"


async def test_the_sort_picker_filters_as_typed_and_enter_sorts(
    make_app: AppFactory, running_computer: dict[str, Any]
) -> None:
    app = make_app()
    async with app.run_test(size=(160, 40)) as pilot:
        await loaded(pilot)
        view = computers_view(app)
        # Typed right behind S: the letters land in the picker's field, in order.
        await pilot.press("S", *"ram", "enter")
        await wait_for(pilot, lambda: view.params.sort == "ram", what="sorted by RAM used")
        assert not isinstance(app.screen, SortPickerScreen)
        assert header(view.table, "ram") == "RAM used ▲"
        await wait_for(pilot, lambda: sorted_rows(app, "computers"), what="the rows re-sorted")

        await pilot.press("S")
        await wait_for(pilot, lambda: isinstance(app.screen, SortPickerScreen))
        picker = app.screen
        assert isinstance(picker, SortPickerScreen)
        options = picker.query_one("#sort-columns")
        prompts = [str(options.get_option_at_index(i).prompt) for i in range(options.option_count)]  # type: ignore[attr-defined]
        assert "RAM used ▲" in prompts  # the current one, marked
        assert options.highlighted == prompts.index("RAM used ▲")  # type: ignore[attr-defined]
        await pilot.press(*"cpu")
        await wait_for(pilot, lambda: options.option_count == 2, what="CPUs and CPU% left")  # type: ignore[attr-defined]
        await pilot.press("down", "enter")  # the second match: CPU%
        await wait_for(pilot, lambda: view.params.sort == "cpu", what="sorted by CPU%")

        await pilot.press("S", "enter")  # the current column again: reversed
        await wait_for(pilot, lambda: view.params.reverse, what="reversed")
        assert header(view.table, "cpu") == "CPU% ▼"

        await pilot.press("S", *"nothing-like-this", "enter", "escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, SortPickerScreen))
        assert (view.params.sort, view.params.reverse) == ("cpu", True)


async def test_the_picker_lists_only_the_columns_on_screen(
    make_app: AppFactory, running_computer: dict[str, Any]
) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(pilot)
        table = computers_view(app).table
        await wait_for(pilot, lambda: "id" in table.hidden_columns, what="the id folded away")
        await pilot.press("S")
        await wait_for(pilot, lambda: isinstance(app.screen, SortPickerScreen))
        assert isinstance(app.screen, SortPickerScreen)
        keys = [key for key, _ in app.screen.matching("")]
        assert "id" not in keys and "name" in keys and "age" in keys
        await pilot.press("escape")


async def test_deployments_sort_by_picker_and_header(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=(160, 40)) as pilot:
        await loaded(pilot)
        await pilot.press("2")
        view = app.views["deployments"]
        await wait_for(pilot, lambda: view.table.loaded, what="deployments")
        await pilot.press("S", *"upd", "enter")
        await wait_for(pilot, lambda: view.params.sort == "updated", what="sorted by Updated")
        assert header(view.table, "updated") == "Updated ▲"
        await click_header(pilot, view.table, "status")
        await wait_for(pilot, lambda: view.params.sort == "status", what="sorted by Status")
        assert header(view.table, "status") == "Status ▲"
        assert header(view.table, "updated") == "Updated"
