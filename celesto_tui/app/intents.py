"""What widgets ask for: intent messages, handled by the app's `Controller`.

Widgets never call the app or the API. They post one of these (it bubbles up to the app),
and the controller does the work in a worker; results come back as messages (`messages.py`)
or as new data set on the widgets. ``reply_to`` is the widget a result goes back to.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from textual.message import Message
from textual.message_pump import MessagePump

Item = dict[str, Any]


@dataclass
class CreateRequested(Message):
    """Open the create dialog, then create a computer."""


@dataclass
class LifecycleRequested(Message):
    """Start, stop or delete these computers (asking first when that is destructive)."""

    verb: Literal["start", "stop", "delete"]
    targets: list[Item]


@dataclass
class PublishRequested(Message):
    """Ask which port of this computer to publish, then publish it."""

    computer: Item


@dataclass
class UnpublishRequested(Message):
    computer: Item
    port: int


@dataclass
class TerminalRequested(Message):
    computer: Item


@dataclass
class DeployRequested(Message):
    """Open the deploy dialog, then deploy."""


@dataclass
class DeploymentChangeRequested(Message):
    verb: Literal["stop", "delete"]
    deployment: Item


@dataclass
class DeploymentLogsRequested(Message):
    deployment: Item


@dataclass
class DeploymentLogsPollRequested(Message):
    """The logs of deployment ``name`` now, for ``reply_to`` (`messages.DeploymentLogsFetched`);
    ignored while a request for the same ``reply_to`` is out."""

    reply_to: MessagePump
    name: str


@dataclass
class RunRequested(Message):
    """Run a command once the computer runs; output goes back to ``reply_to``.

    ``latest`` asks for the computer as the last poll saw it (a re-run of an old command)."""

    reply_to: MessagePump
    computer: Item
    command: str
    timeout: int
    latest: bool = False
    purpose: str = "run a command"  # for "Start it and {purpose}?"


@dataclass
class ExecCancelRequested(Message):
    """Stop waiting for the running command (it may run on until its timeout)."""


@dataclass
class MetricsRequested(Message):
    """Live metrics of a running computer, for ``reply_to`` (`messages.MetricsFetched`)."""

    reply_to: MessagePump
    computer_id: str


@dataclass
class ProbeRequested(Message):
    """Probe a URL's health, for ``reply_to`` (`messages.Probed`)."""

    reply_to: MessagePump
    url: str


@dataclass
class FocusTableRequested(Message):
    """Leave a pane: the current view's table takes the focus."""


@dataclass
class ActivityRequested(Message):
    """Fetch the command history of a computer into the activity log, then tell
    ``reply_to`` (`messages.ActivityFetched`); ignored while a fetch for it is out."""

    reply_to: MessagePump
    computer_id: str


@dataclass
class ContextPickRequested(Message):
    """Open the context picker (profiles, servers, the embedded backend)."""


@dataclass
class ContextSwitchRequested(Message):
    """Switch the dashboard to context ``name`` (a profile, ``local``, or a server)."""

    name: str
