"""Dashboard tests: the real app against the real embedded backend (the session's
`local_server`), driven by Pilot. No mocks: faults come from the server's switch."""

from __future__ import annotations

import contextlib
import re
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from textual.content import Content
from textual.pilot import Pilot
from textual.widgets import Input, TextArea

from celesto_api import Celesto
from celesto_api.local import LocalServer
from celesto_tui.app import CelestoApp
from celesto_tui.clock import Clock
from celesto_tui.settings import Settings
from celesto_tui.target import Target
from celesto_tui.widgets.computers_view import ComputersView

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
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or predicate}")
        await pilot.pause(0.02)


async def loaded(pilot: Pilot[Any]) -> CelestoApp:
    """Wait for the first computers poll to be on screen."""
    app = pilot.app
    assert isinstance(app, CelestoApp)
    await wait_for(pilot, lambda: app.views["computers"].table.loaded, what="first poll")
    return app


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


def status_of(app: CelestoApp, computer_id: str) -> str | None:
    item = app.items["computers"].get(computer_id)
    return None if item is None else str(item.get("status"))


def wait_status(client: Celesto, computer_id: str, wanted: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while client.computers.get(computer_id)["status"] != wanted:
        assert time.monotonic() < deadline, f"{computer_id} never became {wanted}"
        time.sleep(0.02)


@pytest.fixture
def stopped_computer(client: Celesto) -> Iterator[dict[str, Any]]:
    created = client.computers.create()
    wait_status(client, created["id"], "running")
    client.computers.stop(created["id"])
    wait_status(client, created["id"], "stopped")
    yield dict(client.computers.get(created["id"]))
    with contextlib.suppress(Exception):
        client.computers.delete(created["id"])


def plain(text: object) -> str:
    """The text of a title (stored as markup) without its styles."""
    return Content.from_markup(str(text)).plain


# --- a front that answers like the Celesto cloud ----------------------------------------------

# The endpoints only the embedded local backend has (contract §5: the cloud has list, status
# and chat under /v1/deploy/apps, nothing else): the cloud's router answers them 404.
CLOUD_MISSING = (
    ("POST", re.compile(r"/v1/deploy/apps/[^/]+/stop")),
    ("DELETE", re.compile(r"/v1/deploy/apps/[^/]+")),
    ("GET", re.compile(r"/v1/deploy/apps/[^/]+/logs")),
)
FORWARDED_HEADERS = ("authorization", "content-type", "idempotency-key", "x-current-organization")


class CloudLikeFront(ThreadingHTTPServer):
    """A reverse proxy on loopback in front of the real local server with the cloud's route
    table: the local-only deployment endpoints answer 404 ``{"detail": "Not Found"}`` (what
    the cloud's FastAPI router says for a path it has no route for); every other request
    goes to the local server as it is."""

    daemon_threads = True

    def __init__(self, upstream: str) -> None:
        super().__init__(("127.0.0.1", 0), _FrontHandler)
        self.upstream = httpx.Client(base_url=upstream, timeout=30)
        self.refused: list[str] = []

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _FrontHandler(BaseHTTPRequestHandler):
    server: CloudLikeFront

    def _relay(self) -> None:
        path = urlsplit(self.path).path
        body = self.rfile.read(int(self.headers.get("content-length") or 0))
        if any(self.command == m and pattern.fullmatch(path) for m, pattern in CLOUD_MISSING):
            self.server.refused.append(f"{self.command} {path}")
            self._answer(404, b'{"detail":"Not Found"}', "application/json")
            return
        headers = {k: v for k, v in self.headers.items() if k.lower() in FORWARDED_HEADERS}
        reply = self.server.upstream.request(self.command, self.path, headers=headers, content=body)
        self._answer(reply.status_code, reply.content, reply.headers.get("content-type"))

    def _answer(self, status: int, body: bytes, content_type: str | None) -> None:
        self.send_response(status)
        if content_type:
            self.send_header("content-type", content_type)
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = do_DELETE = do_PUT = do_PATCH = _relay

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def cloud_like(local_server: LocalServer) -> Iterator[CloudLikeFront]:
    front = CloudLikeFront(local_server.base_url)
    thread = threading.Thread(target=front.serve_forever, name="cloud-like", daemon=True)
    thread.start()
    yield front
    front.shutdown()
    front.server_close()
    front.upstream.close()
    thread.join(5)
