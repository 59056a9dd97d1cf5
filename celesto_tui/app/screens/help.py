"""The `?` screen, generated from the binding registry and the user's keymap."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Label, Static

from ...model.computers_table import SHELL_MARK
from ..bindings import (
    ACTIONS,
    SCOPE_TITLES,
    TERMINAL_ACTIONS,
    TERMINAL_FIXED_KEYS,
    TERMINAL_LEAVE,
    ActionSpec,
    effective_keys,
    key_display,
    leave_key,
)

FIXED = "(fixed)"  # the binding id column of keys that cannot be remapped


HelpRow = tuple[str, str, str]  # keys, what it does, binding id (all but "does" empty: heading)


def _spec_row(spec: ActionSpec, keymap: dict[str, str], read_only: bool) -> HelpRow:
    does = spec.help
    if spec.destructive:
        does += "  (asks first)"
    if read_only and spec.mutating:
        does += "  (off: read-only)"
    keys = leave_key(keymap) if spec is TERMINAL_LEAVE else effective_keys(spec, keymap)
    shown, default = key_display(keys), key_display(spec.keys)
    return shown + ("*" if shown != default else ""), does, spec.id


def help_rows(keymap: dict[str, str], read_only: bool) -> list[HelpRow]:
    """One row per binding, grouped by where it works, with the user's keys."""
    scopes: dict[str, list[ActionSpec]] = {}
    for spec in (*ACTIONS, TERMINAL_LEAVE, *TERMINAL_ACTIONS):
        scopes.setdefault(spec.scope, []).append(spec)
    rows: list[HelpRow] = []
    for scope, specs in scopes.items():
        rows.append(("", SCOPE_TITLES[scope], ""))  # type: ignore[index]
        rows.extend(_spec_row(spec, keymap, read_only) for spec in specs)
        if scope == "terminals":
            rows.extend((key_display(keys), does, FIXED) for keys, does in TERMINAL_FIXED_KEYS)
    return rows


def help_table(rows: list[HelpRow]) -> Table:
    table = Table(box=None, expand=True, padding=(0, 1), show_header=True)
    table.add_column("Key", style="bold", no_wrap=True, min_width=10)
    table.add_column("Does")
    table.add_column(Text("Binding id (for [keymap])"), style="dim", no_wrap=True)
    for keys, does, binding_id in rows:
        if not binding_id:
            table.add_row("", Text(does, style="bold underline"), "")
        else:
            table.add_row(Text(keys), Text(does), Text(binding_id))
    return table


class HelpScreen(ModalScreen[None]):
    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > Vertical {
        width: 96; max-width: 100%; height: 90%;
        border: thick $primary; background: $surface; padding: 0 1;
    }
    HelpScreen VerticalScroll { height: 1fr; }
    HelpScreen .help-hint { color: $text-muted; width: 1fr; height: auto; }
    """
    BINDINGS = [Binding("escape,q,question_mark", "close", "Close", id="help-close")]

    def __init__(self, keymap: dict[str, str], read_only: bool, config_path: str | None) -> None:
        super().__init__()
        self.rows = help_rows(keymap, read_only)
        self.config_path = config_path

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(Content.assemble(("Keys", "bold"), "  (* = remapped in your config)"))
            with VerticalScroll():
                yield Static(help_table(self.rows), id="help-table")
            yield Label(
                Content(
                    f"Remap any binding in {self.config_path or 'the config file'}: [keymap], then "
                    'id = "keys", e.g. create = "ctrl+n". Tables also take the arrows and '
                    "PgUp/PgDn; Enter opens the detail; a click on a header sorts by it "
                    f"(▲/▼). ctrl+p: every action by name. {SHELL_MARK} before a computer's "
                    "name: a shell opened here still runs on it (t goes back to it)."
                ),
                classes="help-hint",
            )

    def action_close(self) -> None:
        self.dismiss(None)
