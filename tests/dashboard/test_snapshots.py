"""SVG snapshots of the main views at a fixed size, with a frozen clock, no cursor blink
and fixed data: a fresh embedded backend whose computers, port and deployments this module
writes with fixed ids, names and times. "ada" is a real running sandbox (its live metrics
are switched off so no number on screen moves)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

from celesto_api.local import LocalServer
from celesto_tui.app.celesto_app import CelestoApp
from celesto_tui.app.screens.confirm import ConfirmScreen
from celesto_tui.app.screens.context_picker import ContextPickerScreen
from celesto_tui.app.screens.create_computer import CreateComputerScreen
from celesto_tui.app.settings import Settings
from celesto_tui.model.clock import FrozenClock
from celesto_tui.model.command_log import LogEntry
from tests.waiting import wait_until

from .conftest import computers_view, local_target, wait_for

SIZE = (140, 40)
NOW = datetime(2026, 1, 2, 12, 0, tzinfo=UTC)
CREATED = "2026-01-01T09:30:00.000Z"
ADA = "cmp_00000000000000000000ada"


def _row(computer_id: str, name: str, status: str, **extra: Any) -> dict[str, Any]:
    row = {
        "id": computer_id,
        "name": name,
        "status": status,
        "vcpus": 2,
        "ram_mb": 2048,
        "disk_size_mb": 10240,
        "image": "ubuntu-desktop-24.04",
        "template_id": "scratch",
        "template_version": "local-1",
        "network_mode": "open",
        "external_volume_enabled": 0,
        "origin": "sdk",
        "created_at": CREATED,
        "stopped_at": None,
        "last_error": None,
    }
    row.update(extra)
    return row


async def _seed(server: LocalServer) -> None:
    backend = server.backend
    assert backend is not None
    store, manager = backend.store, backend.computers
    project = store.default_project()["id"]
    rows = [
        _row(ADA, "ada", "creating", project_id=project),
        _row(
            "cmp_00000000000000000babbage",
            "babbage",
            "stopped",
            project_id=project,
            vcpus=1,
            ram_mb=1024,
            stopped_at=CREATED,
        ),
        _row(
            "cmp_000000000000000000000curie",
            "curie",
            "error",
            project_id=project,
            template_id="coding-agent",
            last_error="The sandbox exited (status 137).",
        ),
        _row(
            "cmp_0000000000000000dijkstra",
            "dijkstra",
            "stopped",
            project_id=project,
            vcpus=4,
            ram_mb=8192,
            disk_size_mb=20480,
        ),
    ]
    for row in rows:
        store.insert_computer(row)
    manager.home_dir(ADA).mkdir(parents=True, exist_ok=True)
    await manager._boot(ADA)
    store.upsert_port(ADA, 8000, 45999, "published")
    store._db.execute("UPDATE published_ports SET created_at = ?", (CREATED,))
    for name, status, error, url in (
        ("weather-agent", "READY", None, "http://127.0.0.1:45998/"),
        ("triage-bot", "FAILED", "Build failed: No start command: add a Procfile", None),
        ("old-demo", "STOPPED", None, None),
    ):
        store.upsert_deployment(
            {
                "id": f"dep_{name}",
                "name": name,
                "description": f"the {name.replace('-', ' ')}",
                "project_id": project,
                "status": status,
                "config": {},
                "last_error": error,
                "created_at": CREATED,
                "updated_at": CREATED,
                "deployed_at": CREATED if status == "READY" else None,
                "url": url,
            }
        )


@pytest.fixture(autouse=True)
def _utc(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Log times are shown in local time: pin the zone so the snapshots do not depend on it."""
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalServer]:
    with LocalServer(data_dir=tmp_path_factory.mktemp("snapshots")) as server:
        server.run_coroutine(_seed(server))
        assert server.backend is not None
        metrics = server.backend.metrics
        # The first sample must land before metrics are switched off.
        wait_until(lambda: not metrics._first_samples, what="the first metrics samples", timeout=10)
        metrics.forget(ADA)
        yield server


@pytest.fixture
def make(seeded: LocalServer, tmp_path: Path) -> Any:
    def build(**options: Any) -> CelestoApp:
        return CelestoApp(
            local_target(seeded),
            refresh_seconds=0,
            settings=Settings(),
            clock=FrozenClock(NOW),
            state_path=tmp_path / "ui-state.json",
            **options,
        )

    return build


async def ready(pilot: Pilot[Any]) -> None:
    app = pilot.app
    assert isinstance(app, CelestoApp)
    await wait_for(pilot, lambda: app.views["computers"].table.loaded)
    await wait_for(pilot, lambda: app.views["deployments"].table.loaded)
    view = computers_view(app)
    view.table.select_key(ADA)
    await pilot.pause()
    await app.workers.wait_for_complete()
    await pilot.pause()


def test_computers_view(snap_compare: Any, make: Any) -> None:
    assert snap_compare(make(), terminal_size=SIZE, run_before=ready)


def test_exec_pane(snap_compare: Any, make: Any) -> None:
    async def run(pilot: Pilot[Any]) -> None:
        await ready(pilot)
        await pilot.press("e")
        pane = computers_view(pilot.app).exec_pane  # type: ignore[arg-type]
        pane.prompt.value = "echo 'hello, world'; sleep 0.2; echo 'no such file' >&2"
        await pilot.press("enter")
        await wait_for(pilot, lambda: pane.last_exit is not None)
        await pilot.pause()

    assert snap_compare(make(), terminal_size=SIZE, run_before=run)


def test_ports_pane(snap_compare: Any, make: Any) -> None:
    async def run(pilot: Pilot[Any]) -> None:
        await ready(pilot)
        await pilot.press("p")
        pane = computers_view(pilot.app).ports_pane  # type: ignore[arg-type]
        await wait_for(pilot, lambda: pane.health, what="the probe")
        await pilot.pause()

    assert snap_compare(make(), terminal_size=SIZE, run_before=run)


def test_deployments_view(snap_compare: Any, make: Any) -> None:
    async def run(pilot: Pilot[Any]) -> None:
        await ready(pilot)
        await pilot.press("2")
        app = pilot.app
        assert isinstance(app, CelestoApp)
        app.views["deployments"].table.select_key("triage-bot")
        await pilot.pause()

    assert snap_compare(make(), terminal_size=SIZE, run_before=run)


def test_create_dialog_with_a_bad_value(snap_compare: Any, make: Any) -> None:
    async def run(pilot: Pilot[Any]) -> None:
        await ready(pilot)
        await pilot.press("n")
        await wait_for(
            pilot,
            lambda: (
                isinstance(pilot.app.screen, CreateComputerScreen)
                and pilot.app.screen.focused is not None
            ),
            what="the create dialog",
        )
        await pilot.pause()
        await pilot.press("2", "4")

    assert snap_compare(make(), terminal_size=SIZE, run_before=run)


def test_delete_confirmation(snap_compare: Any, make: Any) -> None:
    async def run(pilot: Pilot[Any]) -> None:
        await ready(pilot)
        await pilot.press("D")
        # The view asks, the app's controller opens the dialog: wait for it, with the field
        # to type the name into focused.
        await wait_for(
            pilot,
            lambda: (
                isinstance(pilot.app.screen, ConfirmScreen)
                and getattr(pilot.app.screen.focused, "id", None) == "confirm-text"
            ),
            what="the confirmation",
        )
        await pilot.pause()

    assert snap_compare(make(), terminal_size=SIZE, run_before=run)


def test_help_screen(snap_compare: Any, make: Any) -> None:
    async def run(pilot: Pilot[Any]) -> None:
        await ready(pilot)
        await pilot.press("question_mark")

    assert snap_compare(make(read_only=True), terminal_size=SIZE, run_before=run)


def test_context_picker(
    snap_compare: Any, make: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config_dir = tmp_path / "config"
    config_dir.mkdir()
    (config_dir / "config.toml").write_text(
        '[profiles.prod]\napi_key = "sk-never-shown"\nbase_url = "https://api.celesto.ai"\n'
        '[profiles.staging]\napi_key = "sk-nor-this"\n'
        'base_url = "https://staging.example.com"\n'
        '[profiles.laptop]\nbase_url = "http://127.0.0.1:8765"\n'
    )
    monkeypatch.setenv("CELESTO_CONFIG_DIR", str(config_dir))

    async def run(pilot: Pilot[Any]) -> None:
        await ready(pilot)
        await pilot.press("ctrl+o")
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, ContextPickerScreen))
        await pilot.pause()

    assert snap_compare(make(), terminal_size=SIZE, run_before=run)


def test_stale_after_a_rate_limit(snap_compare: Any, make: Any, seeded: LocalServer) -> None:
    async def run(pilot: Pilot[Any]) -> None:
        await ready(pilot)
        app = pilot.app
        assert isinstance(app, CelestoApp)
        app.pollers["deployments"].stop()
        seeded.set_faults("rate_limit=1,retry_after=30,count=1")
        polls = app.pollers["computers"].polls
        app.pollers["computers"].poll_now()
        await wait_for(pilot, lambda: app.pollers["computers"].polls > polls)
        app.update_header()
        await pilot.pause()

    try:
        assert snap_compare(make(), terminal_size=SIZE, run_before=run)
    finally:
        seeded.set_faults(None)


def test_command_log(snap_compare: Any, make: Any) -> None:
    async def run(pilot: Pilot[Any]) -> None:
        await ready(pilot)
        await pilot.press("e")
        pane = computers_view(pilot.app).exec_pane  # type: ignore[arg-type]
        pane.prompt.value = "uname -s"
        await pilot.press("enter")
        await wait_for(pilot, lambda: pane.last_exit is not None)
        await pilot.press("escape", "3")
        await pilot.pause()

    assert snap_compare(make(), terminal_size=SIZE, run_before=run)


def _seed_history(server: LocalServer) -> None:
    """Fixed command history for ada (what other snapshots ran there is dropped first)."""
    assert server.backend is not None
    store = server.backend.store
    store._db.execute("DELETE FROM commands WHERE computer_id = ?", (ADA,))
    for command_id, source, status, started, took, code in (
        ("cmd_snap_0", "exec", "completed", "2026-01-01T17:45:10Z", 230, 0),
        ("cmd_snap_1", "exec_stream", "completed", "2026-01-02T11:58:02Z", 12, 0),
        ("cmd_snap_2", "exec_stream", "completed", "2026-01-02T11:59:30Z", 1840, 2),
        ("cmd_snap_3", "exec_stream", "timed_out", "2026-01-02T11:59:40Z", 5000, None),
    ):
        store.insert_command(
            {
                "command_id": command_id,
                "computer_id": ADA,
                "source": source,
                "status": status,
                "started_at": started,
                "duration_ms": took,
                "timeout_seconds": 30,
                "exit_code": code,
            }
        )


def test_activity_pane(snap_compare: Any, make: Any, seeded: LocalServer) -> None:
    _seed_history(seeded)

    async def run(pilot: Pilot[Any]) -> None:
        await ready(pilot)
        app = pilot.app
        assert isinstance(app, CelestoApp)
        # The texts of the commands this dashboard ran (the API's history has none), and
        # one action it took, as the controller records them.
        activity = app.model.activity
        for command_id, command in (
            ("cmd_snap_1", "ls -la"),
            ("cmd_snap_2", "cat /etc/missing"),
            ("cmd_snap_3", "sleep 60"),
        ):
            activity.command_ran(command_id, command)
        entry = LogEntry(NOW, "start", "ada", "celesto-tui computer start ada --local")
        entry.finish("ok", "ada is running")
        activity.action(ADA, NOW, entry)
        await pilot.press("a")
        pane = computers_view(app).activity_pane
        await wait_for(pilot, lambda: pane.table.row_count >= 6, what="the history")
        await pilot.pause()

    assert snap_compare(make(), terminal_size=SIZE, run_before=run)
