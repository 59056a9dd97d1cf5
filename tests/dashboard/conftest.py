"""Dashboard tests: the real app against the real embedded backend (the session's
`local_server`), driven by Pilot. No mocks: faults come from the server's switch."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from textual.content import Content
from textual.pilot import Pilot
from textual.widgets import Input, TextArea

from celesto_api import Celesto
from celesto_api.local import LocalServer
from celesto_tui.app.celesto_app import CelestoApp
from celesto_tui.app.screens.deploy import DeployScreen
from celesto_tui.app.settings import Settings
from celesto_tui.app.widgets.computers_view import ComputersView
from celesto_tui.model.clock import Clock
from celesto_tui.model.target import Target
from celesto_tui.model.ui_state import default_state_path
from tests.waiting import await_until, wait_status

AppFactory = Callable[..., CelestoApp]


@pytest.fixture(autouse=True)
def _no_cursor_blink(monkeypatch: pytest.MonkeyPatch) -> None:
    """A blinking cursor makes screenshots differ by one reverse-video cell."""
    monkeypatch.setattr(Input, "_toggle_cursor", lambda self: None)
    monkeypatch.setattr(TextArea, "_toggle_cursor", lambda self: None, raising=False)


@pytest.fixture(autouse=True)
def _state_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Each test gets its own UI state file, never the developer's."""
    state_dir = tmp_path / "state"
    monkeypatch.setenv("CELESTO_STATE_DIR", str(state_dir))
    return state_dir


def local_target(server: LocalServer, **changes: Any) -> Target:
    fields: dict[str, Any] = {
        "base_url": server.base_url,
        "api_key": server.api_key,
        "label": "local",
        "local": True,
        "isolation": "bwrap",
    }
    fields.update(changes)
    return Target(**fields)


@pytest.fixture
def make_app(local_server: LocalServer) -> AppFactory:
    def make(
        *,
        refresh: float = 0.25,
        read_only: bool = False,
        settings: Settings | None = None,
        clock: Clock | None = None,
        target: Target | None = None,
        **options: Any,
    ) -> CelestoApp:
        return CelestoApp(
            target or local_target(local_server),
            refresh_seconds=refresh,
            read_only=read_only,
            settings=settings if settings is not None else Settings(),
            clock=clock,
            **options,
        )

    return make


async def wait_for(
    pilot: Pilot[Any], predicate: Callable[[], object], timeout: float = 15.0, what: str = ""
) -> None:
    """Until ``predicate()`` holds, the app running in between."""
    await await_until(predicate, what=what, timeout=timeout, pause=pilot.pause)


async def loaded(pilot: Pilot[Any]) -> CelestoApp:
    """Wait for the first computers poll to be on screen."""
    app = pilot.app
    assert isinstance(app, CelestoApp)
    await wait_for(pilot, lambda: app.views["computers"].table.loaded, what="first poll")
    return app


async def open_deploy_dialog(pilot: Pilot[Any]) -> DeployScreen:
    """From a loaded dashboard: the deployments view, its first poll, then `n`."""
    app = pilot.app
    assert isinstance(app, CelestoApp)
    await pilot.press("2")
    view = app.views["deployments"]
    await wait_for(pilot, lambda: view.table.loaded, what="deployments")
    await pilot.press("n")
    await wait_for(pilot, lambda: isinstance(app.screen, DeployScreen), what="the deploy dialog")
    assert isinstance(app.screen, DeployScreen)
    return app.screen


def computers_view(app: CelestoApp) -> ComputersView:
    view = app.views["computers"]
    assert isinstance(view, ComputersView)
    return view


async def select(pilot: Pilot[Any], computer_id: str) -> None:
    """Put the cursor on a computer (waiting for it to be polled first)."""
    app = pilot.app
    assert isinstance(app, CelestoApp)
    view = computers_view(app)
    await wait_for(pilot, lambda: computer_id in view.table.rows, what=f"row {computer_id}")
    view.table.focus()
    view.table.select_key(computer_id)
    await pilot.pause()


async def next_poll(pilot: Pilot[Any], kind: str = "computers") -> None:
    """Poll now and wait until that poll is on screen: whatever an action did (or did not
    do) before this shows by then."""
    app = pilot.app
    assert isinstance(app, CelestoApp)
    poller = app.pollers[kind]
    polls = poller.polls
    poller.poll_now()
    await wait_for(pilot, lambda: poller.polls > polls, what=f"a {kind} poll")


def saved_state() -> dict[str, Any]:
    """The UI state file as written so far (empty before the first write)."""
    try:
        return dict(json.loads(default_state_path().read_text()))
    except (FileNotFoundError, json.JSONDecodeError):
        return {}


def status_of(app: CelestoApp, computer_id: str) -> str | None:
    item = app.model.items["computers"].get(computer_id)
    return None if item is None else str(item.get("status"))


@pytest.fixture
def stopped_computer(sdk: Celesto) -> Iterator[dict[str, Any]]:
    created = sdk.computers.create()
    wait_status(sdk, created["id"], "running")
    sdk.computers.stop(created["id"])
    wait_status(sdk, created["id"], "stopped")
    yield dict(sdk.computers.get(created["id"]))
    with contextlib.suppress(Exception):
        sdk.computers.delete(created["id"])


def plain(text: object) -> str:
    """The text of a title (stored as markup) without its styles."""
    return Content.from_markup(str(text)).plain
