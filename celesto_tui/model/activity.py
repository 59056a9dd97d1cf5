"""What happened to each computer, as this dashboard knows it: the status transitions its
polls saw, the actions it took (their command-log entries), and the commands the API's
command history lists. The Activity pane shows one computer's, oldest first.

Memory is bounded: at most MAX_EVENTS transitions and actions per computer, the last
history answer (at most the API's 200 commands), and computers that leave the listing are
forgotten.
"""

from __future__ import annotations

from collections import OrderedDict, deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from .command_log import LogEntry
from .format import duration_ms, parse_time

MAX_EVENTS = 500
COMMAND_TEXTS_KEPT = 1000

Kind = Literal["status", "action", "exec"]
Tone = Literal["ok", "bad", "busy", "plain"]

ACTION_MARKS: dict[str, tuple[str, Tone]] = {
    "running": ("◐ running", "busy"),
    "ok": ("✔ ok", "ok"),
    "failed": ("✗ error", "bad"),
    "cancelled": ("■ cancelled", "bad"),
}


@dataclass(frozen=True)
class ActivityRow:
    at: datetime
    kind: Kind
    text: str
    tone: Tone = "plain"


@dataclass
class _Computer:
    transitions: deque[ActivityRow] = field(default_factory=lambda: deque(maxlen=MAX_EVENTS))
    actions: deque[tuple[datetime, LogEntry]] = field(
        default_factory=lambda: deque(maxlen=MAX_EVENTS)
    )
    history: list[Mapping[str, Any]] = field(default_factory=list)
    history_error: str = ""
    history_fetched: bool = False


def _exec_text(entry: Mapping[str, Any], command: str | None) -> tuple[str, Tone]:
    if command is not None:
        what = f"$ {command}"
    else:
        # The API's history has no command text: only what this dashboard ran is known.
        what = f"{entry.get('command_id')} (from {entry.get('source') or 'unknown'})"
    status = str(entry.get("status") or "")
    took = entry.get("duration_ms")
    took_text = f" ({duration_ms(float(took))})" if isinstance(took, int | float) else ""
    exit_code = entry.get("exit_code")
    if status == "running":
        return f"exec {what} → running…", "busy"
    if status == "timed_out":
        return f"exec {what} → timed out{took_text}", "bad"
    if isinstance(exit_code, int):
        return f"exec {what} → exit {exit_code}{took_text}", "ok" if exit_code == 0 else "bad"
    error = entry.get("error_type")
    return f"exec {what} → {status or 'ended'}{f': {error}' if error else ''}{took_text}", "bad"


def action_row(at: datetime, entry: LogEntry) -> ActivityRow:
    mark, tone = ACTION_MARKS.get(entry.status, (entry.status, "plain"))
    detail = f" · {entry.detail}" if entry.detail and entry.status != "ok" else ""
    return ActivityRow(at, "action", f"action {entry.action} (by you) {mark}{detail}", tone)


def matches(row: ActivityRow, search: str) -> bool:
    """Every word of ``search`` is in the row's time, kind or text (case-insensitive)."""
    haystack = f"{row.kind} {row.text}".casefold()
    return all(word in haystack for word in search.casefold().split())


class ActivityLog:
    def __init__(self) -> None:
        self._computers: dict[str, _Computer] = {}
        self._statuses: dict[str, str] = {}
        # command_id → the command line, for commands this dashboard ran.
        self._command_texts: OrderedDict[str, str] = OrderedDict()

    def _of(self, computer_id: str) -> _Computer:
        return self._computers.setdefault(computer_id, _Computer())

    # --- writing -----------------------------------------------------------------------

    def polled(self, computers: Iterable[Mapping[str, Any]], at: datetime) -> bool:
        """A poll's listing: record every status that changed since the last one (and the
        first status seen). True when anything was recorded."""
        seen: set[str] = set()
        changed = False
        for computer in computers:
            computer_id = str(computer.get("id"))
            seen.add(computer_id)
            status = str(computer.get("status"))
            before = self._statuses.get(computer_id)
            if before == status:
                continue
            self._statuses[computer_id] = status
            text = f"status {before} → {status}" if before else f"status {status} (first seen)"
            self._of(computer_id).transitions.append(ActivityRow(at, "status", text))
            changed = True
        for gone in set(self._statuses) - seen:
            del self._statuses[gone]
            self._computers.pop(gone, None)
        return changed

    def action(self, computer_id: str, at: datetime, entry: LogEntry) -> None:
        """An action taken on the computer; its row follows the entry's outcome."""
        self._of(computer_id).actions.append((at, entry))

    def command_ran(self, command_id: str, command: str) -> None:
        self._command_texts[command_id] = command
        while len(self._command_texts) > COMMAND_TEXTS_KEPT:
            self._command_texts.popitem(last=False)

    def history_fetched(self, computer_id: str, commands: Iterable[Mapping[str, Any]]) -> None:
        record = self._of(computer_id)
        record.history = [dict(command) for command in commands]
        record.history_error = ""
        record.history_fetched = True

    def history_failed(self, computer_id: str, error: str) -> None:
        self._of(computer_id).history_error = error

    # --- reading -----------------------------------------------------------------------

    def history_error(self, computer_id: str) -> str:
        record = self._computers.get(computer_id)
        return record.history_error if record else ""

    def rows(self, computer_id: str, search: str = "") -> list[ActivityRow]:
        """The computer's activity, oldest first (the last MAX_EVENTS), filtered by
        ``search``."""
        record = self._computers.get(computer_id)
        if record is None:
            return []
        rows = list(record.transitions)
        rows += [action_row(at, entry) for at, entry in record.actions]
        for entry in record.history:
            at = parse_time(entry.get("started_at"))
            if at is None:
                continue
            command = self._command_texts.get(str(entry.get("command_id")))
            text, tone = _exec_text(entry, command)
            rows.append(ActivityRow(at, "exec", text, tone))
        rows.sort(key=lambda row: row.at)
        rows = rows[-MAX_EVENTS:]
        if search.strip():
            rows = [row for row in rows if matches(row, search)]
        return rows
