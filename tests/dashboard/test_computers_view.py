"""The computers view against the real backend: columns, live diffs, filter, sort, marks."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual.widgets import Static

from celesto_api import AsyncCelesto, limits
from celesto_api.local import LocalServer
from celesto_tui.app.widgets.overview_pane import egress_text
from celesto_tui.model.computers_table import COMPUTERS

from .conftest import (
    AppFactory,
    computers_view,
    loaded,
    local_target,
    plain,
    saved_state,
    select,
    wait_for,
)


async def test_table_shows_every_column_with_glyph_and_counts(
    make_app: AppFactory, running_computer: dict[str, Any]
) -> None:
    app = make_app()
    async with app.run_test(size=(160, 40)) as pilot:
        await loaded(pilot)
        view = computers_view(app)
        await select(pilot, running_computer["id"])
        labels = [str(column.label) for column in view.table.columns.values()]
        assert labels[1:] == [column.label for column in COMPUTERS.columns]
        row = [str(cell) for cell in view.table.get_row(running_computer["id"])]
        assert row[1:4] == [running_computer["name"], running_computer["id"], "● running"]
        assert row[4] == str(running_computer["vcpus"])
        title = plain(view.table.border_title)
        assert "Computers" in title and "running" in title
        # The detail panes follow the cursor.
        assert view.overview.computer is not None
        assert view.overview.computer["id"] == running_computer["id"]


async def test_polls_keep_cursor_and_marks_and_flash_changed_rows(
    make_app: AppFactory, async_sdk: AsyncCelesto, running_computer: dict[str, Any]
) -> None:
    other = await async_sdk.computers.create()
    app = make_app(refresh=0.1)
    async with app.run_test(size=(160, 40)) as pilot:
        await loaded(pilot)
        view = computers_view(app)
        await select(pilot, other["id"])
        await pilot.press("space")  # mark it (the cursor moves on)
        assert other["id"] in view.table.marks
        await select(pilot, running_computer["id"])
        polls = app.pollers["computers"].polls
        await async_sdk.computers.stop(other["id"])
        await wait_for(pilot, lambda: app.pollers["computers"].polls >= polls + 3, what="polls")
        assert view.table.selected_key() == running_computer["id"]
        assert other["id"] in view.table.marks
        assert "1 marked" in plain(view.table.border_title)
        await wait_for(
            pilot,
            lambda: (
                other["id"] in view.table.flashing
                or app.model.items["computers"][other["id"]]["status"] == "stopped"
            ),
            what="the stopped row to change",
        )
        await pilot.press("M")  # clear marks
        assert not view.table.marks
    await async_sdk.computers.delete(other["id"])


async def test_filter_is_kept_across_refreshes_shown_and_remembered(
    make_app: AppFactory, running_computer: dict[str, Any], async_sdk: AsyncCelesto
) -> None:
    other = await async_sdk.computers.create()
    app = make_app(refresh=0.1)
    async with app.run_test(size=(160, 40)) as pilot:
        await loaded(pilot)
        view = computers_view(app)
        await wait_for(pilot, lambda: other["id"] in view.table.rows)
        await pilot.press("slash", *running_computer["name"])
        await wait_for(pilot, lambda: other["id"] not in view.table.rows, what="filtering")
        assert running_computer["id"] in view.table.rows
        await pilot.press("enter")
        assert view.table.has_focus
        polls = app.pollers["computers"].polls
        await wait_for(pilot, lambda: app.pollers["computers"].polls >= polls + 2)
        assert other["id"] not in view.table.rows
        assert f'filter "{running_computer["name"]}"' in plain(view.table.border_title)
        # Words can target a column and be negated.
        view.filter_bar.value = f"!name:{running_computer['name']}"
        await wait_for(pilot, lambda: running_computer["id"] not in view.table.rows)
        assert other["id"] in view.table.rows
        view.filter_bar.value = running_computer["name"]
        await wait_for(pilot, lambda: running_computer["id"] in view.table.rows)
        # The state is saved (off the UI thread) shortly after.
        await wait_for(
            pilot,
            lambda: (
                saved_state().get("views", {}).get("computers", {}).get("filter")
                == running_computer["name"]
            ),
            what="the filter saved",
        )
    assert saved_state()["views"]["computers"]["filter"] == running_computer["name"]

    again = make_app()
    async with again.run_test(size=(160, 40)) as pilot:
        await loaded(pilot)
        view = computers_view(again)
        assert view.params.filter.text == running_computer["name"]
        assert other["id"] not in view.table.rows
        await pilot.press("slash", "escape")  # escape clears the filter
        await wait_for(pilot, lambda: other["id"] in view.table.rows)
        assert not view.filter_bar.has_class("shown")
    await async_sdk.computers.delete(other["id"])


async def test_sort_by_column_is_remembered(
    make_app: AppFactory, running_computer: dict[str, Any]
) -> None:
    app = make_app()
    async with app.run_test(size=(160, 40)) as pilot:
        await loaded(pilot)
        view = computers_view(app)
        await pilot.press("o")  # name -> id
        assert view.params.sort == "id"
        await pilot.press("o", "O")  # id -> status, reversed
        assert (view.params.sort, view.params.reverse) == ("status", True)
        assert "sort Status ↓" in plain(view.table.border_title)
        await wait_for(pilot, lambda: view.rows is not None and view.rows.params == view.params)
        order = view.table.keys_in_order()
        assert order == view.rows.order if view.rows else False
        await wait_for(
            pilot,
            lambda: saved_state().get("views", {}).get("computers", {}).get("sort") == "status",
            what="the sort saved",
        )

    again = make_app()
    async with again.run_test(size=(160, 40)) as pilot:
        await loaded(pilot)
        assert computers_view(again).params.sort == "status"
        assert computers_view(again).params.reverse


async def test_clicking_a_header_sorts_by_it(
    make_app: AppFactory, running_computer: dict[str, Any]
) -> None:
    app = make_app()
    async with app.run_test(size=(160, 40)) as pilot:
        await loaded(pilot)
        view = computers_view(app)
        view.table.post_message(
            view.table.HeaderSelected(view.table, view.table.columns["cpus"].key, 4, "CPUs")  # type: ignore[index]
        )
        await wait_for(pilot, lambda: view.params.sort == "cpus")


async def test_polls_never_overlap_even_when_the_api_is_slow(
    make_app: AppFactory, local_server: LocalServer
) -> None:
    app = make_app(refresh=0.01)
    async with app.run_test(size=(160, 40)) as pilot:
        await loaded(pilot)
        poller = app.pollers["computers"]
        original = poller.fetch
        running = peak = 0

        async def counted() -> list[dict[str, Any]]:
            nonlocal running, peak
            running += 1
            peak = max(peak, running)
            try:
                return await original()
            finally:
                running -= 1

        poller.fetch = counted
        local_server.set_faults("latency_ms=150")
        start = poller.polls
        for _ in range(5):
            await pilot.press("r")  # asking for more while one runs queues exactly one
        await wait_for(pilot, lambda: poller.polls >= start + 3, what="three slow polls")
        local_server.set_faults(None)
        assert peak == 1


async def test_overview_shows_fields_raw_json_and_live_metrics(
    make_app: AppFactory, running_computer: dict[str, Any]
) -> None:
    app = make_app()
    async with app.run_test(size=(160, 48)) as pilot:
        await loaded(pilot)
        await select(pilot, running_computer["id"])
        overview = computers_view(app).overview
        await wait_for(
            pilot,
            lambda: "live: CPU" in str(overview.query_one("#overview-metrics", Static).render()),
            what="metrics from the observability endpoint",
        )
        fields = overview.query_one("#overview-fields", Static)
        await pilot.press("enter")  # into the pane below the table
        assert overview.has_focus
        await pilot.press("j")
        assert overview.raw
        assert running_computer["id"] in str(fields.render())  # rendered as JSON
        await pilot.press("j", "escape")
        assert not overview.raw and computers_view(app).table.has_focus


async def test_overview_shows_how_the_computer_reaches_the_network(
    make_app: AppFactory, running_computer: dict[str, Any], local_server: LocalServer
) -> None:
    app = make_app()
    async with app.run_test(size=(160, 48)) as pilot:
        await loaded(pilot)
        await select(pilot, running_computer["id"])
        line = str(computers_view(app).overview.query_one("#overview-egress", Static).render())
        if local_server.isolation == "bwrap":
            assert line.startswith("network: through the egress proxy · ")
            assert " allowed · " in line and " refused · " in line
        else:
            assert line.startswith("network: the host's own")


def test_egress_summary_lists_counters_and_the_last_refusals() -> None:
    refusals = [
        {"destination": f"10.0.0.{n}:80", "reason": f"10.0.0.{n} is a private address"}
        for n in range(5)
    ]
    egress = {
        "mode": "proxy",
        "connections_allowed": 7,
        "connections_refused": 5,
        "bytes_in": 105985,
        "bytes_out": 300,
        "last_refusals": refusals,
    }
    text = egress_text({"local": {"egress": egress}}).splitlines()
    assert text == [
        "network: through the egress proxy · 7 allowed · 5 refused · in 103.5 KB · out 300 B",
        "  refused 10.0.0.2:80: 10.0.0.2 is a private address",
        "  refused 10.0.0.3:80: 10.0.0.3 is a private address",
        "  refused 10.0.0.4:80: 10.0.0.4 is a private address",
    ]
    assert egress_text({"local": {"egress": {"mode": "off"}}}).startswith("network: off")
    assert egress_text({"id": "cloud computer"}) == ""


def test_create_dialog_says_what_open_means_on_each_backend() -> None:
    from celesto_tui.app.screens.create_computer import CreateComputerScreen

    assert CreateComputerScreen().open_network == "open (internet)"
    assert CreateComputerScreen(local_backend=True).open_network == "open (internet via proxy)"
    process = CreateComputerScreen(local_backend=True, host_network=True)
    assert process.open_network == "open (the host's network: not isolated)"


async def test_the_overview_says_why_nothing_is_selected(
    make_app: AppFactory, running_computer: dict[str, Any]
) -> None:
    app = make_app()
    async with app.run_test(size=(160, 40)) as pilot:
        await loaded(pilot)
        view = computers_view(app)
        fields = view.overview.query_one("#overview-fields", Static)
        await pilot.press("slash", *"no-such-computer-anywhere", "enter")
        await wait_for(pilot, lambda: not view.table.row_count, what="an empty table")
        await pilot.pause()
        text = str(fields.render())
        assert "No computer matches the filter" in text and "no-such-computer-anywhere" in text


async def test_an_empty_account_and_the_list_limit_are_said_plainly(
    make_app: AppFactory, tmp_path: Path
) -> None:
    with LocalServer(data_dir=tmp_path / "data") as server:
        app = make_app(target=local_target(server))
        async with app.run_test(size=(160, 40)) as pilot:
            await loaded(pilot)
            fields = computers_view(app).overview.query_one("#overview-fields", Static)
            assert "No computers yet. Press n to create one." in str(fields.render())
        # The API lists at most LIST_LIMIT_MAX computers and has no paging.
        assert server.backend is not None
        store = server.backend.store
        project = store.default_project()["id"]
        for index in range(limits.LIST_LIMIT_MAX + 5):
            store.insert_computer(
                {
                    "id": f"cmp_{index:024d}",
                    "name": f"many-{index:04d}",
                    "status": "stopped",
                    "vcpus": 1,
                    "ram_mb": 1024,
                    "disk_size_mb": 5120,
                    "image": "ubuntu-desktop-24.04",
                    "template_id": "scratch",
                    "template_version": "local-1",
                    "network_mode": "open",
                    "external_volume_enabled": 0,
                    "origin": "sdk",
                    "project_id": project,
                    "created_at": "2026-01-01T09:30:00.000Z",
                    "stopped_at": None,
                    "last_error": None,
                }
            )
        app = make_app(target=local_target(server))
        async with app.run_test(size=(160, 40)) as pilot:
            await loaded(pilot)
            title = plain(computers_view(app).table.border_title)
            assert f"the first {limits.LIST_LIMIT_MAX} (the API's limit)" in title


async def test_a_stopped_computer_shows_no_live_metrics(
    make_app: AppFactory, async_sdk: AsyncCelesto
) -> None:
    created = await async_sdk.computers.create()
    app = make_app(refresh=0.2)
    async with app.run_test(size=(160, 48)) as pilot:
        await loaded(pilot)
        await wait_for(
            pilot,
            lambda: app.model.items["computers"].get(created["id"], {}).get("status") == "running",
            what="running",
        )
        await select(pilot, created["id"])
        view = computers_view(app)
        label = view.overview.query_one("#overview-metrics", Static)
        await wait_for(pilot, lambda: "live: CPU" in str(label.render()), what="live metrics")
        await async_sdk.computers.stop(created["id"])
        await wait_for(
            pilot,
            lambda: app.model.items["computers"][created["id"]]["status"] == "stopped",
            what="stopped",
        )
        await pilot.pause()
        assert "live" not in str(label.render())
        row = [str(cell) for cell in view.table.get_row(created["id"])]
        assert row[9:11] == ["-", "-"]  # CPU%, RAM used
    await async_sdk.computers.delete(created["id"])
