"""`q` asks first when quitting would stop the embedded backend's running computers or end
its shells, saying exactly what; Cancel is focused; `q` again or Quit quits. Nothing to
lose (no running computer, or a server that outlives the app): it quits at once."""

from __future__ import annotations

from typing import Any

from textual.widgets import Button

from celesto_api.local import LocalServer
from celesto_tui.app.screens.quit_confirm import QuitConfirmScreen
from celesto_tui.model.quitting import quit_losses

from .conftest import AppFactory, loaded, local_target, wait_for
from .test_shell_mark import open_shell

RUNNING = {"name": "ada", "status": "running"}


def test_what_quitting_ends_is_said_exactly(local_server: LocalServer) -> None:
    embedded = local_target(local_server)
    computers = [RUNNING, {"name": "bob", "status": "starting"}, {"name": "c", "status": "stopped"}]
    losses = quit_losses(embedded, computers, 1)
    assert losses.computers == ("ada", "bob")
    assert losses.sentence() == "2 running computers will stop, 1 shell will end"
    assert quit_losses(embedded, [RUNNING], 0).sentence() == "1 running computer will stop"
    assert quit_losses(embedded, [], 3).sentence() == "3 shells will end"
    assert not quit_losses(embedded, [{"name": "c", "status": "stopped"}], 0)
    # Servers that outlive the dashboard lose nothing: their shells are durable too.
    assert not quit_losses(local_target(local_server, shared=True), [RUNNING], 2)
    assert not quit_losses(local_target(local_server, local=False), [RUNNING], 2)
    # Switched away from the embedded backend, its computers still stop with the app.
    cloud = local_target(local_server, local=False)
    behind = quit_losses(cloud, [RUNNING], 2, behind=[{"name": "eve", "status": "running"}])
    assert behind.computers == ("eve (local)",)
    assert behind.sentence() == "1 running computer will stop"


async def test_q_asks_with_cancel_focused_and_q_again_quits(
    make_app: AppFactory, running_computer: dict[str, Any]
) -> None:
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await loaded(pilot)
        await open_shell(pilot, str(running_computer["id"]))
        await pilot.press("ctrl+right_square_bracket")
        await wait_for(pilot, lambda: app.screen is app.screen_stack[0], what="the dashboard")

        await pilot.press("q")
        await wait_for(pilot, lambda: isinstance(app.screen, QuitConfirmScreen), what="dialog")
        dialog = app.screen
        assert isinstance(dialog, QuitConfirmScreen)
        assert dialog.title_text == "Quit? 1 running computer will stop, 1 shell will end."
        assert dialog.targets == [running_computer["name"]]
        assert isinstance(dialog.focused, Button) and dialog.focused.id == "cancel"
        await pilot.press("enter")  # on Cancel: stays
        await wait_for(pilot, lambda: not isinstance(app.screen, QuitConfirmScreen))
        assert app.return_code is None

        await pilot.press("q")
        await wait_for(pilot, lambda: isinstance(app.screen, QuitConfirmScreen), what="dialog")
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, QuitConfirmScreen))
        assert app.return_code is None

        await pilot.press("q", "q")
        await wait_for(pilot, lambda: app.return_code is not None, what="the app's exit")
        assert app.return_code == 0


async def test_enter_on_quit_quits(make_app: AppFactory, running_computer: dict[str, Any]) -> None:
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await loaded(pilot)
        await wait_for(pilot, lambda: running_computer["id"] in app.model.items["computers"])
        await pilot.press("q")
        await wait_for(pilot, lambda: isinstance(app.screen, QuitConfirmScreen), what="dialog")
        assert isinstance(app.screen, QuitConfirmScreen)
        assert app.screen.title_text == "Quit? 1 running computer will stop."
        await pilot.press("tab", "enter")  # Cancel -> Quit
        await wait_for(pilot, lambda: app.return_code is not None, what="the app's exit")


async def test_nothing_to_lose_quits_at_once(
    make_app: AppFactory, stopped_computer: dict[str, Any], local_server: LocalServer
) -> None:
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await loaded(pilot)
        assert stopped_computer["id"] in app.model.items["computers"]
        await pilot.press("q")
        await wait_for(pilot, lambda: app.return_code is not None, what="the app's exit")
        assert not isinstance(app.screen, QuitConfirmScreen)


async def test_a_server_that_outlives_the_app_quits_at_once(
    make_app: AppFactory, running_computer: dict[str, Any], local_server: LocalServer
) -> None:
    app = make_app(target=local_target(local_server, shared=True))
    async with app.run_test(size=(100, 30)) as pilot:
        await loaded(pilot)
        await wait_for(pilot, lambda: running_computer["id"] in app.model.items["computers"])
        await pilot.press("q")
        await wait_for(pilot, lambda: app.return_code is not None, what="the app's exit")
