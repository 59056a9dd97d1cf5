"""What widgets ask for: intent messages, handled by the app's `Controller`.

Widgets never call the app or the API. They post one of these (it bubbles up to the app),
and the controller does the work in a worker; results come back as messages (`messages.py`)
or as new data set on the widgets. ``reply_to`` is the widget a result goes back to.
"""

from __future__ import annotations

from typing import Literal

from textual.message import Message
from textual.message_pump import MessagePump

from celesto_api import Computer, Deployment

from .message_fields import message_fields


class CreateRequested(Message):
    """Open the create dialog, then create a computer."""


@message_fields
class LifecycleRequested(Message):
    """Start, stop or delete these computers (asking first when that is destructive)."""

    verb: Literal["start", "stop", "delete"]
    targets: list[Computer]


@message_fields
class PublishRequested(Message):
    """Publish ``port`` of this computer; without one, ask which first."""

    computer: Computer
    port: int | None = None


@message_fields
class UnpublishRequested(Message):
    computer: Computer
    port: int


@message_fields
class TerminalRequested(Message):
    computer: Computer


class DeployRequested(Message):
    """Open the deploy dialog, then deploy."""


@message_fields
class DeploymentChangeRequested(Message):
    verb: Literal["stop", "delete"]
    deployment: Deployment


@message_fields
class DeploymentLogsRequested(Message):
    deployment: Deployment


@message_fields
class DeploymentLogsPollRequested(Message):
    """The logs of deployment ``name`` now, for ``reply_to`` (`messages.DeploymentLogsFetched`);
    ignored while a request for the same ``reply_to`` is out."""

    reply_to: MessagePump
    name: str


@message_fields
class RunRequested(Message):
    """Run a command once the computer runs; output goes back to ``reply_to``.

    ``latest`` asks for the computer as the last poll saw it (a re-run of an old command)."""

    reply_to: MessagePump
    computer: Computer
    command: str
    timeout: int
    latest: bool = False
    purpose: str = "run a command"  # for "Start it and {purpose}?"


class ExecCancelRequested(Message):
    """Stop waiting for the running command (it may run on until its timeout)."""


@message_fields
class MetricsRequested(Message):
    """Live metrics of a running computer, for ``reply_to`` (`messages.MetricsFetched`)."""

    reply_to: MessagePump
    computer_id: str


@message_fields
class ProbeRequested(Message):
    """Probe a URL's health, for ``reply_to`` (`messages.Probed`)."""

    reply_to: MessagePump
    url: str


class FocusTableRequested(Message):
    """Leave a pane: the current view's table takes the focus."""


@message_fields
class ActivityRequested(Message):
    """Fetch the command history of a computer into the activity log, then tell
    ``reply_to`` (`messages.ActivityFetched`); ignored while a fetch for it is out."""

    reply_to: MessagePump
    computer_id: str


class ContextPickRequested(Message):
    """Open the context picker (profiles, servers, the embedded backend)."""


@message_fields
class ContextSwitchRequested(Message):
    """Switch the dashboard to context ``name`` (a profile, ``local``, or a server)."""

    name: str
