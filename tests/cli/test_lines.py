"""``command_line``: the CLI line the dashboard's command log shows for an action."""

from __future__ import annotations

import shlex

from celesto_tui.model.command_lines import command_line, computer_command, create_command


def test_words_are_shell_quoted_and_options_follow() -> None:
    line = command_line("computer", "run", "einstein", "ls -la; echo '$HOME'", timeout=60)
    assert line.startswith("celesto-tui computer run einstein 'ls -la; echo ")
    assert line.endswith(" --timeout 60")
    assert shlex.split(line)[4] == "ls -la; echo '$HOME'"


def test_flags_lists_and_skipped_values() -> None:
    assert command_line("computer", "delete", "x", force=True, wait=False) == (
        "celesto-tui computer delete x --force"
    )
    assert command_line("computer", "list", status=None, template_id="scratch") == (
        "celesto-tui computer list --template-id scratch"
    )
    assert command_line("a", None, "b", tag=["1", "2"]) == "celesto-tui a b --tag 1 --tag 2"


def test_secrets_never_appear() -> None:
    line = command_line(
        "deploy", "./agent", name="bot", env={"OPENAI_API_KEY": "sk-live-123"}, api_key="k-9"
    )
    assert "sk-live-123" not in line and "k-9" not in line
    assert line == "celesto-tui deploy ./agent --name bot --env 'OPENAI_API_KEY=***'"
    assert "tok" not in command_line("computer", "ssh", "x", token="tok")


def test_computer_command_and_create_from_sdk_arguments() -> None:
    assert computer_command("port publish", "einstein", port=8000) == (
        "celesto-tui computer port publish einstein --port 8000"
    )
    assert create_command(cpus=2, memory=2048, disk="10gb", template_id="coding-agent") == (
        "celesto-tui computer create --cpus 2 --memory 2048 --disk 10gb --template coding-agent"
    )
    assert create_command(network_policy={"mode": "off"}, local=True) == (
        "celesto-tui computer create --no-internet --local"
    )
    assert create_command(network_policy="open", persistent_home=True) == (
        "celesto-tui computer create --persistent-home"
    )
