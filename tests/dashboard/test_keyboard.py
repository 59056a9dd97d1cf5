"""Keyboard first: ids on every binding, remapping from the config file, the help screen,
the command palette, read-only mode, and the safety rules for destructive keys."""

from __future__ import annotations

import importlib
import inspect
from pathlib import Path
from typing import Any

import pytest
from textual.command import CommandPalette
from textual.pilot import Pilot
from textual.widgets import Input, Label, OptionList

import celesto_tui
from celesto_tui.app.bindings import ACTIONS, IDS, TERMINAL_ACTIONS, unsafe_key
from celesto_tui.app.celesto_app import CelestoApp
from celesto_tui.app.screens.create_computer import CreateComputerScreen
from celesto_tui.app.screens.deploy import DeployScreen
from celesto_tui.app.screens.help import FIXED, HelpScreen
from celesto_tui.app.settings import load_settings
from celesto_tui.app.widgets.computers_view import ComputersView
from celesto_tui.app.widgets.exec_pane import PromptInput
from celesto_tui.terminal.terminals_screen import TerminalsScreen

from .conftest import AppFactory, computers_view, loaded, next_poll, select, wait_for


def _classes_with_bindings() -> list[type]:
    """Every class of the package that declares BINDINGS (found, not listed by hand)."""
    found = []
    root = Path(celesto_tui.__file__).parent
    for path in sorted(root.rglob("*.py")):
        if path.name == "__main__.py":
            continue  # importing it runs the command
        parts = path.relative_to(root.parent).with_suffix("").parts
        module = importlib.import_module(".".join(p for p in parts if p != "__init__"))
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if cls.__module__ == module.__name__ and "BINDINGS" in vars(cls):
                found.append(cls)
    return found


def test_every_binding_has_a_known_id_and_destructive_keys_are_safe() -> None:
    classes = _classes_with_bindings()
    assert {CelestoApp, ComputersView, TerminalsScreen} <= set(classes)
    for cls in classes:
        for binding in cls.BINDINGS:
            binding_id = getattr(binding, "id", None)
            assert binding_id, f"{cls.__name__}: {binding}"
            # known, so that the config file's [keymap] can remap it and typos are reported
            assert binding_id in IDS, f"{cls.__name__}: {binding_id}"
    for spec in (*ACTIONS, *TERMINAL_ACTIONS):
        if spec.destructive:
            assert unsafe_key(spec.keys) is None, spec
            assert spec.mutating, spec


async def search_palette(pilot: Pilot[Any], query: str) -> list[str]:
    """Type ``query`` into the open palette; return the prompts of its hits."""
    palette = pilot.app.screen
    assert isinstance(palette, CommandPalette)
    palette.query_one(Input).value = query
    await pilot.pause()  # the palette has seen the new value: its search has started
    await wait_for(
        pilot,
        lambda: (
            not any(
                worker.group == CommandPalette._GATHER_COMMANDS_GROUP and not worker.is_finished
                for worker in pilot.app.workers
            )
        ),
        what=f"the palette's search for {query!r}",
    )
    await wait_for(pilot, lambda: not palette._list_visible or palette.query(OptionList))
    options = palette.query_one(OptionList)
    return [str(options.get_option_at_index(i).prompt) for i in range(options.option_count)]


def write_config(directory: Path, text: str) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "config.toml").write_text(text)


async def test_keymap_from_the_config_file_remaps_a_binding(
    make_app: AppFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config_dir = tmp_path / "config"
    write_config(
        config_dir,
        '[keymap]\ncreate = "ctrl+n"\ndelete = "ctrl+d"\nnot-a-binding = "z"\n'
        '"terminals.leav" = "ctrl+b"\n',
    )
    monkeypatch.setenv("CELESTO_CONFIG_DIR", str(config_dir))
    settings = load_settings()
    assert settings.keymap == {"create": "ctrl+n"}  # the unsafe and unknown ones are refused
    assert any("terminals.leav" in problem for problem in settings.problems)
    assert len(settings.problems) == 3
    app = make_app(settings=settings)
    async with app.run_test(size=(160, 40)) as pilot:
        await loaded(pilot)
        await pilot.press("n")
        await next_poll(pilot)  # the app is past the key by then
        assert not isinstance(app.screen, CreateComputerScreen)
        await pilot.press("ctrl+n")
        await wait_for(pilot, lambda: isinstance(app.screen, CreateComputerScreen))
        await pilot.press("escape")
        # The problems are in the errors view, and the help screen shows the new key.
        assert any("ctrl+d" in e.summary for e in app.error_log.entries)
        assert any("not-a-binding" in e.summary for e in app.error_log.entries)
        await pilot.press("question_mark")
        await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen))
        screen = app.screen
        assert isinstance(screen, HelpScreen)
        keys = {binding_id: key for key, _, binding_id in screen.rows}
        assert keys["create"] in ("^n*", "ctrl+n*")
        assert keys["delete"] == "D"
        await pilot.press("escape")


async def test_help_screen_lists_every_binding(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=(160, 60)) as pilot:
        await loaded(pilot)
        await pilot.press("question_mark")
        await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen))
        screen = app.screen
        assert isinstance(screen, HelpScreen)
        listed = {binding_id for _, _, binding_id in screen.rows} - {"", FIXED}
        terminal = {spec.id for spec in TERMINAL_ACTIONS} | {"terminals.leave"}
        assert listed == {spec.id for spec in ACTIONS} | terminal
        # Every binding of the terminals screen is on the help screen.
        assert {binding.id for binding in TerminalsScreen.BINDINGS} <= listed  # type: ignore[union-attr]
        keys = {binding_id: key for key, _, binding_id in screen.rows}
        assert keys["terminals.leave"] == "ctrl+]"
        assert keys["terminals.next-tab"] == "ctrl+pgdn"
        assert keys["deployment-stop"] == "x" and keys["deployment-delete"] == "D"
        await pilot.press("escape")
        assert not isinstance(app.screen, HelpScreen)


async def test_help_shows_the_terminal_keys_the_user_configured(
    make_app: AppFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config_dir = tmp_path / "config"
    write_config(
        config_dir,
        '[keymap]\n"terminals.leave" = "ctrl+b"\n"terminals.close-tab" = "ctrl+w"\n',
    )
    monkeypatch.setenv("CELESTO_CONFIG_DIR", str(config_dir))
    settings = load_settings()
    assert not settings.problems
    app = make_app(settings=settings)
    async with app.run_test(size=(160, 60)) as pilot:
        await loaded(pilot)
        await pilot.press("question_mark")
        await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen))
        screen = app.screen
        assert isinstance(screen, HelpScreen)
        keys = {binding_id: key for key, _, binding_id in screen.rows}
        assert keys["terminals.leave"] == "ctrl+b*"
        assert keys["terminals.close-tab"] == "ctrl+w*"
        assert keys["terminals.pop-out"] == "ctrl+f11"
        fixed = [does for key, does, binding_id in screen.rows if binding_id == FIXED]
        assert any("scrollback" in does for does in fixed)
        headings = [does for key, does, binding_id in screen.rows if not binding_id]
        assert headings[-1].startswith("Terminal")


async def test_palette_runs_actions_and_goes_to_a_computer(
    make_app: AppFactory, running_computer: dict[str, Any]
) -> None:
    app = make_app()
    async with app.run_test(size=(160, 40)) as pilot:
        await loaded(pilot)
        await pilot.press("2")  # start from another view
        assert app.current_view == "deployments"
        await pilot.press("ctrl+p")
        await wait_for(pilot, lambda: isinstance(app.screen, CommandPalette))
        await search_palette(pilot, f"go to computer {running_computer['name']}")
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.current_view == "computers")
        await wait_for(
            pilot, lambda: computers_view(app).table.selected_key() == running_computer["id"]
        )

        await pilot.press("ctrl+p")
        await wait_for(pilot, lambda: isinstance(app.screen, CommandPalette))
        await search_palette(pilot, "Create a computer")
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, CreateComputerScreen))


async def test_read_only_hides_every_mutating_action(
    make_app: AppFactory, running_computer: dict[str, Any]
) -> None:
    app = make_app(read_only=True)
    async with app.run_test(size=(160, 40)) as pilot:
        await loaded(pilot)
        await select(pilot, running_computer["id"])
        assert "READ-ONLY" in app.status_bar.plain
        footer_actions = {
            b.action for _, b, enabled, *_ in app.screen.active_bindings.values() if enabled
        }
        assert "create" not in footer_actions and "delete" not in footer_actions
        await pilot.press("n", "D", "x", "e", "P")
        await next_poll(pilot)
        assert app.screen is app.screen_stack[0]  # no dialog opened
        assert not app.command_log.entries
        # The palette does not offer them either.
        await pilot.press("ctrl+p")
        await wait_for(pilot, lambda: isinstance(app.screen, CommandPalette))
        hits = await search_palette(pilot, "Delete")
        assert not any("Delete the selected" in hit for hit in hits)
        assert not any("Create a computer" in hit for hit in await search_palette(pilot, "Create"))
        assert any("Filter rows" in hit for hit in await search_palette(pilot, "Filter rows"))
        await pilot.press("escape")
        # Reading still works: filter, sort, ports, overview.
        await pilot.press("slash")
        computers_view(app).filter_bar.value = running_computer["name"]
        await pilot.press("enter")
        assert computers_view(app).params.filter.text == running_computer["name"]
        # The prompt refuses to run commands, and says so.
        pane = computers_view(app).exec_pane
        assert "read-only" in pane.prompt.placeholder
        pane.prompt.value = "true"
        pane.query_one(PromptInput).focus()
        await pilot.press("enter")
        await next_poll(pilot)
        assert not app.command_log.entries
        assert "Read-only" in str(pane.query_one("#exec-error", Label).render())


async def test_views_switch_with_number_keys(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=(160, 40)) as pilot:
        await loaded(pilot)
        for key, view in (
            ("2", "deployments"),
            ("3", "commands"),
            ("4", "errors"),
            ("1", "computers"),
        ):
            await pilot.press(key)
            assert app.current_view == view
        assert isinstance(app.focused, Input) is False


async def test_zoom_cycles_table_detail_and_both(
    make_app: AppFactory, running_computer: dict[str, Any]
) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(pilot)
        await select(pilot, running_computer["id"])
        view = computers_view(app)
        detail = view.query_one("#detail")
        assert detail.display and view.table.display
        await pilot.press("z")  # the table alone
        assert not detail.display and view.table.has_focus
        assert view.table.region.height > 18
        await pilot.press("z")  # the detail alone, focused
        assert not view.table.display and detail.display
        assert app.focused is not None and detail in app.focused.ancestors_with_self
        await pilot.press("escape")  # back to the table: both show again
        assert view.zoom == "" and view.table.has_focus and detail.display
        await pilot.press("z", "e")  # a pane key brings the detail back
        assert detail.display and view.exec_pane.prompt.has_focus


async def test_tables_take_vim_and_home_end_keys(
    make_app: AppFactory, running_computer: dict[str, Any], async_sdk: Any
) -> None:
    other = await async_sdk.computers.create()
    app = make_app()
    async with app.run_test(size=(160, 40)) as pilot:
        await loaded(pilot)
        view = computers_view(app)
        await wait_for(pilot, lambda: other["id"] in view.table.rows)
        await select(pilot, running_computer["id"])
        last = view.table.row_count - 1
        await pilot.press("G")
        assert view.table.cursor_row == last
        await pilot.press("k")
        assert view.table.cursor_row == last - 1
        await pilot.press("g")
        assert view.table.cursor_row == 0
        await pilot.press("j")
        assert view.table.cursor_row == 1
        await pilot.press("end")
        assert view.table.cursor_row == last
        await pilot.press("home")
        assert view.table.cursor_row == 0
    await async_sdk.computers.delete(other["id"])


async def test_dialogs_fit_an_80x24_terminal(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(pilot)
        await pilot.press("n")
        await wait_for(pilot, lambda: isinstance(app.screen, CreateComputerScreen))
        await pilot.press(*"99")  # an error line makes the dialog taller
        await pilot.pause()
        for button in ("#cancel", "#create"):
            region = app.screen.query_one(button).region
            assert region.bottom <= 24 and region.right <= 80, (button, region)
        await pilot.press("escape")
        await pilot.press("question_mark")
        await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen))
        frame = app.screen.query_one("HelpScreen > Vertical")
        assert frame.region.right <= 80 and frame.region.x >= 0
        await pilot.press("escape")
        await pilot.press("2", "n")
        await wait_for(pilot, lambda: isinstance(app.screen, DeployScreen))
        region = app.screen.query_one("#deploy").region
        assert region.bottom <= 24 and region.right <= 80, region
