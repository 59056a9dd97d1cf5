"""Start-up: targets and the header, themes, the UI state file, the terminal wiring."""

from __future__ import annotations

import gc
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from celesto_api.local import LocalServer
from celesto_tui.app.celesto_app import CelestoApp
from celesto_tui.app.settings import Settings, load_settings
from celesto_tui.commands.cli import main
from celesto_tui.model.target import Target, open_target
from celesto_tui.model.ui_state import (
    TERMINAL_TARGETS_KEPT,
    TERMINALS_KEPT,
    UiState,
    ViewState,
    default_state_path,
    load_state,
)

from .conftest import (
    AppFactory,
    computers_view,
    loaded,
    local_target,
    saved_state,
    select,
    wait_for,
)


def header(app: Any) -> str:
    return app.status_bar.plain


async def test_without_a_key_the_embedded_backend_runs_and_says_how_to_add_one(
    make_app: AppFactory, tmp_path: Path
) -> None:
    with open_target(False, data_dir=tmp_path / "data") as target:
        assert target.local and target.isolation in ("bwrap", "process")
        assert "celesto-tui auth login" in target.hint and "CELESTO_API_KEY" in target.hint
        app = make_app(target=target)
        async with app.run_test(size=(160, 40)) as pilot:
            await loaded(pilot)
            text = header(app)
            assert f"local · embedded backend · {target.sandbox_label}" in text
            assert "live" in text
            hint = app.query_one("#status-hint")
            assert hint.has_class("shown")
            assert "auth login" in str(hint.render())


async def test_computers_that_are_not_isolated_are_said_to_be_so(
    make_app: AppFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CELESTO_LOCAL_ISOLATION", "process")
    with open_target(True, data_dir=tmp_path / "data") as target:
        assert target.isolation == "process"
        app = make_app(target=target)
        async with app.run_test(size=(160, 40)) as pilot:
            await loaded(pilot)
            assert "local · embedded backend · NOT ISOLATED (process)" in header(app)
            hint = str(app.query_one("#status-hint").render())
            assert "Computers are NOT isolated from the host" in hint


async def test_explicit_local_has_no_hint_and_a_remote_target_names_its_profile(
    make_app: AppFactory, local_server: LocalServer, running_computer: dict[str, Any]
) -> None:
    app = make_app()
    async with app.run_test(size=(160, 40)) as pilot:
        await loaded(pilot)
        assert not app.query_one("#status-hint").has_class("shown")
    # `celesto-tui local serve` reached by URL: a server on this machine, never "cloud".
    remote = local_target(local_server, local=False, profile="prod", label="prod", isolation=None)
    app = make_app(target=remote)
    async with app.run_test(size=(160, 40)) as pilot:
        await loaded(pilot)
        host = local_server.base_url.removeprefix("http://")
        assert f"local server · profile prod · {host}" in header(app)
        assert "cloud" not in header(app)
        # Its command lines name the server, so pasting one reaches the same place.
        await select(pilot, running_computer["id"])
        await pilot.press("e", *"true", "enter")
        await wait_for(pilot, lambda: app.command_log.entries, what="the log line")
        assert app.command_log.entries[-1].line == (
            f"celesto-tui computer run {running_computer['name']} true --timeout 30 --profile prod "
            f"--base-url {local_server.base_url}"
        )
        assert local_server.api_key not in app.command_log.entries[-1].line


def test_the_header_calls_only_the_celesto_cloud_cloud() -> None:
    def kind(url: str) -> str:
        return Target(url, "sk_x", "x", local=False).kind

    assert kind("https://api.celesto.ai") == "cloud"
    assert kind("http://127.0.0.1:8000") == "local server"
    assert kind("http://[::1]:8000") == "local server"
    assert kind("https://celesto.example.com") == "server"


def test_cli_has_the_dashboard_options() -> None:
    result = CliRunner().invoke(main, ["--help"])
    assert result.exit_code == 0
    for option in ("--local", "--read-only", "--refresh", "--terminal", "--theme", "--profile"):
        assert option in result.output


def test_refresh_option_edges_are_usage_errors() -> None:
    for bad in ("0.4", "3601", "-1", "soon"):
        result = CliRunner().invoke(main, ["--refresh", bad])
        assert result.exit_code == 2, (bad, result.output)
        assert "--refresh" in result.output


def test_refresh_from_the_config_file_and_its_profile(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "config.toml").write_text(
        "refresh = 5\n[profiles.prod]\nrefresh = 0.5\n[profiles.bad]\nrefresh = 0.1\n"
    )
    monkeypatch.setenv("CELESTO_CONFIG_DIR", str(tmp_path))
    assert load_settings().refresh == 5
    assert load_settings("prod").refresh == 0.5
    bad = load_settings("bad")
    assert bad.refresh == 5  # the top-level value stands; the bad one is reported
    assert bad.problems == [
        "profiles.bad.refresh = 0.1 ignored: must be 0 (manual) or between 0.5 and 3600 seconds"
    ]
    assert load_settings().refresh == 5 and not load_settings().problems


def test_the_app_polls_at_the_configured_interval_unless_told(
    local_server: LocalServer,
) -> None:
    target = local_target(local_server)
    assert CelestoApp(target, settings=Settings(refresh=7)).refresh_seconds == 7
    told = CelestoApp(target, refresh_seconds=0, settings=Settings(refresh=7))
    assert told.refresh_seconds == 0


async def test_theme_option_is_applied_and_a_picked_theme_is_remembered(
    make_app: AppFactory,
) -> None:
    app = make_app(theme="nord")
    async with app.run_test(size=(160, 40)) as pilot:
        await loaded(pilot)
        assert app.theme == "nord"
        app.theme = "gruvbox"
        await wait_for(pilot, lambda: saved_state().get("theme") == "gruvbox", what="saved")
    assert load_state(default_state_path()).theme == "gruvbox"
    again = make_app()
    async with again.run_test(size=(160, 40)) as pilot:
        await loaded(pilot)
        assert again.theme == "gruvbox"


async def test_unknown_theme_is_reported_not_fatal(make_app: AppFactory) -> None:
    app = make_app(theme="no-such-theme")
    async with app.run_test(size=(160, 40)) as pilot:
        await loaded(pilot)
        assert app.theme != "no-such-theme"
        assert any("no-such-theme" in entry.summary for entry in app.error_log.entries)


def test_ui_state_round_trips_and_survives_a_damaged_file(tmp_path: Path) -> None:
    state = UiState(theme="nord", views={"computers": ViewState("cpu", True, "web")})
    state.remember_command("cmp_1", "ls")
    state.remember_command("cmp_1", "pwd")
    state.remember_command("cmp_1", "ls")
    assert state.exec_history["cmp_1"] == ["pwd", "ls"]
    path = tmp_path / "ui-state.json"
    path.write_text(json.dumps(state.to_json()))
    assert load_state(path) == state
    path.write_text("{not json")
    assert load_state(path) == UiState()


def test_kept_terminal_ids_are_checked_and_bounded(tmp_path: Path) -> None:
    path = tmp_path / "ui-state.json"
    url = "http://127.0.0.1:8765"
    raw = {
        "terminals": {
            url: {"cmp_1": "term_good1", "cmp_2": "not-a-terminal", "cmp_3": 7, "": "term_x1"},
            "https://api.celesto.ai": "not a table",
        }
    }
    path.write_text(json.dumps(raw))
    state = load_state(path)
    assert state.terminals == {url: {"cmp_1": "term_good1"}}  # what a request could carry
    assert not state.set_terminals(url, {"cmp_1": "term_good1"})  # unchanged: nothing to save
    assert state.set_terminals(url, {})
    assert state.terminals == {}
    many = {f"cmp_{i}": f"term_{i:06d}" for i in range(TERMINALS_KEPT + 5)}
    state.set_terminals(url, many)
    assert list(state.terminals[url]) == list(many)[-TERMINALS_KEPT:]
    for i in range(TERMINAL_TARGETS_KEPT + 3):
        state.set_terminals(f"http://host-{i}", {"cmp_1": "term_000001"})
    assert len(state.terminals) == TERMINAL_TARGETS_KEPT
    assert f"http://host-{TERMINAL_TARGETS_KEPT + 2}" in state.terminals  # the newest stay
    assert url not in state.terminals


async def test_terminal_key_opens_the_terminal_screen(
    make_app: AppFactory, running_computer: dict[str, Any]
) -> None:
    from celesto_tui.terminal.terminals_screen import TerminalsScreen

    app = make_app()
    async with app.run_test(size=(160, 40)) as pilot:
        await loaded(pilot)
        await select(pilot, running_computer["id"])
        await pilot.press("t")
        await wait_for(pilot, lambda: isinstance(app.screen, TerminalsScreen))
        assert app.command_log.entries[-1].line == (
            f"celesto-tui computer ssh {running_computer['name']} --local"
        )
        app.pop_screen()
        await pilot.pause()
        assert computers_view(app).table.has_focus or app.screen is app.screen_stack[0]


async def test_terminal_option_opens_straight_into_a_terminal(
    make_app: AppFactory, running_computer: dict[str, Any]
) -> None:
    from celesto_tui.terminal.terminals_screen import TerminalsScreen

    app = make_app(terminal=running_computer["name"])
    async with app.run_test(size=(160, 40)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, TerminalsScreen))
        screen = app.screen
        assert isinstance(screen, TerminalsScreen)
        await wait_for(pilot, lambda: running_computer["id"] in screen.terminal_ids, timeout=20)


async def test_terminal_option_with_an_unknown_name_says_so(make_app: AppFactory) -> None:
    app = make_app(terminal="no-such-computer")
    async with app.run_test(size=(160, 40)) as pilot:
        await wait_for(
            pilot,
            lambda: any("no-such-computer" in n.message for n in app._notifications),
            what="the toast",
        )


# Loaded only when first used, after the dashboard's first frame: the HTTP client (the SDK's
# clients make it, on the first poll), the CLI's verbs, the deploy bundler, the browser
# opener, the config file parser (only when there is a file).
NOT_BEFORE_THE_FIRST_FRAME = (
    "httpx",
    "tarfile",
    "webbrowser",
    "tomllib",
    "celesto_tui.commands.computer",
)


def test_the_dashboard_path_imports_no_http_client_or_cli_verbs() -> None:
    script = (
        "import sys\n"
        "from celesto_tui.commands.cli import main\n"
        "from celesto_tui.app.celesto_app import CelestoApp\n"
        "from celesto_tui.model.target import open_target\n"
        f"print(' '.join(m for m in {NOT_BEFORE_THE_FIRST_FRAME!r} if m in sys.modules))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == []


async def test_the_first_frame_mounts_only_what_it_shows(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=(160, 40)) as pilot:
        # Run-test yields before the first refresh: the hidden views and panes come after it.
        computers = computers_view(app)
        hidden = [
            app.views["deployments"],
            app.command_log_view,
            app.errors_view,
            computers.exec_pane,
            computers.ports_pane,
            computers.activity_pane,
        ]
        assert computers.is_mounted and computers.overview.is_mounted
        assert not any(widget.is_mounted for widget in hidden)
        await wait_for(pilot, lambda: all(widget.is_mounted for widget in hidden), what="mount")
        assert app.switcher.current == "computers"
        assert [widget.display for widget in hidden[:3]] == [False, False, False]
        await loaded(pilot)
        await pilot.press("e")  # the exec pane, mounted after the first frame, works
        await wait_for(pilot, lambda: computers.exec_pane.prompt.has_focus, what="exec focus")


async def test_a_collector_paused_for_start_up_is_back_on_after_the_first_frame(
    make_app: AppFactory,
) -> None:
    app = make_app(collector_paused=True)
    gc.disable()  # as `celesto-tui` does before it imports the app
    try:
        async with app.run_test(size=(160, 40)) as pilot:
            await wait_for(pilot, gc.isenabled, what="the collector back on")
            await loaded(pilot)
    finally:
        gc.enable()
        gc.unfreeze()
