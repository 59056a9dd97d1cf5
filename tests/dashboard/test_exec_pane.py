"""The Exec pane: streamed output, stdout/stderr apart, exit code, history, re-run,
search, copy, and the offer to start a stopped computer."""

from __future__ import annotations

import os
import signal
from typing import Any

from textual.widgets import Input, Label

from celesto_api.local import LocalServer
from celesto_tui.app.screens.confirm import ConfirmScreen
from celesto_tui.app.widgets.exec_pane import ExecChunk, ExecPane
from celesto_tui.app.widgets.output_log import MAX_LINES
from tests.sandbox.helpers import host_processes_with, unique_sleep

from .conftest import AppFactory, computers_view, loaded, next_poll, select, status_of, wait_for


def exec_pane(app: Any) -> ExecPane:
    return computers_view(app).exec_pane


async def test_output_streams_with_stderr_apart_and_exit_code(
    make_app: AppFactory, running_computer: dict[str, Any]
) -> None:
    app = make_app()
    async with app.run_test(size=(160, 48)) as pilot:
        await loaded(pilot)
        await select(pilot, running_computer["id"])
        await pilot.press("e")
        pane = exec_pane(app)
        assert pane.prompt.has_focus
        pane.prompt.value = "echo out-line; sleep 0.1; echo err-line >&2; exit 3"
        await pilot.press("enter")
        await wait_for(pilot, lambda: not pane.running and pane.last_exit is not None)
        lines = [(line.stream, line.text) for line in pane.output.lines_kept]
        assert ("stdout", "out-line") in lines
        assert ("stderr", "err-line") in lines
        assert lines[-1][0] == "bad" and lines[-1][1].startswith("✖ exit 3")
        assert pane.last_exit == 3
        entry = app.command_log.entries[-1]
        assert entry.line == (
            f"celesto-tui computer run {running_computer['name']} "
            "'echo out-line; sleep 0.1; echo err-line >&2; exit 3' --timeout 30 --local"
        )
        assert entry.status == "failed" and entry.detail == "exit 3"

        # History: ↑ brings the command back; F5 runs the last one again.
        await pilot.press("up")
        assert pane.prompt.value.startswith("echo out-line")
        await pilot.press("ctrl+u")  # clear the prompt (Input's own key)
        runs = sum(1 for line in pane.output.lines_kept if line.stream == "info")
        await pilot.press("f5")
        await wait_for(
            pilot,
            lambda: (
                sum(1 for line in pane.output.lines_kept if line.stream == "info") == runs + 1
                and not pane.running
            ),
        )

        # Search highlights and counts matching lines.
        await pilot.press("ctrl+f")
        pane.query_one("#exec-search", Input).value = "err-line"
        await pilot.pause()
        assert len(pane.output.matches) == 4  # two headers, two stderr lines
        await pilot.press("enter", "escape")
        assert pane.prompt.has_focus
        await pilot.press("ctrl+y")
        assert "▌ err-line" in app.clipboard and "out-line" in app.clipboard
        await pilot.press("escape")
        assert computers_view(app).table.has_focus


async def test_bad_timeout_is_explained_and_not_sent(
    make_app: AppFactory, running_computer: dict[str, Any]
) -> None:
    app = make_app()
    async with app.run_test(size=(160, 48)) as pilot:
        await loaded(pilot)
        await select(pilot, running_computer["id"])
        await pilot.press("e", *"true")
        pane = exec_pane(app)
        pane.query_one("#exec-timeout", Input).value = "999"
        await pilot.press("enter")
        error = pane.query_one("#exec-error", Label)
        assert "timeout must be between 1 and 300 (got 999)" in str(error.render())
        assert not app.command_log.entries


async def test_running_on_a_stopped_computer_offers_to_start_it(
    make_app: AppFactory, stopped_computer: dict[str, Any]
) -> None:
    app = make_app()
    async with app.run_test(size=(160, 48)) as pilot:
        await loaded(pilot)
        await select(pilot, stopped_computer["id"])
        await pilot.press("e")
        exec_pane(app).prompt.value = "echo started"
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("escape")  # declined: nothing runs
        await next_poll(pilot)
        pane = exec_pane(app)
        assert not pane.output.lines_kept
        assert status_of(app, stopped_computer["id"]) == "stopped"

        pane.prompt.value = "echo started"
        pane.prompt.focus()
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.click("#confirm")
        await wait_for(pilot, lambda: pane.last_exit == 0, what="the command to run")
        assert ("stdout", "started") in [
            (line.stream, line.text) for line in pane.output.lines_kept
        ]
        assert status_of(app, stopped_computer["id"]) == "running"
        actions = [entry.action for entry in app.command_log.entries]
        assert actions == ["start", "run"]


async def test_a_flood_of_output_arrives_in_pieces_and_is_capped(
    make_app: AppFactory, running_computer: dict[str, Any]
) -> None:
    chunks: list[ExecChunk] = []

    def hook(message: object) -> None:
        if isinstance(message, ExecChunk):
            chunks.append(message)

    app = make_app()
    async with app.run_test(size=(160, 48), message_hook=hook) as pilot:
        await loaded(pilot)
        await select(pilot, running_computer["id"])
        await pilot.press("e")
        pane = exec_pane(app)
        pane.prompt.value = "seq 1 60000; printf '\\033[31mred\\033[0m\\n'"
        await pilot.press("enter")
        await wait_for(pilot, lambda: pane.last_exit == 0, timeout=60, what="the flood to end")
        lines = pane.output.lines_kept
        assert len(lines) == MAX_LINES  # the oldest lines went; the newest are all there
        assert [line.text for line in lines[-3:-1]] == ["60000", "red"]  # escapes removed
        assert lines[-1].text.startswith("✔ exit 0")
        # One message per piece of output the API sent, not one per line.
        assert sum(len(chunk.lines) for chunk in chunks) == 60001
        assert len(chunks) < 1000
        await pilot.press("ctrl+f")
        pane.query_one("#exec-search", Input).value = "59999"
        await pilot.pause()
        assert [lines[i].text for i in pane.output.matches] == ["59999"]


async def test_a_computer_that_dies_under_a_command_is_reported_not_rerun(
    make_app: AppFactory, running_computer: dict[str, Any], local_server: LocalServer
) -> None:
    """The agent killed from the host (as the OOM killer does) while a command runs."""
    assert local_server.backend is not None
    sandbox = local_server.backend.computers.sandbox(running_computer["id"])
    assert sandbox is not None
    app = make_app()
    async with app.run_test(size=(160, 48)) as pilot:
        await loaded(pilot)
        await select(pilot, running_computer["id"])
        await pilot.press("e")
        pane = exec_pane(app)
        command = unique_sleep(30)
        pane.prompt.value = command
        await pilot.press("enter")
        await wait_for(pilot, lambda: host_processes_with(command), what="the command to run")
        os.kill(sandbox.host_pid, signal.SIGKILL)  # type: ignore[attr-defined]
        await wait_for(pilot, lambda: not pane.running, what="the failure to arrive")
        await wait_for(
            pilot,
            lambda: pane.output.lines_kept and pane.output.lines_kept[-1].stream == "bad",
            what="the failure to be shown",
        )
        last = pane.output.lines_kept[-1]
        assert last.stream == "bad", last
        assert "failed while the command was running" in last.text, last.text
        assert "killed by SIGKILL" in last.text and "Cannot reach" not in last.text
        assert not isinstance(app.screen, ConfirmScreen)
        assert [entry.action for entry in app.command_log.entries] == ["run"]
