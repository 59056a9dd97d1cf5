"""``celesto-tui computer ssh NAME``: an interactive shell on a computer in this terminal."""

from __future__ import annotations

import sys

import click

from celesto_api import CelestoNotFoundError

from ..terminal.attach import attach_raw, terminal_size
from . import params
from .common import (
    CommandError,
    Connection,
    GlobalOptions,
    connect,
    global_options,
    target_line,
)
from .output import emit_json, note
from .resume import ensure_running

SSH_EPILOG = """\b
Examples:
  celesto-tui computer ssh einstein
  celesto-tui computer ssh einstein --terminal-id term_4f2a...

Ctrl+] detaches and leaves the shell running (with what runs in it); the command
printed on detach attaches to the same shell again. A stopped computer is started first.
It needs a terminal on stdin; scripts run commands with `celesto-tui computer run`.
"""


def _after_session(conn: Connection, name: str, detached: bool, terminal_id: str | None) -> None:
    if not detached:
        note(f"Connection to {name} closed.")
    elif conn.target.local and not conn.target.shared:
        note(
            f"Detached from {name}. The embedded backend stops with this command, so the "
            f"shell ends too; for shells that outlive it, keep `{conn.serve_line()}` running "
            "(--local commands with its data dir reach it)."
        )
    else:
        again = conn.line("computer", "ssh", name, terminal_id=terminal_id)
        note(f"Detached from {name}; the shell keeps running. Reattach with: {again}")


@click.command("ssh", epilog=SSH_EPILOG)
@click.argument("computer")
@click.option(
    "--terminal-id",
    metavar="TERMINAL_ID",
    callback=params.terminal_id,
    help="Attach to this existing shell (printed when you detach).",
)
@global_options
def ssh_command(opts: GlobalOptions, computer: str, terminal_id: str | None) -> None:
    """Open an interactive shell on a computer in this terminal.

    Press Ctrl+] to detach; the shell keeps running and --terminal-id reattaches.
    """
    if not sys.stdin.isatty():
        # The shell reads a terminal, which never ends the way a pipe does, so piped input
        # would leave the session open forever (docker exec -it refuses the same way).
        run = target_line(opts, "computer", "run", computer, "COMMAND")
        raise click.UsageError(
            f"computer ssh needs a terminal and stdin is not one; without a terminal, run: {run}"
        )
    with connect(opts) as conn:
        machine = ensure_running(conn.client, conn.client.computers.get(computer))
        name = machine["name"]
        cols, rows = terminal_size(sys.stdout.fileno(), sys.stdin.fileno())
        try:
            session = conn.client.computers.open_terminal(machine["id"], terminal_id, cols, rows)
        except CelestoNotFoundError:
            if terminal_id is None:
                raise
            raise CommandError(
                f"No shell {terminal_id} on {name}; it may have exited",
                "Open a new one with: " + conn.line("computer", "ssh", name),
            ) from None
        note(f"Connected to {name}. Press Ctrl+] to detach.")
        result = attach_raw(session)
        if sys.stderr.isatty():
            sys.stderr.write("\n")  # the remote prompt may have left the cursor mid-line
        _after_session(conn, name, result.detached, result.terminal_id)
        if opts.json:
            emit_json(
                {
                    "computer_id": machine["id"],
                    "name": name,
                    "terminal_id": result.terminal_id,
                    "detached": result.detached,
                }
            )
