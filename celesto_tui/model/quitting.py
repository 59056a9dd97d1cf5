"""What quitting the dashboard would end, said before it happens.

Only the embedded backend this process started (``--local``, or no API key configured) goes
away with the app: its computers' sandboxes are halted (they come back as ``stopped``) and
its shells end. A cloud, a ``local serve`` server or a data dir another process holds
(``Target.shared``) outlives the app, and so do their durable shells: nothing to confirm.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from .target import Target

# Statuses of a computer whose sandbox is up or coming up: halted when the backend stops.
STOPPED_BY_QUIT = frozenset({"running", "starting", "creating", "restoring"})


def _count(number: int, one: str, many: str) -> str:
    return f"{number} {one if number == 1 else many}"


@dataclass(frozen=True)
class QuitLosses:
    computers: tuple[str, ...]  # names of the computers that will stop
    shells: int

    def __bool__(self) -> bool:
        return bool(self.computers or self.shells)

    def sentence(self) -> str:
        """``2 running computers will stop, 1 shell will end``."""
        parts = []
        if self.computers:
            number = len(self.computers)
            parts.append(_count(number, "running computer", "running computers") + " will stop")
        if self.shells:
            parts.append(_count(self.shells, "shell", "shells") + " will end")
        return ", ".join(parts)


def _running(computers: Iterable[Mapping[str, Any]], suffix: str = "") -> list[str]:
    return [
        str(computer.get("name") or computer.get("id")) + suffix
        for computer in computers
        if computer.get("status") in STOPPED_BY_QUIT
    ]


def quit_losses(
    target: Target,
    computers: Iterable[Mapping[str, Any]],
    shells: int,
    behind: Iterable[Mapping[str, Any]] = (),
) -> QuitLosses:
    """What quitting now would stop: ``target``'s computers and shells if it is the embedded
    backend this process runs, and ``behind``, the computers of that backend when another
    target is shown (switched away from, it still stops with the app)."""
    names = _running(behind, " (local)")
    if target.local and not target.shared:
        names += _running(computers)
    else:
        shells = 0
    return QuitLosses(tuple(sorted(names)), shells)
