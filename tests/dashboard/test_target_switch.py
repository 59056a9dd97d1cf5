"""Switching context (profile / server / embedded backend) inside the dashboard, without
restarting: two real embedded servers on loopback, configured as profiles of a temporary
config file. A profile with a wrong key (the second server checks its key) gets a 401."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import tomli_w
from textual.message import Message
from textual.pilot import Pilot
from textual.widgets import OptionList

from celesto_api import Celesto
from celesto_api.local import LocalServer
from celesto_tui.app.celesto_app import CelestoApp
from celesto_tui.app.intents import ContextSwitchRequested
from celesto_tui.app.messages import TargetSwitching
from celesto_tui.app.screens.context_picker import ContextPickerScreen
from celesto_tui.model.command_input import Command, CommandInputError, complete, parse_command
from celesto_tui.model.contexts import (
    LOCAL,
    ContextError,
    filtered,
    list_contexts,
    profile_target,
    remembered_start,
)

from .conftest import (
    AppFactory,
    computers_view,
    loaded,
    next_poll,
    saved_state,
    select,
    wait_for,
)

SECOND_KEY = "second-server-key-0123456789"
WRONG_KEY = "wrong-key-9876543210-abcdef"


@pytest.fixture(scope="module")
def second_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalServer]:
    with LocalServer(data_dir=tmp_path_factory.mktemp("second"), token=SECOND_KEY) as server:
        yield server


@pytest.fixture
def config(
    local_server: LocalServer,
    second_server: LocalServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> dict[str, Any]:
    """Profiles ``one`` (the session's server), ``two`` (the second), ``bad`` (the second
    with a wrong key), ``gone`` (nothing listens) and ``nokey``, in a config file of this
    test's own. ``two`` is read-only."""
    data = {
        "profiles": {
            "one": {"api_key": local_server.api_key, "base_url": local_server.base_url},
            "two": {
                "api_key": SECOND_KEY,
                "base_url": second_server.base_url,
                "read_only": True,
            },
            "gone": {"api_key": WRONG_KEY, "base_url": "http://127.0.0.1:9"},
            "bad": {"api_key": WRONG_KEY, "base_url": second_server.base_url},
            "nokey": {"base_url": "https://api.celesto.ai"},
        }
    }
    config_dir = tmp_path / "config"
    config_dir.mkdir()
    (config_dir / "config.toml").write_text(tomli_w.dumps(data))
    monkeypatch.setenv("CELESTO_CONFIG_DIR", str(config_dir))
    return data


@pytest.fixture
def on_each(
    local_server: LocalServer, second_server: LocalServer
) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
    """A computer on each server (not waited for: listed from the start)."""
    made: list[tuple[Celesto, str]] = []
    pairs = []
    for server in (local_server, second_server):
        client = Celesto(api_key=server.api_key, base_url=server.base_url)
        computer = dict(client.computers.create())
        made.append((client, str(computer["id"])))
        pairs.append(computer)
    yield pairs[0], pairs[1]
    for client, computer_id in made:
        with contextlib.suppress(Exception):
            client.computers.delete(computer_id)
        client.close()


def _on_profile_one(make_app: AppFactory, config: dict[str, Any]) -> CelestoApp:
    return make_app(target=profile_target("one", config))


def _messages(app: CelestoApp) -> list[str]:
    return [f"{n.title}: {n.message}" for n in app._notifications]


async def _pick(pilot: Pilot[Any], text: str) -> ContextPickerScreen:
    app = pilot.app
    await pilot.press("ctrl+o")
    await wait_for(pilot, lambda: isinstance(app.screen, ContextPickerScreen), what="picker")
    assert isinstance(app.screen, ContextPickerScreen)
    picker = app.screen
    await wait_for(pilot, lambda: picker.is_mounted and picker.shown, what="the list")
    if text:
        await pilot.press(*text)
        await wait_for(pilot, lambda: picker.shown[:1] == [text], what=f"{text} first")
    return picker


# --- the model: what the picker lists ------------------------------------------------------


def test_contexts_list_profiles_hosts_and_keys_never_the_key(
    config: dict[str, Any], local_server: LocalServer
) -> None:
    current = profile_target("one", config)
    contexts = list_contexts(config, current, current, "not running")
    names = [c.name for c in contexts]
    assert names == ["bad", "gone", "nokey", "one", "two", LOCAL]
    by_name = {c.name: c for c in contexts}
    assert by_name["one"].current and not by_name["two"].current
    assert by_name["nokey"].host == "api.celesto.ai" and not by_name["nokey"].has_key
    assert by_name["one"].host == local_server.base_url.removeprefix("http://")
    assert SECOND_KEY not in repr(contexts) and WRONG_KEY not in repr(contexts)
    assert [c.name for c in filtered(contexts, "TW")] == ["two"]
    assert [c.name for c in filtered(contexts, "celesto")] == ["nokey"]


def test_a_profile_without_a_key_or_unknown_is_refused(config: dict[str, Any]) -> None:
    with pytest.raises(ContextError, match="no api_key"):
        profile_target("nokey", config)
    with pytest.raises(ContextError, match=r"No profile 'nope'.*bad, gone, nokey, one, two"):
        profile_target("nope", config)


def test_the_last_context_is_used_only_while_it_exists(config: dict[str, Any]) -> None:
    assert remembered_start("two", config) == (False, "two")
    assert remembered_start(LOCAL, config) == (True, None)
    assert remembered_start("deleted-since", config) == (False, None)
    assert remembered_start(None, config) == (False, None)


def test_the_command_line_takes_context_and_ctx_with_completion() -> None:
    assert parse_command("context two") == Command("context", ("two",))
    assert parse_command("ctx") == Command("context", ())
    with pytest.raises(CommandInputError, match="one context name"):
        parse_command("ctx one two")
    names = ["local", "one", "two"]
    assert complete("con", [], [], names) == "context"
    assert complete("ctx t", [], [], names) == "ctx two"
    assert complete("context l", ["lovelace"], [], names) == "context local"
    assert complete("context two x", [], [], names) is None


def test_the_dashboard_reopens_on_the_last_context_picked(
    config: dict[str, Any], _state_dir: Path
) -> None:
    from celesto_tui.commands.cli import _remembered_context
    from celesto_tui.model.ui_state import UiState, default_state_path, load_state

    assert _remembered_context() == (False, None)  # nothing picked yet
    state = UiState(context="two")
    _state_dir.mkdir(parents=True, exist_ok=True)
    default_state_path().write_text(json.dumps(state.to_json()))
    assert load_state(default_state_path()).context == "two"
    assert _remembered_context() == (False, "two")
    default_state_path().write_text(json.dumps(UiState(context=LOCAL).to_json()))
    assert _remembered_context() == (True, None)
    default_state_path().write_text(json.dumps({"context": ["not", "a", "name"]}))
    assert _remembered_context() == (False, None)


# --- the dashboard ------------------------------------------------------------------------


async def test_switching_shows_the_other_servers_computers(
    make_app: AppFactory,
    config: dict[str, Any],
    on_each: tuple[dict[str, Any], dict[str, Any]],
    second_server: LocalServer,
) -> None:
    first, second = on_each
    app = _on_profile_one(make_app, config)
    async with app.run_test(size=(140, 40), notifications=True) as pilot:
        await loaded(pilot)
        view = computers_view(app)
        await wait_for(pilot, lambda: first["id"] in view.table.rows, what="first's computer")
        assert second["id"] not in view.table.rows
        before = app.controller.generation
        activity_of_one = app.model.activity

        picker = await _pick(pilot, "two")
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.target.profile == "two", what="the switch")

        assert picker is not app.screen
        assert app.controller.generation == before + 1
        assert app.controller.target.base_url == second_server.base_url
        await wait_for(pilot, lambda: second["id"] in view.table.rows, what="second's computer")
        assert first["id"] not in view.table.rows
        assert first["id"] not in app.model.items["computers"]
        assert "profile two" in app.status_bar.plain
        assert "switching" not in app.status_bar.plain
        # Every later poll is of the new target: the old one's computer never comes back.
        polls = app.pollers["computers"].polls
        await wait_for(pilot, lambda: app.pollers["computers"].polls >= polls + 2)
        assert first["id"] not in view.table.rows
        # Remembered for the next start without target options.
        await wait_for(pilot, lambda: saved_state().get("context") == "two", what="saved")
        # The command line's lines now name the new target, whose profile is read-only.
        assert app.controller.where.profile == "two"
        assert app.read_only and "READ-ONLY" in app.status_bar.plain
        app.post_message(ContextSwitchRequested("one"))
        await wait_for(pilot, lambda: app.target.profile == "one", what="back to one")
        assert not app.read_only and "READ-ONLY" not in app.status_bar.plain
        await wait_for(pilot, lambda: first["id"] in view.table.rows, what="first's again")
        # One's activity (statuses seen, actions) is one's again.
        assert app.model.activity is activity_of_one
        assert view.activity_pane.activity is activity_of_one


async def test_a_rejected_key_toasts_and_keeps_the_old_target(
    make_app: AppFactory, config: dict[str, Any], on_each: tuple[dict[str, Any], dict[str, Any]]
) -> None:
    first, _ = on_each
    app = _on_profile_one(make_app, config)
    async with app.run_test(size=(140, 40), notifications=True) as pilot:
        await loaded(pilot)
        view = computers_view(app)
        await wait_for(pilot, lambda: first["id"] in view.table.rows, what="first's computer")
        await pilot.press("colon")
        await pilot.press(*"ctx bad", "enter")
        await wait_for(
            pilot,
            lambda: any("Could not switch to bad" in m for m in _messages(app)),
            what="the toast",
        )
        toast = next(m for m in _messages(app) if "Could not switch to bad" in m)
        assert "rejected" in toast and "Still on one" in toast
        assert WRONG_KEY not in toast
        assert app.target.profile == "one" and app.controller.generation == 0
        assert "switching" not in app.status_bar.plain
        # The old target is still polled and shown.
        polls = app.pollers["computers"].polls
        await wait_for(pilot, lambda: app.pollers["computers"].polls > polls, what="a poll")
        assert first["id"] in view.table.rows
        assert saved_state().get("context") is None


async def test_an_unknown_profile_toasts(make_app: AppFactory, config: dict[str, Any]) -> None:
    app = _on_profile_one(make_app, config)
    async with app.run_test(size=(140, 40), notifications=True) as pilot:
        await loaded(pilot)
        await pilot.press("colon")
        await pilot.press(*"context nope", "enter")
        await wait_for(pilot, lambda: any("No profile 'nope'" in m for m in _messages(app)))
        assert app.target.profile == "one"
        # `:ctx` alone opens the picker.
        await pilot.press("colon")
        await pilot.press(*"ctx", "enter")
        await wait_for(pilot, lambda: isinstance(app.screen, ContextPickerScreen), what="picker")


async def test_the_picker_never_shows_a_key_and_escape_cancels(
    make_app: AppFactory, config: dict[str, Any], local_server: LocalServer
) -> None:
    app = _on_profile_one(make_app, config)
    async with app.run_test(size=(140, 40), notifications=True) as pilot:
        await loaded(pilot)
        picker = await _pick(pilot, "")
        assert picker.shown == ["bad", "gone", "nokey", "one", "two", LOCAL]
        screen = app.export_screenshot().replace("&#160;", " ")
        for key in (local_server.api_key, SECOND_KEY, WRONG_KEY):
            assert key not in screen
        assert "key ✓" in screen and "no key" in screen
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, ContextPickerScreen))
        assert app.target.profile == "one" and app.controller.generation == 0


async def test_an_action_sent_before_a_switch_ends_on_its_target_unseen_in_the_new_one(
    make_app: AppFactory,
    config: dict[str, Any],
    local_server: LocalServer,
    second_server: LocalServer,
    sdk: Celesto,
) -> None:
    app = _on_profile_one(make_app, config)
    async with app.run_test(size=(140, 40), notifications=True) as pilot:
        await loaded(pilot)
        # The first server answers slowly: the create is still out when the switch is done.
        local_server.set_faults("latency_ms=1500-1500")
        await pilot.press("colon")
        await pilot.press(*"computer create", "enter")
        await wait_for(pilot, lambda: app.command_log.entries, what="the create's entry")
        entry = app.command_log.entries[-1]
        assert entry.status == "running"
        app.post_message(ContextSwitchRequested("two"))
        await wait_for(pilot, lambda: app.target.profile == "two", what="the switch")
        assert entry.status == "running"

        # It ends on the first server (its own client), and the command log says so...
        await wait_for(pilot, lambda: entry.status != "running", what="the create's end")
        shown_then = set(app.model.items["computers"]) | set(computers_view(app).table.rows)
        assert entry.status == "ok", entry.message
        local_server.set_faults(None)
        listed = sdk.computers.list()["computers"]
        created = next(c for c in listed if c["name"] == entry.subject)
        try:
            # ...but what it answered never shows among the second server's computers.
            assert created["id"] not in shown_then
            await next_poll(pilot)
            await next_poll(pilot)
            assert created["id"] not in app.model.items["computers"]
            assert created["id"] not in computers_view(app).table.rows
        finally:
            sdk.computers.delete(created["id"])


async def test_local_starts_on_demand_and_stops_at_quit(
    make_app: AppFactory, config: dict[str, Any], tmp_path: Path
) -> None:
    data_dir = tmp_path / "embedded"
    app = make_app(target=replace(profile_target("one", config), data_dir=data_dir))
    told: list[str] = []  # what the header was told while switching (it may be brief)

    def hook(message: Message) -> None:
        if isinstance(message, TargetSwitching):
            told.append(message.text)

    async with app.run_test(size=(140, 40), notifications=True, message_hook=hook) as pilot:
        await loaded(pilot)
        app.post_message(ContextSwitchRequested(LOCAL))
        await wait_for(pilot, lambda: app.target.local, timeout=60, what="the embedded backend")
        assert told == ["switching to local: embedded backend starting…", "switching to local…"]
        assert "local · embedded backend" in app.status_bar.plain
        assert "switching" not in app.status_bar.plain
        await next_poll(pilot)
        assert app.model.items["computers"] == {}  # a fresh data dir: none of one's computers
        assert app.controller.where.local
        started = list(app.controller.switcher.owned)
        assert len(started) == 1 and started[0].server is not None
        # Back to one: the embedded backend stays up (its computers may run).
        app.post_message(ContextSwitchRequested("one"))
        await wait_for(pilot, lambda: app.target.profile == "one", what="back to one")
        assert started[0].server.base_url == app.controller.switcher.local.base_url
        picker_note = next(c for c in app.controller.contexts() if c.name == LOCAL).note
        assert "stays up until you quit" in picker_note
    # Quitting stopped it: the data dir is free for another server.
    with LocalServer(data_dir=data_dir):
        pass


async def test_an_unreachable_server_toasts_and_keeps_the_old_target(
    make_app: AppFactory, config: dict[str, Any]
) -> None:
    app = _on_profile_one(make_app, config)
    async with app.run_test(size=(140, 40), notifications=True) as pilot:
        await loaded(pilot)
        app.post_message(ContextSwitchRequested("gone"))
        await wait_for(pilot, lambda: any("Could not switch to gone" in m for m in _messages(app)))
        assert any("Cannot reach" in m for m in _messages(app))
        assert app.target.profile == "one" and app.controller.generation == 0


async def test_terminal_tabs_are_detached_and_closed_and_their_ids_kept(
    make_app: AppFactory,
    config: dict[str, Any],
    running_computer: dict[str, Any],
    local_server: LocalServer,
) -> None:
    from celesto_tui.terminal.link import Phase
    from celesto_tui.terminal.terminals_screen import TerminalsScreen

    app = _on_profile_one(make_app, config)
    async with app.run_test(size=(140, 40), notifications=True) as pilot:
        await loaded(pilot)
        await select(pilot, running_computer["id"])
        await pilot.press("t")
        await wait_for(pilot, lambda: isinstance(app.screen, TerminalsScreen))
        terminals = app.screen
        assert isinstance(terminals, TerminalsScreen)
        await wait_for(pilot, lambda: running_computer["id"] in terminals.terminal_ids, timeout=20)
        pane = terminals.panes[0]
        await wait_for(pilot, lambda: pane.status.phase is Phase.CONNECTED, timeout=20)
        terminal_id = terminals.terminal_ids[running_computer["id"]]
        app.pop_screen()
        await pilot.pause()

        app.post_message(ContextSwitchRequested("two"))
        await wait_for(pilot, lambda: app.target.profile == "two", what="the switch")
        await wait_for(pilot, lambda: not terminals.is_attached, what="the old screen gone")
        assert pane.status.phase is Phase.DETACHED  # the shell keeps running on one
        assert "terminals" not in app._installed_screens
        kept = saved_state().get("terminals", {})
        await wait_for(
            pilot,
            lambda: saved_state().get("terminals", {}).get(local_server.base_url.rstrip("/")),
            what=f"the kept ids (saw {kept})",
        )
        saved = saved_state()["terminals"][local_server.base_url.rstrip("/")]
        assert saved == {running_computer["id"]: terminal_id}

        # Back on one, `t` reattaches the same shell.
        app.post_message(ContextSwitchRequested("one"))
        await wait_for(pilot, lambda: app.target.profile == "one", what="back to one")
        await select(pilot, running_computer["id"])
        await pilot.press("t")
        await wait_for(pilot, lambda: isinstance(app.screen, TerminalsScreen))
        again = app.screen
        assert isinstance(again, TerminalsScreen) and again is not terminals
        await wait_for(pilot, lambda: again.panes, what="the new tab")
        await wait_for(pilot, lambda: again.panes[0].status.phase is Phase.CONNECTED, timeout=20)
        assert again.terminal_ids[running_computer["id"]] == terminal_id


async def test_the_picker_fits_an_80x24_terminal_and_arrows_move(
    make_app: AppFactory, config: dict[str, Any]
) -> None:
    app = _on_profile_one(make_app, config)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await loaded(pilot)
        picker = await _pick(pilot, "")
        for selector in ("#context-filter", "#context-list", "#context-help"):
            region = picker.query_one(selector).region
            assert region.bottom <= 24 and region.right <= 80 and region.x >= 0, selector
        options = picker.query_one("#context-list", OptionList)
        assert options.highlighted == picker.shown.index("one")  # the current one
        await pilot.press("down")
        assert options.highlighted == picker.shown.index("two")
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.target.profile == "two", what="the switch")


async def test_a_running_exec_is_stopped_waiting_for_on_a_switch(
    make_app: AppFactory, config: dict[str, Any], running_computer: dict[str, Any]
) -> None:
    app = _on_profile_one(make_app, config)
    async with app.run_test(size=(160, 48), notifications=True) as pilot:
        await loaded(pilot)
        await select(pilot, running_computer["id"])
        await pilot.press("e")
        pane = computers_view(app).exec_pane
        pane.prompt.value = "echo begun; sleep 20"
        await pilot.press("enter")
        await wait_for(
            pilot,
            lambda: any(line.text == "begun" for line in pane.output.lines_kept),
            what="the command's output",
        )
        entry = app.command_log.entries[-1]
        assert pane.running and entry.status == "running"
        app.post_message(ContextSwitchRequested("two"))
        await wait_for(pilot, lambda: app.target.profile == "two", what="the switch")
        await wait_for(pilot, lambda: entry.status == "cancelled", what="the entry's end")
        assert not pane.running
        assert "stopped waiting" in pane.output.lines_kept[-1].text
