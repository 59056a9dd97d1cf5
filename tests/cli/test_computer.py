"""``computer create|list|get|templates|stop|start|delete`` and how failures read."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from celesto_api import Celesto, CelestoNotFoundError

from .helpers import Cli, Result, wait_for


def assert_one_line_error(result: Result, code: int, *fragments: str) -> None:
    assert result.returncode == code, result
    assert "Traceback" not in result.stderr
    assert len(result.error_lines) == 1, result.stderr
    for fragment in fragments:
        assert fragment in result.error_lines[0], result.stderr


def assert_only_one_line(result: Result, code: int, *fragments: str) -> None:
    """The whole of stderr is the one error line (no usage block, no notes)."""
    assert_one_line_error(result, code, *fragments)
    assert result.stderr.count("\n") == 1, result.stderr


def test_create_json_then_list_and_get(cli: Cli, sdk: Celesto) -> None:
    created = cli("computer", "create", "--cpus", "2", "--memory", "1024", "--wait", "--json")
    assert created.returncode == 0, created.stderr
    computer = created.json()
    try:
        assert computer["status"] == "running"
        assert (computer["vcpus"], computer["ram_mb"]) == (2, 1024)

        listed = cli("computer", "list")
        assert listed.returncode == 0
        header, *rows = listed.stdout.splitlines()
        assert header.split() == [
            "NAME",
            "ID",
            "STATUS",
            "CPUS",
            "MEMORY",
            "DISK",
            "TEMPLATE",
            "PORTS",
            "AGE",
        ]
        row = next(line for line in rows if computer["id"] in line)
        assert row.split()[:4] == [computer["name"], computer["id"], "running", "2"]
        # Aligned: every row starts its ID column where the header does.
        assert row.index(computer["id"]) == header.index("ID")

        as_json = cli("computer", "list", "--json").json()
        assert isinstance(as_json, list)
        assert computer["id"] in {item["id"] for item in as_json}
        only_stopped = cli("computer", "list", "--status", "stopped", "-j").json()
        assert computer["id"] not in {item["id"] for item in only_stopped}
        in_project = cli("computer", "list", "--project", computer["project_id"], "-j").json()
        assert computer["id"] in {item["id"] for item in in_project}
        elsewhere = cli("computer", "list", "--project-id", "no-such-project", "-j").json()
        assert computer["id"] not in {item["id"] for item in elsewhere}
        assert len(cli("computer", "list", "--limit", "1", "--json").json()) == 1

        shown = cli("computer", "get", computer["name"])
        assert re.search(rf"^ID:\s+{computer['id']}$", shown.stdout, re.MULTILINE)
        assert re.search(r"^Status:\s+running$", shown.stdout, re.MULTILINE)
        assert re.search(r"^CPUs:\s+2$", shown.stdout, re.MULTILINE)
        # True on the embedded backend too: how "on" is carried out depends on isolation.
        internet = re.search(r"^Internet:\s+(.*)$", shown.stdout, re.MULTILINE)
        assert internet is not None
        assert internet.group(1) in (
            "on (through the egress proxy)",
            "on (the host's network: process isolation enforces no policy)",
        )
        assert cli("computer", "get", computer["id"], "--json").json()["name"] == computer["name"]
    finally:
        sdk.computers.delete(computer["id"])


def test_create_prints_name_id_and_how_to_connect(cli: Cli, sdk: Celesto) -> None:
    result = cli("computer", "create", "--template", "coding-agent", "--persistent-home")
    assert result.returncode == 0, result.stderr
    match = re.search(r"^Created computer (\S+) \((cmp_\w+)\)\.$", result.stdout, re.MULTILINE)
    assert match, result.stdout
    name, computer_id = match.groups()
    try:
        assert re.search(r"^Template:\s+coding-agent", result.stdout, re.MULTILINE)
        assert re.search(r"^Persistent home:\s+yes$", result.stdout, re.MULTILINE)
        assert result.stdout.rstrip().endswith(
            f"Connect with: celesto-tui computer ssh {name} --base-url {cli.served.base_url}"
        )
        assert sdk.computers.get(computer_id)["external_volume_enabled"] is True
    finally:
        sdk.computers.delete(computer_id)


def test_templates(cli: Cli) -> None:
    text = cli("computer", "templates")
    assert text.returncode == 0
    assert text.stdout.splitlines()[0].split()[:2] == ["ID", "NAME"]
    assert re.search(r"^scratch\s+Scratch\s+1\s+1 GB", text.stdout, re.MULTILINE)
    ids = [template["id"] for template in cli("computer", "templates", "--json").json()]
    assert "scratch" in ids and "coding-agent" in ids


def test_stop_and_start(cli: Cli, running_computer: dict[str, Any]) -> None:
    stopped = cli("computer", "stop", running_computer["name"], "--wait")
    assert stopped.returncode == 0, stopped.stderr
    assert stopped.stdout == f"Computer {running_computer['name']} is stopped.\n"
    started = cli("computer", "start", running_computer["id"], "--wait", "--json")
    assert started.returncode == 0, started.stderr
    assert started.json()["status"] == "running"


def test_delete_asks_first(cli: Cli, sdk: Celesto, running_computer: dict[str, Any]) -> None:
    declined = cli("computer", "delete", running_computer["name"], input="n\n")
    assert declined.returncode == 1
    question = (
        f"Delete computer {running_computer['name']} ({running_computer['id']}) and all its files?"
    )
    assert question in declined.stderr
    assert "Not deleted." in declined.stderr
    assert sdk.computers.get(running_computer["id"])["status"] == "running"

    # Nothing to read the answer from: an error that says how to skip the question.
    no_answer = cli("computer", "delete", running_computer["name"])
    assert_one_line_error(no_answer, 1, "Not confirmed", "--force")
    assert sdk.computers.get(running_computer["id"])["status"] == "running"

    # An unknown computer fails before any question.
    unknown = cli("computer", "delete", "no-such-computer", input="y\n")
    assert_one_line_error(unknown, 1, "no-such-computer", "not found")
    assert "Delete computer" not in unknown.stderr

    deleted = cli("computer", "delete", running_computer["name"], "--force", "--wait")
    assert deleted.returncode == 0, deleted.stderr
    assert deleted.stdout == f"Computer {running_computer['name']} is deleted.\n"
    with pytest.raises(CelestoNotFoundError):
        sdk.computers.get(running_computer["id"])


def test_delete_with_json_does_not_ask(
    cli: Cli, sdk: Celesto, running_computer: dict[str, Any]
) -> None:
    result = cli("computer", "delete", running_computer["id"], "--json")
    assert result.returncode == 0, result.stderr
    assert result.json()["id"] == running_computer["id"]
    assert result.stderr == ""
    wait_for_gone(sdk, running_computer["id"])


def wait_for_gone(sdk: Celesto, computer_id: str) -> None:
    with pytest.raises(CelestoNotFoundError):
        wait_for(sdk, computer_id, "never")


@pytest.mark.parametrize(
    "args",
    [
        ("computer", "get", "no-such-computer"),
        ("computer", "run", "no-such-computer", "true"),
        ("computer", "port", "list", "no-such-computer"),
        ("computer", "delete", "no-such-computer", "--force"),
    ],
)
def test_unknown_computer_is_one_line_and_exit_1(cli: Cli, args: tuple[str, ...]) -> None:
    result = cli(*args)
    assert_one_line_error(result, 1, "no-such-computer", "not found", "celesto-tui computer list")
    assert result.stdout == ""


@pytest.mark.parametrize(
    ("args", "mentions"),
    [
        (("computer", "create", "--cpus", "0"), "--cpus"),
        (("computer", "create", "--cpus", "17"), "--cpus"),
        (("computer", "create", "--memory", "511"), "--memory"),
        (("computer", "create", "--memory", "32769"), "--memory"),
        (("computer", "create", "--disk", "511"), "--disk"),
        (("computer", "create", "--disk", "20481"), "--disk"),
        (("computer", "create", "--disk", "3xb"), "--disk"),
        (("computer", "create", "--no-internet", "--persistent-home"), "--persistent-home"),
        (("computer", "run", "x", "true", "--timeout", "0"), "--timeout"),
        (("computer", "run", "x", "true", "--timeout", "301"), "--timeout"),
        (("computer", "run", "x", "   "), "command"),
        (("computer", "port", "publish", "x", "--port", "1023"), "--port"),
        (("computer", "port", "unpublish", "x", "--port", "65536"), "--port"),
        (("computer", "list", "--status", "sleeping"), "--status"),
        (("computer", "list", "--limit", "0"), "--limit"),
        (("computer", "list", "--limit", "201"), "--limit"),
        (("computer", "ssh", "x", "--terminal-id", "not a terminal"), "--terminal-id"),
        (("computer", "get"), "COMPUTER"),
        (("computer", "frobnicate"), "frobnicate"),
        (("--json",), "needs a command"),
    ],
)
def test_usage_errors_exit_2(cli: Cli, args: tuple[str, ...], mentions: str) -> None:
    result = cli(*args)
    assert_only_one_line(result, 2, mentions)
    assert re.search(r"\. See: celesto-tui( [a-z]+)* --help$", result.error_lines[0]), result.stderr
    assert result.stdout == ""


def test_both_edges_of_each_range_are_accepted(cli: Cli, sdk: Celesto) -> None:
    created = []
    try:
        for cpus, memory, disk in (("1", "512", "512"), ("16", "32768", "20gb")):
            result = cli(
                "computer", "create", "-c", cpus, "-m", memory, "--disk", disk, "--json"
            )  # fmt: skip
            assert result.returncode == 0, result.stderr
            computer = result.json()
            created.append(computer["id"])
            assert (computer["vcpus"], computer["ram_mb"]) == (int(cpus), int(memory))
            assert computer["disk_size_mb"] == (512 if disk == "512" else 20480)
        assert len(cli("computer", "list", "--limit", "1", "--json").json()) == 1
        assert cli("computer", "list", "--limit", "200", "--json").returncode == 0
    finally:
        for computer_id in created:
            sdk.computers.delete(computer_id)


def test_no_key_for_an_explicit_base_url(cli: Cli, config_dir: Path) -> None:
    result = cli("computer", "list", "--base-url", cli.served.base_url, target=False)
    assert_one_line_error(result, 1, "No API key", "auth login")


def test_rejected_key_is_one_line_without_the_key(cli: Cli) -> None:
    secret = "sk_wrong_key_4f1d9c0e"
    result = cli(
        "computer", "list", "--base-url", cli.served.base_url, "--api-key", secret, target=False
    )
    assert_one_line_error(result, 1, "Authentication failed", "auth status")
    assert secret not in result.stderr + result.stdout


def test_unreachable_api(cli: Cli) -> None:
    result = cli(
        "computer", "get", "x", "--base-url", "http://127.0.0.1:9", "--api-key", "k", target=False
    )
    assert_one_line_error(result, 1, "Failed to connect", "http://127.0.0.1:9")


def test_global_options_before_the_command_and_from_the_environment(
    cli: Cli, running_computer: dict[str, Any]
) -> None:
    served = cli.served
    before = cli(
        "--base-url", served.base_url, "--api-key", served.api_key, "computer", "get",
        running_computer["name"], "-j", target=False,
    )  # fmt: skip
    assert before.returncode == 0, before.stderr
    assert before.json()["id"] == running_computer["id"]

    json_first = cli(
        "-j", "--base-url", served.base_url, "-k", served.api_key, "computer", "get",
        running_computer["id"], target=False,
    )  # fmt: skip
    assert json_first.returncode == 0, json_first.stderr
    assert json_first.json()["name"] == running_computer["name"]

    env_cli = Cli(
        served,
        {**cli.env, "CELESTO_BASE_URL": served.base_url, "CELESTO_API_KEY": served.api_key},
    )
    from_env = env_cli("computer", "get", running_computer["id"], "--json", target=False)
    assert from_env.returncode == 0, from_env.stderr
    assert from_env.json()["name"] == running_computer["name"]
