"""A deployment's logs, followed live (k9s-style): the screen asks for the logs every
`LOG_POLL_S` seconds through the controller (which never has two requests out for one
screen) and appends what is new. Scrolling up pauses the follow; `f` or End resumes it."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Label

from celesto_api import Deployment

from ..intents import DeploymentLogsPollRequested
from ..messages import DeploymentLogsFetched
from ..widgets.follow_log import FollowLog

LOG_POLL_S = 1.0


class DeploymentLogsScreen(ModalScreen[None]):
    DEFAULT_CSS = """
    DeploymentLogsScreen { align: center middle; }
    DeploymentLogsScreen > Vertical {
        width: 90%; height: 85%; border: thick $primary; background: $surface; padding: 0 1;
    }
    DeploymentLogsScreen FollowLog { height: 1fr; }
    DeploymentLogsScreen #logs-error { color: $error; height: auto; }
    DeploymentLogsScreen #logs-state { color: $text-muted; }
    """
    BINDINGS = [
        Binding("escape,q", "close", "Close", id="logs-close"),
        Binding("y", "copy", "Copy", id="logs-copy"),
    ]

    def __init__(self, deployment: Deployment, every: float = LOG_POLL_S) -> None:
        super().__init__()
        self.deployment = deployment
        self.name_of = deployment["name"]
        self.every = every
        self.text = ""
        """Everything shown so far (the endpoint returns the whole log each time)."""
        self.polls = 0
        self.ended = ""  # why polling stopped for good (the target has no logs to give)

    def compose(self) -> ComposeResult:
        deployment = self.deployment
        title = f"{self.name_of} · {deployment.get('status')} · logs"
        with Vertical():
            yield Label(Content.assemble((title, "bold")))
            yield FollowLog(id="logs-body", highlight=False)
            error = deployment.get("last_error")
            yield Label(f"last error: {error}" if error else "", id="logs-error", markup=False)
            yield Label("", id="logs-state", markup=False)

    @property
    def log_view(self) -> FollowLog:
        return self.query_one(FollowLog)

    def on_mount(self) -> None:
        self.log_view.focus()
        self.watch(self.log_view, "following", lambda _following: self._show_state())
        self._poll()
        self.set_interval(self.every, self._poll)

    def _poll(self) -> None:
        if not self.ended:
            self.post_message(DeploymentLogsPollRequested(self, self.name_of))

    def on_deployment_logs_fetched(self, message: DeploymentLogsFetched) -> None:
        message.stop()
        self.polls += 1
        if message.error:
            if message.final:
                self.ended = message.error
            if not self.text:
                self.text = f"({message.error})"
                self.log_view.replace(self.text)
        elif message.text.startswith(self.text) and self.text:
            new = message.text[len(self.text) :]
            self.text = message.text
            if new:
                self.log_view.append(new)
        elif message.text != self.text:
            self.text = message.text or f"(no logs for {self.name_of} yet)"
            self.log_view.replace(self.text)
        self._show_state(message.error)

    def _show_state(self, error: str = "") -> None:
        if self.ended:
            state = "not followed: " + self.ended
        elif self.log_view.following:
            state = f"● following (every {self.every:g}s) · scroll up to pause"
        else:
            state = "⏸ paused · f or End follows again"
        if error and not self.ended:
            state += f" · last poll failed: {error}"
        self.query_one("#logs-state", Label).update(state + " · y copies · Esc closes")

    def action_copy(self) -> None:
        self.app.copy_to_clipboard(self.text)
        self.notify("Copied.")

    def action_close(self) -> None:
        self.dismiss(None)
