"""The controller without an App: driven through its `Host` interface.

`RecordingHost` is a small, real implementation of that interface (the App's side of it):
it records toasts, screens and posted messages and runs spawned work as asyncio tasks. The
controller, the model and the SDK are the real ones, against the real embedded server over
real HTTP; failures come from the server's fault switch.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

import pytest
from textual.message import Message
from textual.notifications import SeverityLevel
from textual.screen import Screen

from celesto_api import Celesto
from celesto_api.local import LocalServer
from celesto_tui.app.controller import Controller
from celesto_tui.app.messages import ActionFinished, ItemsChanged
from celesto_tui.app.screens.confirm import ConfirmScreen
from celesto_tui.model.clock import SystemClock
from celesto_tui.model.dashboard import DashboardModel
from celesto_tui.model.ui_state import UiState
from tests.dashboard.conftest import local_target
from tests.waiting import wait_status, wait_until


@dataclass
class Notice:
    message: str
    title: str
    severity: SeverityLevel


@dataclass
class Shown:
    screen: Screen[Any]
    callback: Callable[[Any], None] | None

    def answer(self, result: Any) -> None:
        """What the user chose in the screen (the App calls back with it on dismiss)."""
        assert self.callback is not None
        self.callback(result)


class SpawnedWork:
    """What `Host.spawn` gives back, as far as the controller uses it."""

    def __init__(self, task: asyncio.Task[None]) -> None:
        self.task = task

    @property
    def is_running(self) -> bool:
        return not self.task.done()

    def cancel(self) -> None:
        self.task.cancel()


@dataclass
class RecordingHost:
    notices: list[Notice] = field(default_factory=list)
    shown: list[Shown] = field(default_factory=list)
    posted: list[Message] = field(default_factory=list)
    spawned: list[tuple[str, SpawnedWork]] = field(default_factory=list)
    terminals: list[tuple[str, str]] = field(default_factory=list)
    log_changes: int = 0
    saves: int = 0

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = True,
    ) -> None:
        self.notices.append(Notice(message, title, severity))

    def show(self, screen: Screen[Any], callback: Callable[[Any], None] | None = None) -> None:
        self.shown.append(Shown(screen, callback))

    def post(self, message: Message) -> None:
        self.posted.append(message)

    def spawn(
        self, work: Coroutine[Any, Any, None], group: str, exclusive: bool = False
    ) -> SpawnedWork:
        spawned = SpawnedWork(asyncio.create_task(work))
        self.spawned.append((group, spawned))
        return spawned

    def later(self, callback: Callable[..., Any], *args: Any) -> None:
        asyncio.get_running_loop().call_soon(callback, *args)

    def open_terminal(self, computer_id: str, name: str) -> None:
        self.terminals.append((computer_id, name))

    def command_log_changed(self) -> None:
        self.log_changes += 1

    def save_state(self) -> None:
        self.saves += 1

    async def settle(self) -> None:
        """Until every piece of spawned work has ended (work spawned meanwhile included);
        like the App's workers, a failure must not pass silently."""
        while pending := [work.task for _, work in self.spawned if not work.task.done()]:
            await asyncio.wait(pending)
        for group, work in self.spawned:
            if not work.task.cancelled():
                assert work.task.exception() is None, f"{group} work failed"

    def of_type(self, kind: type[Message]) -> list[Any]:
        return [message for message in self.posted if isinstance(message, kind)]


@pytest.fixture
async def recording_host() -> AsyncIterator[RecordingHost]:
    host = RecordingHost()
    yield host
    await host.settle()


@pytest.fixture
async def controller(
    local_server: LocalServer, recording_host: RecordingHost
) -> AsyncIterator[Controller]:
    made = Controller(
        recording_host,  # type: ignore[arg-type]  # spawn gives a task, not a Textual Worker
        DashboardModel(UiState()),
        local_target(local_server),
        SystemClock(),
    )
    yield made
    await made.aclose()


async def test_stop_asks_first_then_shows_the_transition_and_the_answer(
    controller: Controller,
    recording_host: RecordingHost,
    running_computer: dict[str, Any],
    sdk: Celesto,
) -> None:
    controller.stop([running_computer])
    assert [type(shown.screen) for shown in recording_host.shown] == [ConfirmScreen]
    assert recording_host.posted == [] and recording_host.spawned == []  # nothing before "yes"

    recording_host.shown[0].answer(True)
    first = recording_host.of_type(ItemsChanged)
    assert [(m.kind, m.items[0]["id"], m.items[0]["status"]) for m in first] == [
        ("computers", running_computer["id"], "stopping")
    ]
    assert controller.model.pending_status == {running_computer["id"]: "stopping"}
    assert recording_host.notices[0].message.startswith(f"Stopping {running_computer['name']}")
    assert recording_host.log_changes == 1

    await recording_host.settle()
    answered = recording_host.of_type(ItemsChanged)[1]
    assert answered.items[0]["id"] == running_computer["id"]
    assert answered.items[0]["status"] in ("stopping", "stopped")  # the API's answer
    [finished] = recording_host.of_type(ActionFinished)
    assert finished.status == "ok" and finished.entry.action == "stop"
    assert controller.model.pending_status == {}
    assert recording_host.notices[-1].message == f"Stopping {running_computer['name']}: requested."
    wait_status(sdk, running_computer["id"], "stopped")


async def test_a_refused_stop_toasts_the_contracts_error_and_undoes_the_transition(
    controller: Controller,
    recording_host: RecordingHost,
    running_computer: dict[str, Any],
    local_server: LocalServer,
    sdk: Celesto,
) -> None:
    local_server.set_faults("error_rate=1,error_status=402,count=1")
    controller.stop([running_computer])
    recording_host.shown[0].answer(True)
    await recording_host.settle()

    [finished] = recording_host.of_type(ActionFinished)
    assert finished.status == "failed"
    assert finished.message.startswith("Billing: Payment required")
    error = recording_host.notices[-1]
    assert error.severity == "error"
    assert error.title == "Could not stop 1 of 1"
    assert error.message.startswith(f"{running_computer['name']}: Billing: Payment required")
    undone = recording_host.of_type(ItemsChanged)[-1]
    assert undone.items[0]["status"] == "running"  # as it was: the stop did not happen
    assert controller.model.pending_status == {}
    assert sdk.computers.get(running_computer["id"])["status"] == "running"


async def test_a_poll_keeps_transitions_in_flight_and_the_listings_metrics(
    controller: Controller,
    recording_host: RecordingHost,
    running_computer: dict[str, Any],
    sdk: Celesto,
) -> None:
    computer_id = running_computer["id"]
    wait_until(
        lambda: sdk.computers.get(computer_id).get("metrics"),
        what=f"a metrics sample of {computer_id}",
    )
    polled = {c["id"]: c for c in await controller.fetch_computers()}
    assert polled[computer_id]["status"] == "running"
    assert polled[computer_id]["metrics"]["cpu_used_percent"] is not None
    # The listing carries the metrics: no observability request was spawned to fill them.
    assert recording_host.spawned == []

    controller.model.pending_status[computer_id] = "stopping"  # an action in flight
    polled = {c["id"]: c for c in await controller.fetch_computers()}
    assert polled[computer_id]["status"] == "stopping"  # the poll does not flip it back
