"""Results workers post: of polls and actions to the app, of exec, metrics and probes to the
widget that asked (its ``reply_to``). Never widget calls."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from textual.message import Message
from textual.screen import Screen

from celesto_api import Computer, Observability

from ..model.command_log import LogEntry, Status
from ..model.items import Item
from ..model.table_rows import Rows
from ..model.target import Target
from .message_fields import message_fields
from .probe import ProbeResult
from .widgets.output_log import Stream


@message_fields
class Polled(Message):
    """A poll of one resource kind succeeded; ``rows`` is already built for its view."""

    kind: str
    items: Sequence[Item]
    rows: Rows
    took_ms: float
    started: float = 0.0  # the app clock's monotonic time when the request went out
    generation: int = 0  # the target's (see `Controller.generation`): older ones are dropped


class BackendStarted(Message):
    """The embedded backend came up, or failed to (its `EmbeddedStartup.error` says why)."""


@message_fields
class TargetSwitched(Message):
    """The controller now talks to another target (its clients, generation and model are
    reset): the app restarts its polls and shows it."""

    target: Target
    context: str


@message_fields
class TargetSwitching(Message):
    """A switch is under way (``text`` for the header), or ended without switching ("")."""

    text: str


@message_fields
class PollFailed(Message):
    kind: str
    error: BaseException
    generation: int = 0


@message_fields
class RowsBuilt(Message):
    """Rows rebuilt off the UI thread after the filter or sort changed."""

    kind: str
    rows: Rows


@message_fields
class ItemsChanged(Message):
    """An action's response: show the new state of these objects at once."""

    kind: str
    items: Sequence[Item]
    removed: Sequence[str] = ()
    generation: int = 0


@message_fields
class ActionFinished(Message):
    """A mutating action ended (or, ``running``, got as far as it can tell for now);
    ``entry`` is its command-log line."""

    entry: LogEntry
    status: Status
    message: str
    kind: str = "computers"


@message_fields
class UnexpectedError(Message):
    """Something that is not an API error went wrong in a worker (a bug): errors view."""

    source: str
    error: BaseException


@message_fields
class Navigate(Message):
    """Show this row of this view (e.g. the computer an action just created)."""

    kind: str
    key: str


@message_fields
class OpenScreen(Message):
    """A worker has what a dialog needs: the app pushes it."""

    screen: Screen[Any]
    callback: Callable[[Any], None] | None = None


@message_fields
class ExecStarted(Message):
    """The controller runs ``command`` (after any start of the computer); ``history`` is the
    computer's command history with it."""

    computer: Computer
    command: str
    timeout: int
    history: list[str]


class ExecBusy(Message):
    """A command is still running: this one was not started."""


@message_fields
class ExecChunk(Message):
    """The complete lines of one piece of streamed output (one message per piece, not per
    line: a command printing 200,000 lines must not flood the message queue)."""

    stream: Stream
    lines: list[str]


@message_fields
class ExecEnded(Message):
    computer: Computer
    command: str
    exit_code: int | None
    duration_ms: float
    timed_out: bool = False
    error: BaseException | None = None
    # The command had started when the error came (the computer failed under it).
    started: bool = False


@message_fields
class MetricsFetched(Message):
    computer_id: str
    observability: Observability | None
    error: str = ""


@message_fields
class DeploymentLogsFetched(Message):
    name: str
    text: str
    error: str = ""
    final: bool = False  # the target will never give these logs: stop asking


@message_fields
class Probed(Message):
    result: ProbeResult


@message_fields
class ActivityFetched(Message):
    """The activity log has a computer's command history (or the error fetching it)."""

    computer_id: str
