"""Create / start / stop / delete, single and bulk, against the real backend."""

from __future__ import annotations

from typing import Any

from textual import events
from textual.pilot import Pilot
from textual.widgets import Button, Input, Static

from celesto_api import AsyncCelesto, CelestoNotFoundError
from celesto_api.local import LocalServer
from celesto_tui.app.celesto_app import CelestoApp
from celesto_tui.app.screens.confirm import ConfirmScreen
from celesto_tui.app.screens.create_computer import CreateComputerScreen
from celesto_tui.app.widgets.log_views import CommandLogView

from .conftest import (
    AppFactory,
    computers_view,
    loaded,
    next_poll,
    select,
    status_of,
    wait_for,
)


async def test_create_dialog_explains_bad_values_before_sending(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=(160, 44)) as pilot:
        await loaded(pilot)
        before = set(app.model.items["computers"])
        await pilot.press("n")
        await wait_for(pilot, lambda: isinstance(app.screen, CreateComputerScreen))
        dialog = app.screen
        assert isinstance(dialog, CreateComputerScreen)
        # Defaults are shown as placeholders; Cancel has to be chosen explicitly.
        assert "default" in dialog.query_one("#cpus", Input).placeholder
        await pilot.press(*"99")
        error = dialog.query_one("#cpus-error", Static)
        assert "cpus must be between 1 and 16 (got 99)" in str(error.render())
        dialog.query_one("#memory", Input).value = "100"
        dialog.query_one("#disk", Input).value = "3 parsecs"
        await pilot.pause()
        assert "memory must be between 512 and 32768" in dialog.errors["memory"]
        assert "disk must be a size in MB" in dialog.errors["disk"]
        await pilot.click("#create")
        await pilot.pause()
        assert app.screen is dialog  # nothing was sent
        await pilot.press("escape")
        assert not isinstance(app.screen, CreateComputerScreen)
        await next_poll(pilot)
        assert set(app.model.items["computers"]) <= before | set(app.model.items["computers"])
        assert not app.command_log.entries


async def test_create_with_values_shows_the_new_row_and_logs_the_command(
    make_app: AppFactory, async_sdk: AsyncCelesto
) -> None:
    app = make_app()
    async with app.run_test(size=(160, 44)) as pilot:
        await loaded(pilot)
        await pilot.press("n")
        await wait_for(pilot, lambda: isinstance(app.screen, CreateComputerScreen))
        await pilot.press("2", "tab", *"1536", "tab", *"2gb", "enter")
        log = app.command_log.entries
        await wait_for(pilot, lambda: log and log[-1].status == "ok", what="the create")
        entry = log[-1]
        assert entry.line == (
            "celesto-tui computer create --cpus 2 --memory 1536 --disk 2048 --template scratch"
            " --local"
        )
        created = [c for c in app.model.items["computers"].values() if c["name"] == entry.subject]
        assert created and created[0]["vcpus"] == 2 and created[0]["ram_mb"] == 1536
        view = computers_view(app)
        await wait_for(pilot, lambda: view.table.selected_key() == created[0]["id"])
    await async_sdk.computers.delete(created[0]["id"])


def burst(pilot: Pilot[Any], keys: str) -> None:
    """Keys as a terminal delivers a fast typist's (or tmux's) burst: all queued at once,
    without Pilot's wait for the app to go idle after each key. "\t" is Tab, "\r" Enter."""
    for char in keys:
        key = {"\t": "tab", "\r": "enter"}.get(char, char)
        pilot.app.post_message(events.Key(key, char))


async def test_create_dialog_keeps_a_fast_burst_in_the_right_fields(
    make_app: AppFactory,
) -> None:
    app = make_app()
    async with app.run_test(size=(160, 44)) as pilot:
        await loaded(pilot)
        await pilot.press("n")
        await wait_for(pilot, lambda: isinstance(app.screen, CreateComputerScreen))
        dialog = app.screen
        burst(pilot, "\t2048\t4gb")
        disk = dialog.query_one("#disk", Input)
        await wait_for(pilot, lambda: disk.value == "4gb", what="4gb in the disk field")
        assert dialog.query_one("#cpus", Input).value == ""
        assert dialog.query_one("#memory", Input).value == "2048"
        assert dialog.focused is disk
        # and the focused field stands out (it used to be 235 on 234)
        focused, other = disk.background_colors[1], dialog.query_one("#memory", Input)
        unfocused = other.background_colors[1]
        distance = sum((a - b) ** 2 for a, b in zip(focused.rgb, unfocused.rgb, strict=True))
        assert distance**0.5 > 60, (focused, unfocused)
        arguments = dialog.arguments()
        assert arguments is not None
        assert (arguments["memory"], arguments["disk"]) == (2048, 4096)
        await pilot.press("escape")


async def test_keys_typed_right_behind_the_dialog_key_go_to_the_dialog(
    make_app: AppFactory, async_sdk: AsyncCelesto
) -> None:
    doomed = await async_sdk.computers.create()
    app = make_app()
    async with app.run_test(size=(160, 44)) as pilot:
        await loaded(pilot)
        await select(pilot, doomed["id"])
        table = computers_view(app).table
        row = table.cursor_row
        burst(pilot, "n\t2048\t4gb")  # "2" and "4" would switch views on the dashboard
        await wait_for(pilot, lambda: isinstance(app.screen, CreateComputerScreen))
        dialog = app.screen
        disk = dialog.query_one("#disk", Input)
        await wait_for(pilot, lambda: disk.value == "4gb", what="4gb in the disk field")
        assert dialog.query_one("#memory", Input).value == "2048"
        assert dialog.query_one("#cpus", Input).value == ""
        await pilot.press("escape")
        assert app.current_view == "computers" and table.cursor_row == row

        burst(pilot, "D" + doomed["name"] + "\r")  # the name, then Enter: deleted
        await wait_for(pilot, lambda: doomed["id"] not in app.model.items["computers"], what="gone")
        assert app.current_view == "computers"


async def test_stop_asks_first_with_cancel_focused(
    make_app: AppFactory, running_computer: dict[str, Any], local_server: LocalServer
) -> None:
    app = make_app()
    async with app.run_test(size=(160, 44)) as pilot:
        await loaded(pilot)
        await select(pilot, running_computer["id"])
        await pilot.press("x")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        assert app.screen.focused is not None and app.screen.focused.id == "cancel"
        await pilot.press("enter")  # Enter on the focused Cancel
        assert not isinstance(app.screen, ConfirmScreen)
        await next_poll(pilot)
        assert status_of(app, running_computer["id"]) == "running"
        assert not app.command_log.entries

        await pilot.press("x")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        local_server.set_faults("latency_ms=400")  # a slow API: the row must not wait for it
        await pilot.click("#confirm")
        await pilot.pause()
        assert status_of(app, running_computer["id"]) == "stopping"
        row = [str(cell) for cell in computers_view(app).table.get_row(running_computer["id"])]
        assert row[3] == "◑ stopping"
        local_server.set_faults(None)
        await wait_for(
            pilot, lambda: status_of(app, running_computer["id"]) == "stopped", what="stopped"
        )
        # The toast at the end comes from a poll that shows the computer stopped.
        await wait_for(
            pilot,
            lambda: any(
                n.message == f"{running_computer['name']} is stopped." for n in app._notifications
            ),
            what="the toast that it stopped",
        )
        line = app.command_log.entries[-1].line
        assert line == f"celesto-tui computer stop {running_computer['name']} --local"

        await pilot.press("s")  # start needs no confirmation
        await wait_for(
            pilot, lambda: status_of(app, running_computer["id"]) == "running", what="running"
        )

        # The command log lists both, newest first, and copies the line.
        await pilot.press("3")
        log_view = app.query_one(CommandLogView)
        assert log_view.table.has_focus and log_view.table.row_count == 2
        await pilot.press("y")
        assert app.clipboard == f"celesto-tui computer start {running_computer['name']} --local"
        assert local_server_key_absent(app)


def local_server_key_absent(app: CelestoApp) -> bool:
    return all(app.target.api_key not in entry.line for entry in app.command_log.entries)


async def test_delete_wants_the_name_typed(make_app: AppFactory, async_sdk: AsyncCelesto) -> None:
    doomed = await async_sdk.computers.create()
    app = make_app()
    async with app.run_test(size=(160, 44)) as pilot:
        await loaded(pilot)
        await select(pilot, doomed["id"])
        await pilot.press("D")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        screen = app.screen
        field = screen.query_one("#confirm-text", Input)
        assert screen.focused is field  # typed characters land in the field
        delete = screen.query_one("#confirm", Button)
        assert delete.disabled
        await pilot.press(*"not-the-name")
        assert field.value == "not-the-name"
        assert delete.disabled
        await pilot.press("enter")  # Enter does nothing until the name matches
        assert app.screen is screen and status_of(app, doomed["id"]) not in (None, "deleting")
        await pilot.press("escape")  # cancelled: nothing happens
        await next_poll(pilot)
        assert status_of(app, doomed["id"]) not in (None, "deleting")

        await pilot.press("D")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press(*doomed["name"])
        assert not app.screen.query_one("#confirm", Button).disabled
        await pilot.press("enter")
        await wait_for(pilot, lambda: doomed["id"] not in app.model.items["computers"], what="gone")
    try:
        await async_sdk.computers.get(doomed["id"])
    except CelestoNotFoundError:
        pass
    else:
        raise AssertionError("the computer still exists")


async def test_bulk_delete_lists_every_target(
    make_app: AppFactory, async_sdk: AsyncCelesto
) -> None:
    first = await async_sdk.computers.create()
    second = await async_sdk.computers.create()
    app = make_app()
    async with app.run_test(size=(160, 44)) as pilot:
        await loaded(pilot)
        view = computers_view(app)
        for target in (first, second):
            await select(pilot, target["id"])
            view.table.set_marked(target["id"], True)
        await pilot.press("D")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        screen = app.screen
        assert isinstance(screen, ConfirmScreen)
        listed = " ".join(screen.targets)
        assert first["name"] in listed and second["name"] in listed
        assert screen.typed == "delete 2"
        screen.query_one("#confirm-text", Input).value = "delete 2"
        await pilot.click("#confirm")
        await wait_for(
            pilot,
            lambda: not ({first["id"], second["id"]} & set(app.model.items["computers"])),
            what="both gone",
        )
        lines = [entry.line for entry in app.command_log.entries]
        assert f"celesto-tui computer delete {first['name']} --local" in lines
        assert not view.table.marks


async def test_bulk_start_asks_and_lists_targets(
    make_app: AppFactory, async_sdk: AsyncCelesto, stopped_computer: dict[str, Any]
) -> None:
    other = await async_sdk.computers.create()
    await async_sdk.computers.stop(other["id"])
    app = make_app()
    async with app.run_test(size=(160, 44)) as pilot:
        await loaded(pilot)
        view = computers_view(app)
        for target in (stopped_computer, other):
            await select(pilot, target["id"])
            view.table.set_marked(target["id"], True)
        await pilot.press("s")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("escape")  # cancelled
        await next_poll(pilot)
        assert not app.command_log.entries
        await pilot.press("s")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.click("#confirm")
        for target in (stopped_computer, other):
            await wait_for(pilot, lambda t=target: status_of(app, t["id"]) == "running")
    await async_sdk.computers.delete(other["id"])


async def test_a_failed_stop_puts_the_row_back_and_says_why(
    make_app: AppFactory, running_computer: dict[str, Any], local_server: LocalServer
) -> None:
    app = make_app(refresh=0)  # manual: no poll corrects the row behind the test's back
    async with app.run_test(size=(160, 44), notifications=True) as pilot:
        await loaded(pilot)
        await select(pilot, running_computer["id"])
        await pilot.press("x")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        local_server.set_faults("error_rate=1")  # the API fails every request for now
        await pilot.click("#confirm")
        log = app.command_log.entries
        await wait_for(pilot, lambda: log and log[-1].status == "failed", what="the failure")
        await pilot.pause()
        # The stop did not happen: the row must not keep saying "stopping".
        assert status_of(app, running_computer["id"]) == "running"
        row = [str(cell) for cell in computers_view(app).table.get_row(running_computer["id"])]
        assert row[3] == "● running"
        messages = [n.title + " " + n.message for n in app._notifications]
        assert any("Could not stop" in m and "503" in m for m in messages)
        local_server.set_faults(None)


async def test_brackets_in_what_users_type_never_end_the_app(
    make_app: AppFactory, running_computer: dict[str, Any]
) -> None:
    """Textual reads "[...]" in strings as markup and raises on "[/x]": nothing the user
    types or the API sends may be read that way."""
    app = make_app()
    async with app.run_test(size=(160, 44), notifications=True) as pilot:
        await loaded(pilot)
        await pilot.press("n")
        await wait_for(pilot, lambda: isinstance(app.screen, CreateComputerScreen))
        dialog = app.screen
        dialog.query_one("#disk", Input).value = "[/x]"
        await pilot.pause()
        assert "(got '[/x]')" in str(dialog.query_one("#disk-error", Static).render())
        await pilot.press("escape")

        view = computers_view(app)
        await pilot.press("slash")
        view.filter_bar.value = "[/x]"
        await wait_for(pilot, lambda: not view.table.row_count, what="nothing matches")
        await pilot.pause()
        fields = view.overview.query_one("#overview-fields", Static)
        assert '"[/x]"' in str(fields.render())
        view.filter_bar.value = ""
        await pilot.press("enter")

        await select(pilot, running_computer["id"])
        await pilot.press("e")
        view.exec_pane.prompt.value = "echo '[/x] [b]not bold'"
        await pilot.press("enter")
        await wait_for(pilot, lambda: view.exec_pane.last_exit == 0, what="the command")
        assert ("stdout", "[/x] [b]not bold") in [
            (line.stream, line.text) for line in view.exec_pane.output.lines_kept
        ]
        await pilot.press("escape", "3")
        log = app.query_one(CommandLogView)
        await pilot.pause()
        assert "[/x] [b]not bold" in str(log.table.get_row_at(0)[4])
        app.notify("The API failed: [/x] went wrong", title="[b]")
        await pilot.pause()
        assert app.is_running
