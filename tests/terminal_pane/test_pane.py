"""The pane against the real local backend: typing, resize, Ctrl-C, drops, a stopped computer."""

from __future__ import annotations

from typing import Any

from celesto_api import AsyncCelesto
from celesto_api.local import LocalServer
from celesto_tui.terminal.link import Phase
from celesto_tui.terminal.start_computer_screen import StartComputerScreen
from celesto_tui.terminal.widget import TerminalView
from tests.sandbox.helpers import host_processes_with, unique_sleep

from .conftest import (
    PaneApp,
    screen_lines,
    screen_text,
    type_line,
    wait_connected,
    wait_for_status,
    wait_for_text,
    wait_prompt,
    wait_until,
)


async def test_typed_command_is_echoed_and_its_output_rendered(
    async_sdk: AsyncCelesto, running_computer: dict[str, Any]
) -> None:
    app = PaneApp(async_sdk, running_computer["id"], running_computer["name"])
    async with app.run_test(size=(80, 20)) as pilot:
        await wait_prompt(pilot, app.pane)
        await type_line(pilot, "echo hi-$((40+2))")
        await wait_for_text(pilot, app.pane.view, "hi-42")
        assert "echo hi-$((40+2))" in screen_text(app.pane.view)
        assert app.pane.terminal_id and app.pane.terminal_id.startswith("term_")
        assert "connected" in str(app.pane.border_subtitle)


async def test_resize_reaches_the_remote_pty(
    async_sdk: AsyncCelesto, running_computer: dict[str, Any]
) -> None:
    app = PaneApp(async_sdk, running_computer["id"], running_computer["name"])
    async with app.run_test(size=(80, 20)) as pilot:
        await wait_prompt(pilot, app.pane)
        view = app.pane.view
        await type_line(pilot, "stty size")
        await wait_for_text(pilot, view, f"{view.size.height} {view.size.width}")
        await pilot.resize_terminal(100, 30)
        await wait_until(pilot, lambda: view.size.width > 90, "the view to grow")
        await type_line(pilot, "clear; stty size")
        await wait_for_text(pilot, view, f"{view.size.height} {view.size.width}")
        assert (view.size.width, view.size.height) == (98, 28)  # inside the border


async def test_ctrl_c_interrupts_a_running_command(
    async_sdk: AsyncCelesto, running_computer: dict[str, Any]
) -> None:
    app = PaneApp(async_sdk, running_computer["id"], running_computer["name"])
    async with app.run_test(size=(80, 20)) as pilot:
        await wait_prompt(pilot, app.pane)
        command = unique_sleep(30)
        await type_line(pilot, f"{command}; echo not-interrupted")
        await wait_until(pilot, lambda: bool(host_processes_with(command)), "the sleep to run")
        await pilot.press("ctrl+c")
        await wait_for_text(pilot, app.pane.view, "^C")
        # Within the wait's timeout (well under the 30 s of sleep): the sleep was interrupted.
        await type_line(pilot, "echo status=$?")
        await wait_for_text(pilot, app.pane.view, "status=130")
        assert "not-interrupted" not in screen_lines(app.pane.view)


async def test_a_dropped_connection_reattaches_and_the_shell_survives(
    async_sdk: AsyncCelesto, running_computer: dict[str, Any], local_server: LocalServer
) -> None:
    app = PaneApp(async_sdk, running_computer["id"], running_computer["name"])
    async with app.run_test(size=(80, 20)) as pilot:
        pane = app.pane
        await wait_prompt(pilot, pane)
        await type_line(pilot, "export MARK=survived-$((6*7))")
        await wait_for_text(pilot, pane.view, "survived-$((6*7))")
        terminal_id = pane.terminal_id
        local_server.set_faults("ws_drop=1,count=1")
        await type_line(pilot, "echo dropped-here")  # its echo is the frame that is dropped
        await wait_until(pilot, lambda: Phase.RECONNECTING in app.phases, "the drop")
        await wait_connected(pilot, pane)
        assert pane.terminal_id == terminal_id
        await type_line(pilot, 'echo "[$MARK]"')
        await wait_for_text(pilot, pane.view, "[survived-42]")
        text = screen_text(pane.view)
        assert text.count("export MARK=survived") == 1  # replayed once, not appended twice
        reconnecting = [s for s in app.statuses if s.phase is Phase.RECONNECTING]
        assert reconnecting[0].attempt == 1


async def test_a_stopped_computer_is_offered_a_start(
    async_sdk: AsyncCelesto, running_computer: dict[str, Any]
) -> None:
    await async_sdk.computers.stop(running_computer["id"])
    await wait_for_status(async_sdk, running_computer["id"], "stopped")
    app = PaneApp(async_sdk, running_computer["id"], running_computer["name"])
    async with app.run_test(size=(80, 20)) as pilot:
        await wait_until(
            pilot, lambda: isinstance(app.screen, StartComputerScreen), "the start offer"
        )
        assert "stopped" in str(app.pane.border_subtitle)
        await pilot.press("enter")  # Start has the focus
        await wait_prompt(pilot, app.pane)
        assert Phase.STARTING in app.phases
        await type_line(pilot, "echo started-ok")
        await wait_for_text(pilot, app.pane.view, "started-ok")


async def test_cancelling_the_start_offer_leaves_it_stopped_until_enter(
    async_sdk: AsyncCelesto, running_computer: dict[str, Any]
) -> None:
    await async_sdk.computers.stop(running_computer["id"])
    await wait_for_status(async_sdk, running_computer["id"], "stopped")
    app = PaneApp(async_sdk, running_computer["id"], running_computer["name"])
    async with app.run_test(size=(80, 20)) as pilot:
        await wait_until(
            pilot, lambda: isinstance(app.screen, StartComputerScreen), "the start offer"
        )
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.pane.view.has_focus, "the pane to get focus back")
        assert app.pane.status.phase is Phase.STOPPED
        assert (await async_sdk.computers.get(running_computer["id"]))["status"] == "stopped"
        assert "enter: start it" in str(app.pane.border_subtitle)
        await pilot.press("enter")  # as the border says: Enter starts it, no second dialog
        await wait_prompt(pilot, app.pane)
        assert not isinstance(app.screen, StartComputerScreen)
        assert (await async_sdk.computers.get(running_computer["id"]))["status"] == "running"


async def test_the_shell_exiting_ends_the_pane_with_the_reason(
    async_sdk: AsyncCelesto, running_computer: dict[str, Any]
) -> None:
    app = PaneApp(async_sdk, running_computer["id"], running_computer["name"])
    async with app.run_test(size=(80, 20)) as pilot:
        await wait_prompt(pilot, app.pane)
        await type_line(pilot, "exit 3")
        await wait_until(pilot, lambda: app.pane.status.phase is Phase.ENDED, "the end")
        status = app.pane.status
        assert status.close_code == 1000
        assert "status 3" in status.detail
        assert "ended: shell exited with status 3" in str(app.pane.border_subtitle)
        assert "enter: new shell" in str(app.pane.border_subtitle)
        await pilot.press("enter")  # a new shell
        await wait_connected(pilot, app.pane)
        await type_line(pilot, "echo second-shell")
        await wait_for_text(pilot, app.pane.view, "second-shell")


async def test_a_stop_ending_the_shell_says_the_computer_stopped(
    async_sdk: AsyncCelesto, running_computer: dict[str, Any]
) -> None:
    app = PaneApp(async_sdk, running_computer["id"], running_computer["name"])
    async with app.run_test(size=(80, 20)) as pilot:
        await wait_prompt(pilot, app.pane)
        await async_sdk.computers.stop(running_computer["id"])
        await wait_until(pilot, lambda: app.pane.status.phase is Phase.STOPPED, "the stop")
        subtitle = str(app.pane.border_subtitle)
        assert "computer stopped" in subtitle and "enter: start it" in subtitle
        assert "code" not in subtitle and "exited" not in subtitle
        assert Phase.ENDED not in app.phases


async def test_a_flood_is_held_back_and_ctrl_c_still_stops_it_at_once(
    async_sdk: AsyncCelesto, running_computer: dict[str, Any]
) -> None:
    app = PaneApp(async_sdk, running_computer["id"], running_computer["name"])
    async with app.run_test(size=(80, 20)) as pilot:
        pane = app.pane
        await wait_prompt(pilot, pane)
        high_water = pane.link._high_water
        backlog: list[int] = []  # bytes waiting to be parsed when each chunk came
        fed: list[int] = [0]  # bytes fed so far
        feed = pane.view.feed

        def recording_feed(data: bytes) -> None:
            backlog.append(pane.view.pending_bytes)
            fed[0] += len(data)
            feed(data)

        sent: list[tuple[bytes, int]] = []  # each input, with the output still unparsed then
        link_send = pane.link.send

        def recording_send(data: bytes) -> bool:
            sent.append((data, pane.view.pending_bytes))
            return link_send(data)

        pane.view.feed = recording_feed  # type: ignore[method-assign]
        pane.link.send = recording_send  # type: ignore[method-assign]
        await type_line(pilot, "yes flood-line")
        # Long enough for the socket to be paused many times over.
        await wait_until(pilot, lambda: fed[0] > 8 * high_water, "the flood")
        await pilot.press("ctrl+c")
        fed_before_interrupt = fed[0]
        await type_line(pilot, "echo after-$((3*3))")
        await wait_for_text(pilot, pane.view, "after-9", timeout=10)
        # The socket is not read while more than high_water bytes wait to be parsed.
        assert max(backlog) <= high_water
        # Ctrl-C went out at once, not behind the flood: what the pane still had to parse
        # when it was sent, plus what arrived after it, is bounded by the watermark (and the
        # socket's buffers), not by what `yes` had written by then.
        unparsed = next(pending for data, pending in sent if data == b"\x03")
        assert fed_before_interrupt > 8 * high_water
        assert unparsed + (fed[0] - fed_before_interrupt) <= 4 * high_water


async def test_reconnecting_gives_up_after_the_last_attempt_and_enter_retries(
    async_sdk: AsyncCelesto, running_computer: dict[str, Any], local_server: LocalServer
) -> None:
    app = PaneApp(async_sdk, running_computer["id"], running_computer["name"])
    async with app.run_test(size=(80, 20)) as pilot:
        pane = app.pane
        await wait_prompt(pilot, pane)
        await type_line(pilot, "GIVEUP=kept")
        await wait_for_text(pilot, pane.view, "GIVEUP=kept")
        local_server.set_faults("ws_drop=1,error_rate=1,error_status=503")
        await type_line(pilot, "echo dropped")
        await wait_until(pilot, lambda: pane.status.phase is Phase.ENDED, "giving up")
        attempts = [s.attempt for s in app.statuses if s.phase is Phase.RECONNECTING]
        assert max(attempts) == 8
        assert "gave up after 8 attempts" in pane.status.detail
        assert "enter: reattach" in str(pane.border_subtitle)
        local_server.set_faults(None)
        await pilot.press("enter")
        await wait_connected(pilot, pane)
        await pilot.press("ctrl+u")  # the "e" that went out before the drop is still typed
        await type_line(pilot, 'echo "[$GIVEUP]"')
        await wait_for_text(pilot, pane.view, "[kept]")


async def test_selecting_output_copies_it_and_says_so(
    async_sdk: AsyncCelesto, running_computer: dict[str, Any]
) -> None:
    app = PaneApp(async_sdk, running_computer["id"], running_computer["name"])
    async with app.run_test(size=(80, 20)) as pilot:
        pane = app.pane
        await wait_prompt(pilot, pane)
        await type_line(pilot, "clear; echo copy-$((6*7))-me")
        await wait_for_text(pilot, pane.view, "copy-42-me")
        row = next(y for y, line in enumerate(screen_lines(pane.view)) if line == "copy-42-me")
        await pilot.double_click(TerminalView, offset=(3, row))
        assert app.clipboard == "copy-42-me"
        await wait_until(
            pilot,
            lambda: any("Copied 10 characters" in str(n.message) for n in app._notifications),
            "the toast",
        )
