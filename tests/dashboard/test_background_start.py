"""The embedded backend starting after the first frame: the header says starting… until it
is up, keys work meanwhile, and a backend that cannot start is reported, never a crash.

Real parts only: `open_target(..., background=True)` binds the socket and the app starts
the real LocalServer in a thread after its first refresh. A test coroutine runs on the
app's loop, so what it reads between two awaits is one consistent state of the app."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual.widgets import Tab, TabbedContent, TabPane

from celesto_api.local import DataDirBusyError, LocalServer
from celesto_tui.app.widgets.status_bar import target_text
from celesto_tui.model.target import Target, open_target

from .conftest import AppFactory, loaded, wait_for

DETAIL_TITLES = ("Overview", "Exec", "Ports", "Activity")


def header(app: Any) -> str:
    return str(app.status_bar.plain)


def test_a_target_whose_backend_has_not_started_says_so(tmp_path: Path) -> None:
    with open_target(True, data_dir=tmp_path / "data", background=True) as target:
        assert target.starting and target.startup is not None
        assert target.base_url.startswith("http://127.0.0.1:")
        assert target_text(target) == "local · embedded backend · starting…"
        assert target.api_key not in repr(target.startup)
        assert target.api_key not in repr(target)
    # Never started: leaving the block only closes the socket.


async def test_header_says_starting_then_live_and_keys_work_meanwhile(
    make_app: AppFactory, tmp_path: Path
) -> None:
    with open_target(True, data_dir=tmp_path / "data", background=True) as target:
        app = make_app(target=target)
        async with app.run_test(size=(160, 40)) as pilot:
            startup = target.startup
            assert startup is not None
            # Run-test yields once the first frame is painted; the backend starts after it
            # and its "up" message waits for this coroutine's next await.
            assert app.target.starting
            assert "starting…" in header(app)
            assert "connecting…" in header(app)
            assert app.views["computers"].loading
            await pilot.press("2")
            assert app.switcher.current == "deployments"
            await pilot.press("1")
            assert app.switcher.current == "computers"
            await loaded(pilot)
            started: Target = app.target
            assert not started.starting and started.isolation in ("bwrap", "process")
            assert startup.server is not None
            text = header(app)
            assert "starting…" not in text and "live" in text
            assert f"local · embedded backend · {startup.server.sandbox_label}" in text
            assert app.controller.target is started
            assert not app.views["computers"].loading
            # Covered in the first frame, the detail panes came right after it, as composed.
            detail = app.views["computers"].query_one("#detail", TabbedContent)
            assert detail.active == "pane-overview"
            assert [pane.id for pane in detail.query(TabPane)] == [
                "pane-overview",
                "pane-exec",
                "pane-ports",
                "pane-activity",
            ]
            assert [str(tab.label) for tab in detail.query(Tab)] == list(DETAIL_TITLES)
            await pilot.press("e")
            await wait_for(pilot, lambda: detail.active == "pane-exec", what="the exec pane")
    # Leaving the block stopped it (its thread is gone), so the data dir can be used again.
    with LocalServer(data_dir=tmp_path / "data"):
        pass


async def test_a_backend_that_cannot_start_is_reported_and_keys_still_work(
    make_app: AppFactory, tmp_path: Path
) -> None:
    data_dir = tmp_path / "data"
    with (
        LocalServer(data_dir=data_dir),  # holds the data dir: the dashboard's start fails
        open_target(True, data_dir=data_dir, background=True) as target,
    ):
        app = make_app(target=target)
        async with app.run_test(size=(160, 40)) as pilot:
            await wait_for(pilot, lambda: "did not start" in header(app), what="start failure")
            startup = target.startup
            assert startup is not None and startup.server is None
            assert startup.error is not None
            assert isinstance(startup.error, DataDirBusyError)
            assert any("embedded backend" in entry.source for entry in app.error_log.entries)
            assert app.is_running
            await pilot.press("4")
            assert app.switcher.current == "errors"
