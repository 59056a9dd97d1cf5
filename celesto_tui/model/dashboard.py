"""`DashboardModel`: everything the dashboard knows, without Textual.

The controller writes to it (poll results, an action's answer, transitions in flight, live
metrics, templates) and the app reads it to show things. Its methods are the rules that
make what is shown right: a poll that started before an action must not flip a row back, a
stopped computer's last metrics are not "live", a deleted deployment stays "deleting" until
a poll no longer lists it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from celesto_api import Template

from .activity import ActivityLog
from .command_log import CommandLog
from .errors import ErrorLog
from .ui_state import UiState
from .watch import Watcher

Item = dict[str, Any]
METRICS_FILL_MAX = 16


class DashboardModel:
    def __init__(self, ui_state: UiState, secrets: Iterable[str | None] = ()) -> None:
        self.ui_state = ui_state
        self.items: dict[str, dict[str, Item]] = {"computers": {}, "deployments": {}}
        self.templates: list[Template] | None = None
        # Status of computers whose action is in flight: a poll that started before the
        # action must not flip the row back (cleared when the API answers).
        self.pending_status: dict[str, str] = {}
        self.pending_deployments: dict[str, str] = {}  # the same, for deployments by name
        # Live metrics from the observability endpoint, for computers the list gives none.
        self.metrics_overlay: dict[str, Item] = {}
        self.command_log = CommandLog()
        self.activity = ActivityLog()
        self.watcher = Watcher()
        self.error_log = ErrorLog(secrets=secrets)
        self.context = ""  # the name of the context shown (see contexts.py)
        # Watchers and activity of the contexts switched away from: their actions settle,
        # and their computers' activity is there again, on coming back.
        self._watchers: dict[str, Watcher] = {}
        self._activities: dict[str, ActivityLog] = {}

    def switch_target(self, joined: str, api_key: str) -> None:
        """The dashboard left its context for ``joined``: nothing of the old target shows
        any more. The command and error logs stay (their lines name their target)."""
        self._watchers[self.context] = self.watcher
        self.watcher = self._watchers.pop(joined) if joined in self._watchers else Watcher()
        self._activities[self.context] = self.activity
        self.activity = self._activities.pop(joined, ActivityLog())
        self.context = joined
        self.items = {"computers": {}, "deployments": {}}
        self.templates = None
        self.pending_status.clear()
        self.pending_deployments.clear()
        self.metrics_overlay.clear()
        if api_key and api_key not in self.error_log.secrets:
            self.error_log.secrets.append(api_key)

    def watcher_for(self, context: str) -> Watcher:
        """The watcher of ``context``: an action sent before a switch settles there."""
        if context == self.context:
            return self.watcher
        return self._watchers.setdefault(context, Watcher())

    # --- reading -------------------------------------------------------------------------

    def items_of(self, kind: str) -> dict[str, Item]:
        return self.items.get(kind, {})

    def computer_by_id(self, computer_id: str) -> Item | None:
        return self.items["computers"].get(computer_id)

    # --- polls ---------------------------------------------------------------------------

    def polled_computers(self, computers: list[Item]) -> list[Item]:
        """A listing as it should show: transitions in flight kept, live metrics added."""
        for computer in computers:
            computer_id = str(computer["id"])
            if computer_id in self.pending_status:
                computer["status"] = self.pending_status[computer_id]
            if computer.get("status") != "running":
                self.metrics_overlay.pop(computer_id, None)  # its last sample is not "live"
            elif not computer.get("metrics") and computer_id in self.metrics_overlay:
                computer["metrics"] = self.metrics_overlay[computer_id]
        return computers

    @staticmethod
    def metrics_wanted(computers: Sequence[Item]) -> list[str]:
        """Running computers the listing gives no metrics for (at most METRICS_FILL_MAX)."""
        return [
            str(c["id"]) for c in computers if c.get("status") == "running" and not c.get("metrics")
        ][:METRICS_FILL_MAX]

    def polled_deployments(self, deployments: list[Item]) -> list[Item]:
        listed = {str(deployment.get("name")) for deployment in deployments}
        for name, status in list(self.pending_deployments.items()):
            if status == "deleting" and name not in listed:
                del self.pending_deployments[name]  # the delete is done
        for deployment in deployments:
            pending = self.pending_deployments.get(str(deployment.get("name")))
            if pending is not None:
                deployment["status"] = pending
        return deployments

    def replace(self, kind: str, items: dict[str, Item]) -> None:
        """A poll's answer: the whole listing of ``kind``, by key."""
        self.items[kind] = items

    def change(self, kind: str, items: dict[str, Item], removed: Sequence[str]) -> list[Item]:
        """An action's answer: these objects changed, these keys are gone; all items after."""
        store = self.items[kind]
        store.update(items)
        for key in removed:
            store.pop(key, None)
        return list(store.values())
