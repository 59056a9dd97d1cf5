"""Results workers post: of polls and actions to the app, of exec, metrics and probes to the
widget that asked (its ``reply_to``). Never widget calls."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from textual.message import Message
from textual.screen import Screen

from ..model.command_log import LogEntry, Status
from ..model.table_rows import Rows
from ..model.target import Target
from .probe import ProbeResult
from .widgets.output_log import Stream


@dataclass
class Polled(Message):
    """A poll of one resource kind succeeded; ``rows`` is already built for its view."""

    kind: str
    items: list[dict[str, Any]]
    rows: Rows
    took_ms: float
    started: float = 0.0  # the app clock's monotonic time when the request went out
    generation: int = 0  # the target's (see `Controller.generation`): older ones are dropped


class BackendStarted(Message):
    """The embedded backend came up, or failed to (its `EmbeddedStartup.error` says why)."""


@dataclass
class TargetSwitched(Message):
    """The controller now talks to another target (its clients, generation and model are
    reset): the app restarts its polls and shows it."""

    target: Target
    context: str


@dataclass
class TargetSwitching(Message):
    """A switch is under way (``text`` for the header), or ended without switching ("")."""

    text: str


@dataclass
class PollFailed(Message):
    kind: str
    error: BaseException
    generation: int = 0


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
    generation: int = 0


@dataclass
class ActionFinished(Message):
    """A mutating action ended (or, ``running``, got as far as it can tell for now);
    ``entry`` is its command-log line."""

    entry: LogEntry
    status: Status
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


@dataclass
class ExecStarted(Message):
    """The controller runs ``command`` (after any start of the computer); ``history`` is the
    computer's command history with it."""

    computer: dict[str, Any]
    command: str
    timeout: int
    history: list[str]


@dataclass
class ExecBusy(Message):
    """A command is still running: this one was not started."""


@dataclass
class ExecChunk(Message):
    """The complete lines of one piece of streamed output (one message per piece, not per
    line: a command printing 200,000 lines must not flood the message queue)."""

    stream: Stream
    lines: list[str]


@dataclass
class ExecEnded(Message):
    computer: dict[str, Any]
    command: str
    exit_code: int | None
    duration_ms: float
    timed_out: bool = False
    error: BaseException | None = None
    # The command had started when the error came (the computer failed under it).
    started: bool = False


@dataclass
class MetricsFetched(Message):
    computer_id: str
    observability: dict[str, Any] | None
    error: str = ""


@dataclass
class DeploymentLogsFetched(Message):
    name: str
    text: str
    error: str = ""
    final: bool = False  # the target will never give these logs: stop asking


@dataclass
class Probed(Message):
    result: ProbeResult


@dataclass
class ActivityFetched(Message):
    """The activity log has a computer's command history (or the error fetching it)."""

    computer_id: str
