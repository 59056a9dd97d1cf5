"""Following an action to its end: one toast when the computer or deployment gets there.

An action's own toast says the API accepted it ("Starting ada: requested."); the state it
leads to comes later, through the polls. The app watches what each action asked for and
tells the user when a poll shows it (or shows it went wrong).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from .command_log import LogEntry, Status
from .format import one_line, status_category
from .items import Item

GONE = ""  # the status a delete waits for: not listed any more
# verb -> the statuses that end it ("error"/"FAILED" end everything)
OUTCOMES: dict[str, frozenset[str]] = {
    "create": frozenset({"running"}),
    "start": frozenset({"running"}),
    "stop": frozenset({"stopped"}),
    "delete": frozenset({GONE, "deleted"}),
    "deploy": frozenset({"READY", "STOPPED"}),
}
# A deploy that ends STOPPED (someone stopped it while it built) did not succeed.
SUCCEEDED = dict(OUTCOMES, deploy=frozenset({"READY"}))
SUMMARY_AFTER = 3  # more settled at once than this: one toast for all


@dataclass(frozen=True)
class Settled:
    name: str
    status: str  # GONE when it is no longer listed
    error: str = ""
    entry: LogEntry | None = None  # the action's command-log entry, now finished

    @property
    def bad(self) -> bool:
        return status_category(self.status) == "bad"

    def text(self) -> str:
        if self.status in (GONE, "deleted"):
            return f"{self.name} was deleted."
        error = f": {self.error}" if self.bad and self.error else "."
        return f"{self.name} is {self.status}{error}"


class Watcher:
    def __init__(self) -> None:
        # (kind, key) -> name, verb, since (monotonic time of the action), log entry
        self._watched: dict[tuple[str, str], tuple[str, str, float, LogEntry | None]] = {}

    def watch(
        self, kind: str, key: str, name: str, verb: str, since: float, entry: LogEntry | None = None
    ) -> None:
        """Watch until a poll shows where ``verb`` led; ``entry`` (if any) is finished there:
        ``ok`` when it got what it asked for, ``failed`` when it went wrong, ``cancelled``
        when something else ended it (stopped or deleted meanwhile)."""
        self._watched[(kind, key)] = (name, verb, since, entry)

    def forget(self, kind: str, key: str) -> None:
        self._watched.pop((kind, key), None)

    def settled(self, kind: str, items: Mapping[str, Item], polled_at: float) -> list[Settled]:
        """What a poll of ``kind`` (items by key, sent at ``polled_at``) shows has ended;
        those are no longer watched. A poll sent before the action says nothing about it."""
        done: list[Settled] = []
        for (watched_kind, key), (name, verb, since, entry) in list(self._watched.items()):
            if watched_kind != kind or polled_at < since:
                continue
            item = items.get(key)
            status = GONE if item is None else str(item.get("status", ""))
            ended = status in OUTCOMES[verb] or status == GONE
            if not ended and status_category(status) != "bad":
                continue
            error = one_line(item.get("last_error"), 200) if item is not None else ""
            settled = Settled(name, status, "" if error == "-" else error, entry)
            if entry is not None:
                entry.finish(_outcome(settled, verb), settled.text())
            done.append(settled)
            del self._watched[(watched_kind, key)]
        return done


def _outcome(settled: Settled, verb: str) -> Status:
    if settled.bad:
        return "failed"
    return "ok" if settled.status in SUCCEEDED[verb] else "cancelled"
