"""Messages workers post to the app: results of polls and actions, never widget calls."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from textual.message import Message
from textual.screen import Screen

from ..model.command_log import LogEntry
from ..model.table_rows import Rows


@dataclass
class Polled(Message):
    """A poll of one resource kind succeeded; ``rows`` is already built for its view."""

    kind: str
    items: list[dict[str, Any]]
    rows: Rows
    took_ms: float
    started: float = 0.0  # the app clock's monotonic time when the request went out


@dataclass
class PollFailed(Message):
    kind: str
    error: BaseException


@dataclass
class RowsBuilt(Message):
    """Rows rebuilt off the UI thread after the filter or sort changed."""

    kind: str
    rows: Rows


@dataclass
class ItemsChanged(Message):
    """An action's response: show the new state of these objects at once."""

    kind: str
    items: list[dict[str, Any]]
    removed: list[str] = field(default_factory=list)


@dataclass
class ActionFinished(Message):
    """A mutating action ended; ``entry`` is its command-log line."""

    entry: LogEntry
    ok: bool
    message: str
    kind: str = "computers"


@dataclass
class UnexpectedError(Message):
    """Something that is not an API error went wrong in a worker (a bug): errors view."""

    source: str
    error: BaseException


@dataclass
class Navigate(Message):
    """Show this row of this view (e.g. the computer an action just created)."""

    kind: str
    key: str


@dataclass
class OpenScreen(Message):
    """A worker has what a dialog needs: the app pushes it."""

    screen: Screen[Any]
    callback: Callable[[Any], None] | None = None
