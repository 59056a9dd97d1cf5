"""``computer ssh`` driven through a real PTY, as a person at a terminal would."""

from __future__ import annotations

import json
import signal
import termios
from typing import Any

from celesto_api import Celesto

from .helpers import Cli, Terminal, celesto_tui, stopped

DETACH = b"\x1d"  # Ctrl+]


def ssh(cli: Cli, *args: str) -> Terminal:
    return Terminal(celesto_tui("computer", "ssh", *args, *cli.target_args()), cli.env)


def test_type_resize_detach_and_reattach(
    cli: Cli, sdk: Celesto, running_computer: dict[str, Any]
) -> None:
    name = running_computer["name"]
    stopped(sdk, running_computer)
    first = ssh(cli, name)
    try:
        first.expect(rf"Computer {name} is stopped\. Resuming\.\.\.")
        first.expect(rf"Connected to {name}\. Press Ctrl\+\] to detach\.")
        first.type(b"MARK=kept-$((6*7)); echo typed-$((6*7))\r")
        first.expect("typed-42")
        # Raw mode: the local tty neither echoes nor waits for a line.
        modes = termios.tcgetattr(first.slave)
        assert not modes[3] & (termios.ECHO | termios.ICANON)
        first.type(b"stty size\r")
        first.expect(r"24 80")

        first.resize(40, 100)
        first.expect(r"\$ ")
        first.type(b"stty size\r")
        first.expect(r"40 100")

        first.type(DETACH)
        reattach = first.expect(
            rf"Detached from {name}; the shell keeps running\. Reattach with: "
            rf"celesto-tui computer ssh {name} --terminal-id (term_[A-Za-z0-9_-]+)"
        )
        assert first.wait() == 0
        assert termios.tcgetattr(first.slave) == first.initial_modes, "tty not restored"
    finally:
        first.close()

    second = ssh(cli, name, "--terminal-id", reattach.group(1))
    try:
        second.expect(rf"Connected to {name}\.")
        second.type(b"echo still-$MARK\r")
        second.expect("still-kept-42")
        second.type(b"exit\r")
        second.expect(rf"Connection to {name} closed\.")
        assert second.wait() == 0
        assert termios.tcgetattr(second.slave) == second.initial_modes
    finally:
        second.close()


def test_json_summary_after_the_session(cli: Cli, running_computer: dict[str, Any]) -> None:
    terminal = ssh(cli, running_computer["id"], "--json")
    try:
        terminal.expect("Connected to")
        terminal.type(b"echo ready-$((1+1))\r")
        terminal.expect("ready-2")
        terminal.type(b"abc" + DETACH + b"ignored")
        summary = terminal.expect(r'(?s)\{\s*"computer_id".*?\n\}')
        assert terminal.wait() == 0
    finally:
        terminal.close()
    document = json.loads(summary.group(0))
    assert document["detached"] is True
    assert document["name"] == running_computer["name"]
    assert document["terminal_id"].startswith("term_")


def test_unknown_terminal_id(cli: Cli, running_computer: dict[str, Any]) -> None:
    terminal = ssh(cli, running_computer["name"], "--terminal-id", "term_nothere")
    try:
        assert terminal.wait() == 1
    finally:
        terminal.close()
    (line,) = [line for line in terminal.seen.splitlines() if line.startswith("Error:")]
    assert f"No shell term_nothere on {running_computer['name']}; it may have exited." in line
    assert line.endswith(
        f"Open a new one with: celesto-tui computer ssh {running_computer['name']} "
        f"--base-url {cli.served.base_url}"
    )
    assert "Connected" not in terminal.seen


def test_stdin_that_is_not_a_terminal_is_refused(
    cli: Cli, running_computer: dict[str, Any]
) -> None:
    """A pipe would end while the remote shell keeps waiting on its terminal."""
    result = cli("computer", "ssh", running_computer["name"], input="echo hi\n")
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1
    (line,) = result.error_lines
    assert "needs a terminal" in line
    assert (
        f"celesto-tui computer run {running_computer['name']} COMMAND"
        f" --base-url {cli.served.base_url}"
    ) in line
    assert result.stdout == ""


def test_sigterm_restores_the_terminal(cli: Cli, running_computer: dict[str, Any]) -> None:
    terminal = ssh(cli, running_computer["name"])
    try:
        terminal.expect("Connected to")
        terminal.type(b"echo up-$((40+3))\r")
        terminal.expect("up-43")  # only the remote shell computes it: raw mode is on
        assert termios.tcgetattr(terminal.slave) != terminal.initial_modes
        terminal.process.send_signal(signal.SIGTERM)
        assert terminal.wait() == 128 + signal.SIGTERM
        assert termios.tcgetattr(terminal.slave) == terminal.initial_modes
    finally:
        terminal.close()
