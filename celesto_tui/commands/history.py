"""``celesto-tui computer history``: the commands a computer ran, newest first."""

from __future__ import annotations

from typing import Any

import click

from celesto_api import limits

from .common import GlobalOptions, connect, global_options
from .output import emit, emit_json, table, text, timestamp


def history_table(commands: list[Any]) -> str:
    rows = [
        (
            timestamp(entry.get("started_at")),
            text(entry.get("status")),
            text(entry.get("exit_code")),
            text(entry.get("duration_ms")),
            text(entry.get("source")),
            text(entry.get("command_id")),
        )
        for entry in commands
    ]
    return table(("STARTED", "STATUS", "EXIT", "MS", "SOURCE", "ID"), rows)


@click.command(
    "history",
    epilog="""\b
Examples:
  celesto-tui computer history einstein
  celesto-tui computer history einstein --limit 5 --json

After an exec whose answer was lost, this says whether the command ran.
""",
)
@click.argument("computer")
@click.option(
    "--limit",
    type=click.IntRange(limits.COMMANDS_LIMIT_MIN, limits.COMMANDS_LIMIT_MAX),
    default=limits.COMMANDS_LIMIT_DEFAULT,
    show_default=True,
    help="How many commands to show.",
)
@global_options
def history_command(opts: GlobalOptions, computer: str, limit: int) -> None:
    """List the commands run on a computer: status, exit code, duration."""
    with connect(opts) as conn:
        history = conn.client.computers.list_command_history(computer, limit)
        if opts.json:
            emit_json(history)
        elif history["commands"]:
            emit(history_table(list(history["commands"])))
        else:
            emit("No commands yet.")
