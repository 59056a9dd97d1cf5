"""The command log: every change the dashboard made, as a ``celesto-tui`` command line.

Lines come from `celesto_tui.commands.lines` (shared with the CLI, so both spell commands the
same way); API keys and tokens never appear and deployment env values are masked there.
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from .commands.lines import command_line, computer_command, create_command

MAX_ENTRIES = 500


@dataclass
class LogEntry:
    at: datetime
    action: str
    subject: str
    line: str
    status: str = "running"  # running | ok | failed
    detail: str = ""


@dataclass(frozen=True)
class Where:
    """The target options every line carries (``--local`` or ``--profile NAME``)."""

    local: bool = False
    profile: str | None = None

    def options(self) -> dict[str, Any]:
        return {"local": True} if self.local else {"profile": self.profile}


def computer_line(where: Where, verb: str, *args: Any, **options: Any) -> str:
    return computer_command(verb, *args, **options, **where.options())


def create_line(where: Where, arguments: Mapping[str, Any]) -> str:
    line = create_command(
        cpus=arguments.get("cpus"),
        memory=arguments.get("memory"),
        disk=arguments.get("disk"),
        template_id=arguments.get("template_id"),
        network_policy=arguments.get("network_policy"),
        local=where.local,
    )
    if not where.local and where.profile:
        line += " " + shlex.join(["--profile", where.profile])
    return line


def deploy_line(
    where: Where,
    folder: str,
    name: str,
    description: str | None,
    envs: Mapping[str, str],
    project: str | None,
) -> str:
    return command_line(
        "deploy",
        folder,
        name=name,
        description=description or None,
        env=dict(envs) or None,
        project=project,
        **where.options(),
    )


class CommandLog:
    def __init__(self) -> None:
        self.entries: list[LogEntry] = []

    def add(self, at: datetime, action: str, subject: str, line: str) -> LogEntry:
        entry = LogEntry(at, action, subject, line)
        self.entries.append(entry)
        del self.entries[:-MAX_ENTRIES]
        return entry
