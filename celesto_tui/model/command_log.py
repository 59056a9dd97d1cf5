"""The command log: every change the dashboard made, as a ``celesto-tui`` command line.

Lines come from `celesto_tui.commands.lines` (shared with the CLI, so both spell commands the
same way); API keys and tokens never appear and deployment env values are masked there.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from celesto_api.config import DEFAULT_BASE_URL

from .command_lines import PROGRAM, command_line, computer_command, create_command

MAX_ENTRIES = 500


Status = Literal["running", "ok", "failed", "cancelled"]
FINAL_STATUSES: frozenset[str] = frozenset({"ok", "failed", "cancelled"})


@dataclass
class LogEntry:
    at: datetime
    action: str
    subject: str
    line: str
    status: Status = "running"
    detail: str = ""

    @property
    def done(self) -> bool:
        return self.status in FINAL_STATUSES

    def progress(self, detail: str) -> None:
        """The API accepted it, but what it leads to is still to come (a deploy builds):
        the entry stays ``running``, saying how far it got."""
        if not self.done:
            self.detail = detail

    def finish(self, status: Status, detail: str) -> None:
        """The first outcome sticks: a late answer never rewrites what the log has said."""
        if not self.done:
            self.status = status
            self.detail = detail


@dataclass(frozen=True)
class Where:
    """The target options every line carries: ``--local`` (with the dashboard's
    ``--data-dir``), or ``--profile NAME`` and ``--base-url URL`` when it is not the
    default (never the API key)."""

    local: bool = False
    profile: str | None = None
    base_url: str | None = None
    data_dir: str | None = None

    def options(self) -> dict[str, Any]:
        if self.local:
            return {"local": True}
        base_url = self.base_url if self.base_url not in (None, DEFAULT_BASE_URL) else None
        return {"profile": self.profile, "base_url": base_url}

    def place(self, line: str) -> str:
        """``line`` with the root options (``--data-dir`` goes before the command)."""
        if not (self.local and self.data_dir):
            return line
        root = command_line(data_dir=self.data_dir).removeprefix(PROGRAM)
        return PROGRAM + root + line.removeprefix(PROGRAM)


def computer_line(where: Where, verb: str, *args: Any, **options: Any) -> str:
    return where.place(computer_command(verb, *args, **options, **where.options()))


def deployment_line(where: Where, verb: str, name: str, **options: Any) -> str:
    """``celesto-tui deployments <verb> NAME``, e.g. ``delete NAME --force`` (the dashboard
    has asked already)."""
    return where.place(command_line("deployments", verb, name, **options, **where.options()))


def create_line(where: Where, arguments: Mapping[str, Any]) -> str:
    line = create_command(
        cpus=arguments.get("cpus"),
        memory=arguments.get("memory"),
        disk=arguments.get("disk"),
        template_id=arguments.get("template_id"),
        network_policy=arguments.get("network_policy"),
        local=where.local,
    )
    target = where.options()
    target.pop("local", None)
    return where.place(line + command_line(**target).removeprefix(PROGRAM))


def deploy_line(
    where: Where,
    folder: str,
    name: str,
    description: str | None,
    envs: Mapping[str, str],
    project: str | None,
) -> str:
    line = command_line(
        "deploy",
        folder,
        name=name,
        description=description or None,
        env=dict(envs) or None,
        project=project,
        **where.options(),
    )
    return where.place(line)


class CommandLog:
    def __init__(self) -> None:
        self.entries: list[LogEntry] = []

    def add(self, at: datetime, action: str, subject: str, line: str) -> LogEntry:
        entry = LogEntry(at, action, subject, line)
        self.entries.append(entry)
        del self.entries[:-MAX_ENTRIES]
        return entry
