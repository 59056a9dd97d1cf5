"""What the dashboard remembers between runs: theme, sort and filter per view, exec history,
the context last picked, and the terminal open on each computer (per API base URL, so a
shell left running on a computer is reattached after a restart; ids only, never the tokens
that open them).

A JSON file the app owns (``ui-state.json`` in the platformdirs state dir, or
``$CELESTO_STATE_DIR``), separate from the user's config file, which the app never rewrites.
Saving happens off the UI thread; the file is replaced atomically and readable by its owner
only (exec history may hold sensitive commands).
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import platformdirs

from celesto_api import CelestoValidationError
from celesto_api import validation as check

ENV_STATE_DIR = "CELESTO_STATE_DIR"
FILE_NAME = "ui-state.json"
HISTORY_KEPT = 50
TERMINAL_TARGETS_KEPT = 20
TERMINALS_KEPT = 100  # per target


def default_state_path() -> Path:
    override = os.environ.get(ENV_STATE_DIR)
    base = Path(override) if override else Path(platformdirs.user_state_dir("celesto-tui"))
    return base / FILE_NAME


@dataclass
class ViewState:
    sort: str = ""
    reverse: bool = False
    filter: str = ""


@dataclass
class UiState:
    theme: str | None = None
    views: dict[str, ViewState] = field(default_factory=dict)
    exec_history: dict[str, list[str]] = field(default_factory=dict)
    # API base URL -> computer id -> terminal id; the most recently changed last.
    terminals: dict[str, dict[str, str]] = field(default_factory=dict)
    # The context last picked in the dashboard (a profile name or ``local``): the next start
    # without target options opens on it, as k9s does with its last context.
    context: str | None = None

    def view(self, kind: str) -> ViewState:
        return self.views.setdefault(kind, ViewState())

    def terminals_of(self, base_url: str) -> dict[str, str]:
        return dict(self.terminals.get(base_url, {}))

    def set_terminals(self, base_url: str, terminal_ids: dict[str, str]) -> bool:
        """Remember the terminals open on ``base_url``; False when nothing changed."""
        kept = {c: t for c, t in terminal_ids.items() if _terminal_id(t)}
        kept = dict(list(kept.items())[-TERMINALS_KEPT:])
        if self.terminals.get(base_url, {}) == kept:
            return False
        self.terminals.pop(base_url, None)
        if kept:
            self.terminals[base_url] = kept
        while len(self.terminals) > TERMINAL_TARGETS_KEPT:
            del self.terminals[next(iter(self.terminals))]
        return True

    def remember_command(self, computer_id: str, command: str) -> None:
        history = [c for c in self.exec_history.get(computer_id, []) if c != command]
        history.append(command)
        self.exec_history[computer_id] = history[-HISTORY_KEPT:]

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: Any) -> UiState:
        state = cls()
        if not isinstance(data, dict):
            return state
        theme = data.get("theme")
        state.theme = theme if isinstance(theme, str) else None
        context = data.get("context")
        state.context = context if isinstance(context, str) and context else None
        views = data.get("views")
        for kind, raw in views.items() if isinstance(views, dict) else ():
            if isinstance(raw, dict):
                state.views[str(kind)] = ViewState(
                    sort=str(raw.get("sort") or ""),
                    reverse=raw.get("reverse") is True,
                    filter=str(raw.get("filter") or ""),
                )
        history = data.get("exec_history")
        for computer_id, commands in history.items() if isinstance(history, dict) else ():
            if isinstance(commands, list):
                kept = [c for c in commands if isinstance(c, str)]
                state.exec_history[str(computer_id)] = kept[-HISTORY_KEPT:]
        terminals = data.get("terminals")
        for base_url, ids in terminals.items() if isinstance(terminals, dict) else ():
            if isinstance(ids, dict):
                state.set_terminals(
                    str(base_url),
                    {str(c): t for c, t in ids.items() if c and isinstance(t, str)},
                )
        return state


def _terminal_id(value: str) -> bool:
    """Only what the API could have issued: a damaged file must not reach a request."""
    try:
        check.terminal_id(value)
    except CelestoValidationError:
        return False
    return True


def load_state(path: Path) -> UiState:
    """The saved state; a missing or damaged file gives the defaults."""
    try:
        return UiState.from_json(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError):
        return UiState()


class StateWriter:
    """Writes snapshots of the state; a slow older write never overwrites a newer one."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._written = 0

    def write(self, snapshot: dict[str, Any], sequence: int) -> None:
        """Blocking: call it from a thread."""
        text = json.dumps(snapshot, indent=1, sort_keys=True)
        with self._lock:
            if sequence <= self._written:
                return
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd, temp = tempfile.mkstemp(prefix=".ui-state-", dir=self.path.parent)
            try:
                os.fchmod(fd, 0o600)
                with os.fdopen(fd, "w", encoding="utf-8") as handle:
                    handle.write(text)
                os.replace(temp, self.path)
            except BaseException:
                Path(temp).unlink(missing_ok=True)
                raise
            self._written = sequence
