"""The deployments view: deploy dialog (path completion, env vars), live statuses, build
log and last error, URL copy and health probe, stop and delete (and what the cloud says to
them) — with real local deployments."""

from __future__ import annotations

import contextlib
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from textual.pilot import Pilot
from textual.widgets import Button, Input, Static, TextArea

from celesto_api import Celesto, CelestoError, CelestoNotFoundError
from celesto_api.local import LocalServer
from celesto_tui.app.celesto_app import CelestoApp
from celesto_tui.app.screens.confirm import ConfirmScreen
from celesto_tui.app.screens.deploy import PathSuggester, parse_envs
from celesto_tui.app.screens.deployment_logs import DeploymentLogsScreen
from celesto_tui.app.widgets.deployments_view import DeploymentsView
from celesto_tui.model.target import Target
from tests.cloud_like import CloudLikeFront
from tests.waiting import wait_until

from .conftest import AppFactory, loaded, next_poll, open_deploy_dialog, wait_for

APP = """\
import http.server, os
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200); self.end_headers()
        self.wfile.write(os.environ["GREETING"].encode())
    def log_message(self, *args):
        pass
print("listening", flush=True)
http.server.HTTPServer(("127.0.0.1", int(os.environ["PORT"])), H).serve_forever()
"""


async def test_path_suggester_completes_folders(tmp_path: Path) -> None:
    (tmp_path / "my-agent").mkdir()
    (tmp_path / "my-other").mkdir()
    (tmp_path / ".hidden").mkdir()
    (tmp_path / "my-file").write_text("")
    suggester = PathSuggester()
    assert await suggester.get_suggestion(f"{tmp_path}/my-a") == f"{tmp_path}/my-agent/"
    assert await suggester.get_suggestion(f"{tmp_path}/my-f") is None
    assert await suggester.get_suggestion(f"{tmp_path}/.h") == f"{tmp_path}/.hidden/"


def test_env_vars_parse_like_the_sdk_checks_them() -> None:
    assert parse_envs("A=1\n# comment\nB = two, C=") == {"A": "1", "B": "two", "C": ""}
    try:
        parse_envs("no equals sign")
    except Exception as exc:
        assert "KEY=VALUE" in str(exc)
    else:
        raise AssertionError("accepted a line without '='")


async def test_deploy_follow_status_read_the_log_and_probe(
    make_app: AppFactory, tmp_path: Path
) -> None:
    folder = tmp_path / "hello-agent"
    folder.mkdir()
    (folder / "main.py").write_text(APP)
    name = f"hello-{random.getrandbits(24):06x}"
    app = make_app(refresh=0.2)
    async with app.run_test(size=(160, 48)) as pilot:
        await loaded(pilot)
        dialog = await open_deploy_dialog(pilot)
        view = app.views["deployments"]
        dialog.query_one("#deploy-folder", Input).value = str(tmp_path / "nowhere")
        await pilot.click("#deploy")
        assert "does not exist" in str(dialog.query_one("#deploy-error", Static).render())
        dialog.query_one("#deploy-folder", Input).value = str(folder)
        dialog.query_one("#deploy-name", Input).value = name
        dialog.query_one("#deploy-description", Input).value = "says hello"
        dialog.query_one("#deploy-envs", TextArea).text = "GREETING=hi there\nTOKEN=s3cret"
        dialog.query_one("#deploy-name", Input).focus()
        await pilot.press("enter")
        await wait_for(pilot, lambda: name in app.model.items["deployments"], what="the new row")
        entry = app.command_log.entries[-1]
        assert entry.action == "deploy"
        assert "s3cret" not in entry.line and "TOKEN=***" in entry.line
        assert entry.line.startswith(f"celesto-tui deploy {folder} --name {name}")
        await wait_for(
            pilot,
            lambda: app.model.items["deployments"][name]["status"] == "READY",
            timeout=60,
            what="READY",
        )
        await wait_for(pilot, lambda: view.table.selected_key() == name)
        row = [str(cell) for cell in view.table.get_row(name)]
        assert row[1] == "● READY" and row[2] == "says hello"
        url = str(app.model.items["deployments"][name]["url"])

        await pilot.press("h")
        await wait_for(pilot, lambda: url in view.health, what="the probe")  # type: ignore[attr-defined]
        assert view.health[url].status == 200  # type: ignore[attr-defined]
        await pilot.press("y")
        assert app.clipboard == url

        await pilot.press("l")
        await wait_for(pilot, lambda: isinstance(app.screen, DeploymentLogsScreen))
        screen = app.screen
        assert isinstance(screen, DeploymentLogsScreen)
        await wait_for(pilot, lambda: "listening" in screen.text, what="the logs")
        await pilot.press("escape")
        assert app.current_view == "deployments"


SERVE = """\
import http.server, os
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200); self.end_headers(); self.wfile.write(b"up")
    def log_message(self, *args):
        pass
print("serving", flush=True)
http.server.HTTPServer(("127.0.0.1", int(os.environ["PORT"])), H).serve_forever()
"""


def ready(sdk: Celesto, name: str) -> Any:
    """The deployment once it is READY (failing at once if it FAILED or STOPPED)."""

    def settled(deployment: Any) -> bool:
        assert deployment["status"] not in ("FAILED", "STOPPED"), deployment
        return bool(deployment["status"] == "READY")

    return wait_until(lambda: sdk.deployment.get(name), settled, f"{name} to be READY", 90)


@pytest.fixture
def ready_deployment(sdk: Celesto, tmp_path: Path) -> Iterator[dict[str, Any]]:
    """A real deployment of a tiny HTTP app, READY with a URL."""
    folder = tmp_path / "up-agent"
    folder.mkdir()
    (folder / "main.py").write_text(SERVE)
    name = f"up-{random.getrandbits(24):06x}"
    sdk.deployment.deploy(folder, name, description="answers up")
    yield dict(ready(sdk, name))
    with contextlib.suppress(CelestoError):
        sdk.deployment.delete(name)


async def deployments_shown(pilot: Pilot[Any], name: str) -> DeploymentsView:
    """The deployments view, with the cursor on ``name``."""
    app = pilot.app
    assert isinstance(app, CelestoApp)
    await pilot.press("2")
    view = app.views["deployments"]
    assert isinstance(view, DeploymentsView)
    await wait_for(pilot, lambda: name in view.table.rows, what=f"the row of {name}")
    view.table.focus()
    view.table.select_key(name)
    await pilot.pause()
    return view


def status_cell(view: DeploymentsView, name: str) -> str:
    return str(view.table.get_row(name)[1])


def toasts(app: CelestoApp) -> list[str]:
    return [f"{n.title} {n.message}" for n in app._notifications]


async def test_stop_then_delete_a_deployment(
    make_app: AppFactory, ready_deployment: dict[str, Any], local_server: LocalServer
) -> None:
    name, url = ready_deployment["name"], str(ready_deployment["url"])
    app = make_app()
    async with app.run_test(size=(160, 44), notifications=True) as pilot:
        await loaded(pilot)
        view = await deployments_shown(pilot, name)
        await pilot.press("x")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        assert app.screen.focused is not None and app.screen.focused.id == "cancel"
        assert any(name in target for target in app.screen.targets)  # type: ignore[attr-defined]
        await pilot.press("enter")  # Enter on the focused Cancel: nothing happens
        await next_poll(pilot, "deployments")
        assert app.model.items["deployments"][name]["status"] == "READY"
        assert not app.command_log.entries

        await pilot.press("x")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        local_server.set_faults("latency_ms=1500")  # a slow API: the row must not wait for it
        await pilot.click("#confirm")
        await wait_for(pilot, lambda: status_cell(view, name) == "◑ stopping", what="◑ stopping")
        local_server.set_faults(None)
        await wait_for(
            pilot,
            lambda: app.model.items["deployments"][name]["status"] == "STOPPED",
            what="STOPPED",
        )
        await wait_for(pilot, lambda: f"Stop {name} is STOPPED." in toasts(app), what="toast")
        entry = app.command_log.entries[-1]
        assert entry.line == f"celesto-tui deployments stop {name} --local"
        assert entry.status == "ok"
        assert httpx.get(url, timeout=10).status_code == 503  # really stopped
        await pilot.press("x")  # already stopped: said, not sent
        await pilot.pause()
        assert not isinstance(app.screen, ConfirmScreen)
        assert any("already stopped" in toast for toast in toasts(app))

        await pilot.press("D")
        # a typed-name confirmation: the field to type into has the focus
        await wait_for(
            pilot,
            lambda: getattr(app.screen.focused, "id", None) == "confirm-text",
            what="the confirmation",
        )
        screen = app.screen
        assert isinstance(screen, ConfirmScreen)
        delete = screen.query_one("#confirm", Button)
        assert delete.disabled
        await pilot.press("escape")  # cancelled
        await next_poll(pilot, "deployments")
        assert name in app.model.items["deployments"] and len(app.command_log.entries) == 1

        await pilot.press("D")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press(*name)
        assert not app.screen.query_one("#confirm", Button).disabled
        local_server.set_faults("latency_ms=1500")
        await pilot.press("enter")
        await wait_for(pilot, lambda: status_cell(view, name) == "◑ deleting", what="◑ deleting")
        local_server.set_faults(None)
        await wait_for(pilot, lambda: name not in view.table.rows, what="the row gone")
        await wait_for(pilot, lambda: f"Delete Deleted deployment {name}." in toasts(app))
        # A poll after the delete does not bring it back.
        polls = app.pollers["deployments"].polls
        await wait_for(pilot, lambda: app.pollers["deployments"].polls > polls + 1)
        assert name not in app.model.items["deployments"] and not app.model.pending_deployments
        entry = app.command_log.entries[-1]
        assert entry.line == f"celesto-tui deployments delete {name} --force --local"
    with (
        Celesto(api_key=local_server.api_key, base_url=local_server.base_url) as client,
        pytest.raises(CelestoNotFoundError),
    ):
        client.deployment.get(name)


async def test_a_failed_deployment_stop_puts_the_row_back_and_says_why(
    make_app: AppFactory, ready_deployment: dict[str, Any], local_server: LocalServer
) -> None:
    name = ready_deployment["name"]
    app = make_app(refresh=0)  # manual: no poll corrects the row behind the test's back
    async with app.run_test(size=(160, 44), notifications=True) as pilot:
        await loaded(pilot)
        view = await deployments_shown(pilot, name)
        await pilot.press("x")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        local_server.set_faults("error_rate=1")  # every request fails, the SDK's retries too
        await pilot.click("#confirm")
        log = app.command_log.entries
        await wait_for(pilot, lambda: log and log[-1].status == "failed", what="the failure")
        local_server.set_faults(None)
        await wait_for(pilot, lambda: status_cell(view, name) == "● READY", what="● READY")
        assert app.model.items["deployments"][name]["status"] == "READY"
        assert not app.model.pending_deployments
        assert any(f"Could not stop {name}" in t and "503" in t for t in toasts(app))


def cloud_target(front: CloudLikeFront, server: LocalServer) -> Target:
    return Target(base_url=front.base_url, api_key=server.api_key, label="cloud", local=False)


async def test_on_the_cloud_stop_delete_and_logs_say_they_are_not_offered(
    make_app: AppFactory,
    ready_deployment: dict[str, Any],
    cloud_like: CloudLikeFront,
    local_server: LocalServer,
) -> None:
    name = ready_deployment["name"]
    target = cloud_target(cloud_like, local_server)
    app = make_app(target=target, refresh=0)
    said = f"{cloud_like.base_url} does not offer deployment"
    async with app.run_test(size=(160, 44), notifications=True) as pilot:
        await loaded(pilot)
        view = await deployments_shown(pilot, name)
        await pilot.press("x")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.click("#confirm")
        log = app.command_log.entries
        await wait_for(pilot, lambda: log and log[-1].status == "failed", what="the refusal")
        await pilot.pause()
        expected = (
            f"{said} stop; only the embedded local backend does. "
            "Manage cloud deployments at https://celesto.ai."
        )
        assert f"Could not stop {name} {expected}" in toasts(app)
        assert status_cell(view, name) == "● READY"  # as it was
        assert log[-1].line == f"celesto-tui deployments stop {name} --base-url {target.base_url}"

        await pilot.press("D")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        app.screen.query_one("#confirm-text", Input).value = name
        await pilot.click("#confirm")
        await wait_for(pilot, lambda: len(log) == 2 and log[-1].status == "failed")
        await pilot.pause()
        assert any(f"{said} delete; only the embedded" in toast for toast in toasts(app))
        assert name in view.table.rows and status_cell(view, name) == "● READY"

        await pilot.press("l")
        await wait_for(pilot, lambda: isinstance(app.screen, DeploymentLogsScreen))
        screen = app.screen
        assert isinstance(screen, DeploymentLogsScreen)
        await wait_for(pilot, lambda: screen.ended, what="the refusal")
        assert f"{said} logs; only the embedded" in screen.text
        await pilot.press("escape")
    assert cloud_like.refused == [
        f"POST /v1/deploy/apps/{name}/stop",
        f"DELETE /v1/deploy/apps/{name}",
        f"GET /v1/deploy/apps/{name}/logs",
    ]


async def test_a_missing_deployment_is_not_found_not_unoffered(
    make_app: AppFactory,
    ready_deployment: dict[str, Any],
    cloud_like: CloudLikeFront,
    local_server: LocalServer,
    sdk: Celesto,
) -> None:
    """On the cloud, a 404 from stop means "no such endpoint" only if the deployment exists."""
    name = ready_deployment["name"]
    app = make_app(target=cloud_target(cloud_like, local_server), refresh=0)
    async with app.run_test(size=(160, 44), notifications=True) as pilot:
        await loaded(pilot)
        await deployments_shown(pilot, name)
        sdk.deployment.delete(name)  # gone behind the dashboard's back
        await pilot.press("x")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.click("#confirm")
        log = app.command_log.entries
        await wait_for(pilot, lambda: log and log[-1].status == "failed", what="the failure")
        assert "not found" in log[-1].detail.lower()
        assert "does not offer" not in log[-1].detail


async def test_read_only_hides_deployment_stop_and_delete(
    make_app: AppFactory, ready_deployment: dict[str, Any]
) -> None:
    app = make_app(read_only=True)
    async with app.run_test(size=(160, 44)) as pilot:
        await loaded(pilot)
        await deployments_shown(pilot, ready_deployment["name"])
        shown = {b.id for _, b, enabled, *_ in app.screen.active_bindings.values() if enabled}
        assert "deployment-logs" in shown
        assert not {"deployment-stop", "deployment-delete", "deploy"} & shown
        await pilot.press("x", "D")
        await next_poll(pilot, "deployments")
        assert app.screen is app.screen_stack[0] and not app.command_log.entries


CHATTY = """\
import http.server, os, threading, time
def tick():
    n = 0
    while True:
        n += 1
        print(f"tick {n}", flush=True)
        time.sleep(0.1)
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200); self.end_headers(); self.wfile.write(b"up")
    def log_message(self, *args):
        pass
threading.Thread(target=tick, daemon=True).start()
http.server.HTTPServer(("127.0.0.1", int(os.environ["PORT"])), H).serve_forever()
"""


def ticks(screen: DeploymentLogsScreen) -> int:
    return screen.text.count("tick ")


async def test_logs_follow_new_lines_pause_on_scroll_up_and_resume_with_f(
    make_app: AppFactory, sdk: Celesto, tmp_path: Path
) -> None:
    folder = tmp_path / "chatty"
    folder.mkdir()
    (folder / "main.py").write_text(CHATTY)
    name = f"chatty-{random.getrandbits(24):06x}"
    sdk.deployment.deploy(folder, name)
    ready(sdk, name)
    app = make_app(refresh=0)
    try:
        async with app.run_test(size=(100, 30)) as pilot:
            await loaded(pilot)
            await deployments_shown(pilot, name)
            await pilot.press("l")
            await wait_for(pilot, lambda: isinstance(app.screen, DeploymentLogsScreen))
            screen = app.screen
            assert isinstance(screen, DeploymentLogsScreen)
            log = screen.log_view
            await wait_for(pilot, lambda: ticks(screen) > 40, what="lines to fill the view")
            seen = ticks(screen)
            await wait_for(pilot, lambda: ticks(screen) > seen + 5, what="new lines streaming")
            assert log.following and log.scroll_y == log.max_scroll_y
            assert screen.polls >= 2

            await pilot.press("pageup")  # the user reads back: the follow pauses
            assert not log.following
            held = log.scroll_y
            assert held < log.max_scroll_y
            seen = ticks(screen)
            await wait_for(pilot, lambda: ticks(screen) > seen + 5, what="more lines")
            assert log.scroll_y == held  # new lines did not pull the view down
            assert "paused" in str(screen.query_one("#logs-state").render())

            await pilot.press("f")  # follow again
            assert log.following and log.scroll_y == log.max_scroll_y
            seen = ticks(screen)
            await wait_for(pilot, lambda: ticks(screen) > seen + 5, what="more lines")
            await pilot.pause()
            assert log.scroll_y == log.max_scroll_y
            await pilot.press("home")
            assert not log.following
            await pilot.press("end")
            assert log.following
            await pilot.press("escape")
    finally:
        sdk.deployment.delete(name)


async def test_log_polls_never_overlap(
    make_app: AppFactory, local_server: LocalServer, ready_deployment: dict[str, Any]
) -> None:
    """A slow logs endpoint is asked again only once it answered, however fast the screen's
    timer ticks: the server sees no more requests than answers, plus the one out."""
    app = make_app(refresh=0)
    async with app.run_test(size=(100, 30)) as pilot:
        await loaded(pilot)
        assert local_server.backend is not None
        faults = local_server.backend.faults  # the fault switch counts what it delays
        local_server.set_faults("latency_ms=300,count=100000")
        try:
            screen = DeploymentLogsScreen(ready_deployment, every=0.01)
            app.push_screen(screen)
            await wait_for(pilot, lambda: screen.polls >= 4, what="four answers")
            sent = 100000 - (faults.spec.count or 0)
            assert screen.polls <= sent <= screen.polls + 2, (sent, screen.polls)
        finally:
            local_server.set_faults(None)
