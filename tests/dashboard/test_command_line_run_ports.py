"""`:computer run` and `:computer port publish|unpublish` in the CLI's (and so the command
log's) own syntax: run through the exec pane and the same port intents as the keys."""

from __future__ import annotations

from typing import Any

import pytest
from textual.widgets import Input, TabbedContent

from celesto_tui.app.celesto_app import CelestoApp
from celesto_tui.app.screens.command_line import CommandLineScreen
from celesto_tui.app.screens.confirm import ConfirmScreen
from celesto_tui.model.command_input import CommandInputError, complete, parse_command
from celesto_tui.model.command_log import Where, computer_line

from .conftest import AppFactory, computers_view, loaded, wait_for

LOCAL = Where(local=True)


def test_run_and_port_lines_of_the_command_log_read_back() -> None:
    line = computer_line(LOCAL, "run", "ada", "echo 'a b' | wc -c", timeout=60)
    run = parse_command(line, LOCAL)
    assert (run.phrase, run.names) == ("computer run", ("ada",))
    assert run.arguments == {"command": "echo 'a b' | wc -c", "timeout": 60}
    # The CLI's other spellings: -t, --stream (the pane streams anyway), words after --.
    run = parse_command('computer run ada -t 5 --stream -- echo "a b"')
    assert run.arguments == {"command": "echo 'a b'", "timeout": 5}
    assert parse_command("computer run ada ls -la").arguments["command"] == "ls -la"
    assert parse_command("computer run ada uptime").arguments["timeout"] == 30
    publish = parse_command(computer_line(LOCAL, "port publish", "ada", port=8080), LOCAL)
    assert (publish.phrase, publish.names, publish.arguments) == (
        "computer port publish",
        ("ada",),
        {"port": 8080},
    )
    unpublish = parse_command("computer port unpublish ada -p 9000")
    assert (unpublish.phrase, unpublish.arguments) == ("computer port unpublish", {"port": 9000})
    assert parse_command("computer port publish ada").arguments == {"port": 8000}  # the CLI's


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("computer run ada", "needs a computer and a command"),
        ("computer run ada ls --all", "put it after --"),
        ("computer run ada ls -t 999", "timeout must be between 1 and 300"),
        ("computer port publish ada --port 80", "port must be between 1024 and 65535"),
        ("computer port publish ada grace", "takes one computer"),
        ("computer port unpublish ada --port", "--port needs a value"),
    ],
)
def test_bad_run_and_port_lines_say_what_is_wrong(text: str, problem: str) -> None:
    with pytest.raises(CommandInputError, match=problem):
        parse_command(text)


def test_completion_of_run_and_port_phrases() -> None:
    computers: list[str] = ["ada", "grace"]
    assert complete("computer r", computers, []) == "computer run"
    assert complete("computer run gr", computers, []) == "computer run grace"
    assert complete("computer run ada --t", computers, []) == "computer run ada --timeout"
    assert complete("computer po", computers, []) == "computer port"
    assert complete("computer port u", computers, []) == "computer port unpublish"
    assert complete("computer port publish a", computers, []) == "computer port publish ada"
    assert complete("computer port publish ada --p", computers, []) == (
        "computer port publish ada --port"
    )


async def type_command(pilot: Any, text: str) -> None:
    app = pilot.app
    assert isinstance(app, CelestoApp)
    await pilot.press("colon")
    await wait_for(pilot, lambda: isinstance(app.screen, CommandLineScreen))
    app.screen.query_one("#command-input", Input).value = text
    await pilot.press("enter")
    await wait_for(pilot, lambda: not isinstance(app.screen, CommandLineScreen))


async def test_colon_run_shows_the_output_in_the_exec_pane(
    make_app: AppFactory, running_computer: dict[str, Any]
) -> None:
    app = make_app()
    name = str(running_computer["name"])
    async with app.run_test(size=(160, 48)) as pilot:
        await loaded(pilot)
        await wait_for(pilot, lambda: running_computer["id"] in computers_view(app).table.rows)
        await pilot.press("colon")
        await wait_for(pilot, lambda: isinstance(app.screen, CommandLineScreen))
        field = app.screen.query_one("#command-input", Input)
        await pilot.press(*"computer r", "tab")  # completion, as for the other verbs
        await wait_for(pilot, lambda: field.value == "computer run", what="the phrase")
        field.value = f"computer run {name} 'echo typed-$((6*7))' --timeout 20"
        await pilot.press("enter")
        view = computers_view(app)
        pane = view.exec_pane
        await wait_for(pilot, lambda: pane.last_exit is not None and not pane.running, what="run")
        assert ("stdout", "typed-42") in [
            (line.stream, line.text) for line in pane.output.lines_kept
        ]
        assert view.query_one("#detail", TabbedContent).active == "pane-exec"
        assert view.table.selected_key() == running_computer["id"]
        entry = app.command_log.entries[-1]
        assert (
            entry.line
            == f"celesto-tui computer run {name} 'echo typed-$((6*7))' --timeout 20 --local"
        )
        assert entry.status == "ok"


async def test_colon_publish_and_unpublish_go_through_the_port_intents(
    make_app: AppFactory, running_computer: dict[str, Any]
) -> None:
    app = make_app()
    name = str(running_computer["name"])
    async with app.run_test(size=(160, 48)) as pilot:
        await loaded(pilot)
        view = computers_view(app)
        await wait_for(pilot, lambda: running_computer["id"] in view.table.rows)
        await type_command(pilot, f"computer port unpublish {name} --port 8123")
        assert any(f"{name} has no published port 8123" in n.message for n in app._notifications)

        await type_command(pilot, f"computer port publish {name} --port 8123")
        pane = view.ports_pane
        await wait_for(
            pilot,
            lambda: [(p["port"], p["status"]) for p in pane.ports] == [(8123, "published")],
            what="the published port",
        )
        assert view.query_one("#detail", TabbedContent).active == "pane-ports"
        entry = app.command_log.entries[-1]
        assert entry.line == f"celesto-tui computer port publish {name} --port 8123 --local"

        await type_command(pilot, f"computer port unpublish {name} --port 8123")
        # The same confirmation as the U key.
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="the question")
        await pilot.click("#confirm")
        await wait_for(pilot, lambda: not pane.ports, what="the port gone")
        entry = app.command_log.entries[-1]
        assert entry.line == f"celesto-tui computer port unpublish {name} --port 8123 --local"
