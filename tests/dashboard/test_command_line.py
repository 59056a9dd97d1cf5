"""The ``:`` command line: the command log's syntax typed back, with completion, running
through the same intents and controller as the keys."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest
from textual.widgets import Input, Static

from celesto_tui.app.screens.command_line import CommandLineScreen
from celesto_tui.app.screens.confirm import ConfirmScreen
from celesto_tui.app.screens.context_picker import ContextPickerScreen
from celesto_tui.model.command_input import (
    READ_ONLY_PHRASES,
    CommandInputError,
    complete,
    parse_command,
)
from celesto_tui.model.command_log import Where, computer_line, deploy_line

from .conftest import AppFactory, loaded, status_of, wait_for

APP = """\
import http.server, os
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200); self.end_headers(); self.wfile.write(b"hi")
http.server.HTTPServer(("0.0.0.0", int(os.environ["PORT"])), H).serve_forever()
"""


def test_command_log_lines_read_back() -> None:
    local = Where(local=True, data_dir="/data/my dir")
    stop = parse_command(computer_line(local, "stop", "ada"), local)
    assert (stop.phrase, stop.names) == ("computer stop", ("ada",))
    line = deploy_line(Where(local=True), "./agent", "x", "", {"K": "v"}, None)
    deploy = parse_command(line.replace("***", "v"), Where(local=True))
    assert deploy.phrase == "deploy"
    assert deploy.arguments == {
        "folder": "./agent",
        "name": "x",
        "description": "",
        "envs": {"K": "v"},
        "project_name": None,
    }
    create = parse_command("computer create --cpus 2 --memory 1024 --disk 2gb --no-internet")
    assert create.arguments == {"cpus": 2, "memory": 1024, "disk": 2048, "network_policy": "off"}
    assert parse_command("computer stop ada grace").names == ("ada", "grace")


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("", "Type a command"),
        ("computer reboot ada", "Unknown command"),
        ("computer stop", "needs a name"),
        ("computer ssh ada grace", "takes one name"),
        ("computer create --cpus 99", "cpus"),
        ("computer create --gpus 1", "no option --gpus"),
        ("deploy ./agent", "needs --name"),
        ("deploy ./agent --name x --env NOVALUE", "KEY=VALUE"),
        ("computer stop ada --base-url http://x", "names another target"),
        ("computer stop ada --local", "names another target"),  # this one is not --local
        ("computer run ada 'ls", "Cannot read the line"),
    ],
)
def test_bad_lines_say_what_is_wrong(text: str, problem: str) -> None:
    with pytest.raises(CommandInputError, match=problem):
        parse_command(text)


def test_completion_of_phrases_options_and_names() -> None:
    computers, deployments = ["ada", "grace"], ["weather"]
    assert complete("comp", computers, deployments) == "computer"
    assert complete("computer st", computers, deployments) == "computer start"
    assert complete("computer stop gr", computers, deployments) == "computer stop grace"
    assert complete("deployments logs we", computers, deployments) == "deployments logs weather"
    assert complete("deploy ./x --na", computers, deployments) == "deploy ./x --name"
    assert complete("computer stop ", computers, deployments) is None
    assert complete("computer stop zz", computers, deployments) is None


async def test_colon_stop_completes_the_name_asks_first_and_logs_the_same_line(
    make_app: AppFactory, running_computer: dict[str, Any]
) -> None:
    app = make_app()
    name = str(running_computer["name"])
    async with app.run_test(size=(160, 44)) as pilot:
        await loaded(pilot)
        await pilot.press("colon")
        await wait_for(pilot, lambda: isinstance(app.screen, CommandLineScreen))
        field = app.screen.query_one("#command-input", Input)
        await pilot.press(*"computer sto", "tab")
        await wait_for(pilot, lambda: field.value == "computer stop", what="the phrase")
        await pilot.press("space", *name[:3], "tab")
        await wait_for(pilot, lambda: field.value == f"computer stop {name}", what="the name")
        await pilot.press("enter")
        # The same confirmation as the `x` key.
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.click("#confirm")
        log = app.command_log.entries
        await wait_for(pilot, lambda: log and log[-1].done, what="the stop")
        assert log[-1].line == f"celesto-tui computer stop {name} --local"
        assert log[-1].status == "ok"
        await wait_for(
            pilot, lambda: status_of(app, running_computer["id"]) == "stopped", what="stop"
        )


async def test_a_bad_line_is_explained_and_nothing_runs(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await loaded(pilot)
        await pilot.press("colon")
        await wait_for(pilot, lambda: isinstance(app.screen, CommandLineScreen))
        await pilot.press(*"computer stop nobody-here", "enter")
        await wait_for(pilot, lambda: not isinstance(app.screen, CommandLineScreen))
        assert any("No computer named nobody-here" in n.message for n in app._notifications)
        await pilot.press("colon")
        await wait_for(pilot, lambda: isinstance(app.screen, CommandLineScreen))
        await pilot.press(*"computer reboot x", "enter")
        error = app.screen.query_one("#command-error", Static)
        assert "Unknown command" in str(error.render())
        assert isinstance(app.screen, CommandLineScreen)  # still open, to fix the line
        await pilot.press("escape")
        assert not isinstance(app.screen, CommandLineScreen)
        assert not app.command_log.entries


async def test_colon_deploy_runs_the_deploy_without_the_dialog(
    make_app: AppFactory, tmp_path: Path
) -> None:
    folder = tmp_path / "typed-agent"
    folder.mkdir()
    (folder / "main.py").write_text(APP)
    name = f"typed-{random.getrandbits(24):06x}"
    app = make_app(refresh=0.2)
    async with app.run_test(size=(160, 44)) as pilot:
        await loaded(pilot)
        await pilot.press("colon")
        await wait_for(pilot, lambda: isinstance(app.screen, CommandLineScreen))
        field = app.screen.query_one("#command-input", Input)
        field.value = f"deploy {folder} --name {name} --env GREETING=hi"
        await pilot.press("enter")
        log = app.command_log.entries
        await wait_for(pilot, lambda: bool(log), what="the log entry")
        assert log[-1].line == (
            f"celesto-tui deploy {folder} --name {name} --env 'GREETING=***' --local"
        )
        await wait_for(pilot, lambda: log[-1].done, timeout=60, what="the deploy to end")
        assert log[-1].status == "ok", log[-1].detail
        assert app.model.items["deployments"][name]["status"] == "READY"


def test_read_only_takes_only_the_commands_that_change_nothing() -> None:
    for line in ("ctx", "context other", "deployments logs web"):
        assert parse_command(line, read_only=True).phrase in ("context", "deployments logs")
    for line in ("computer stop ada", "computer run ada 'ls'", "deploy ./x --name y"):
        with pytest.raises(CommandInputError, match="off in read-only mode; here: deployments"):
            parse_command(line, read_only=True)
    assert complete("c", [], [], phrases=READ_ONLY_PHRASES) == "context"
    assert complete("c", [], []) == "computer"


async def test_read_only_command_line_switches_context_and_refuses_changes(
    make_app: AppFactory, running_computer: dict[str, Any]
) -> None:
    app = make_app(read_only=True)
    async with app.run_test(size=(120, 40)) as pilot:
        await loaded(pilot)
        await pilot.press("colon")
        await wait_for(pilot, lambda: isinstance(app.screen, CommandLineScreen))
        field = app.screen.query_one("#command-input", Input)
        assert "read-only" in str(field.placeholder)
        field.value = f"computer stop {running_computer['name']}"
        await pilot.press("enter")
        error = app.screen.query_one("#command-error", Static)
        await wait_for(pilot, lambda: "read-only" in str(error.render()), what="the refusal")
        assert isinstance(app.screen, CommandLineScreen)  # still open, the line kept
        assert field.value == f"computer stop {running_computer['name']}"
        assert not app.command_log.entries
        field.value = "ctx"
        await pilot.press("enter")
        await wait_for(
            pilot, lambda: isinstance(app.screen, ContextPickerScreen), what="the picker"
        )
        assert status_of(app, running_computer["id"]) == "running"


async def test_keys_typed_right_behind_the_colon_reach_the_command_line(
    make_app: AppFactory,
) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await loaded(pilot)
        await pilot.press("colon", *"computer stop nobody")  # no pause: tmux speed
        await wait_for(pilot, lambda: isinstance(app.screen, CommandLineScreen))
        field = app.screen.query_one("#command-input", Input)
        await wait_for(pilot, lambda: field.value == "computer stop nobody", what="every key")
        assert app.current_view == "computers"  # no key went to the views behind
