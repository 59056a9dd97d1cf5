"""Every key binding of the dashboard, in one registry.

Each entry has a stable id (the name used in the config file's ``[keymap]``), its default
keys, the scope it belongs to (the widget whose ``BINDINGS`` it becomes), and whether it
changes anything (hidden in ``--read-only``) or destroys anything (always confirmed, never on
a single ctrl-key). The help screen and the command palette are generated from here.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Literal

from textual.binding import Binding, BindingType
from textual.dom import DOMNode
from textual.keys import format_key

Scope = Literal[
    "app",
    "table",
    "filter",
    "computers",
    "overview",
    "exec",
    "prompt",
    "ports",
    "activity",
    "deployments",
    "commands",
    "errors",
    "terminals",
]

SCOPE_TITLES: dict[Scope, str] = {
    "app": "Everywhere",
    "table": "Every table",
    "filter": "Filter bar",
    "computers": "Computers",
    "overview": "Overview pane",
    "exec": "Exec pane",
    "prompt": "Exec prompt",
    "ports": "Ports pane",
    "activity": "Activity pane",
    "deployments": "Deployments",
    "commands": "Command log",
    "errors": "Errors",
    "terminals": "Terminal (t on a computer)",
}


@dataclass(frozen=True)
class ActionSpec:
    id: str
    keys: str
    action: str
    label: str  # short, for the footer
    help: str  # a sentence, for the help screen and the palette
    scope: Scope
    mutating: bool = False
    destructive: bool = False
    show: bool = True
    priority: bool = False

    def binding(self) -> Binding:
        return Binding(
            self.keys,
            self.action,
            self.label,
            show=self.show,
            priority=self.priority,
            id=self.id,
            tooltip=self.help,
        )


A = ActionSpec
# fmt: off
ACTIONS: tuple[ActionSpec, ...] = (
    # everywhere
    A("quit", "q", "quit", "Quit", "Quit celesto-tui", "app"),
    A("help", "question_mark,f1", "help", "Keys", "Show every key binding", "app"),
    A("command-line", "colon", "command_line", "Command",
      "Type a command in the command log's syntax (computer stop NAME, computer run NAME "
      "'CMD', computer port publish NAME --port N, deploy DIR --name N, ctx NAME; "
      "read-only: ctx and deployments logs)",
      "app", show=False),
    A("command-palette", "ctrl+p", "command_palette", "Palette", "Open the command palette",
      "app", show=False, priority=True),
    A("view-computers", "1", "show_view('computers')", "Computers", "Show the computers",
      "app", show=False),
    A("view-deployments", "2", "show_view('deployments')", "Deployments",
      "Show the deployments", "app", show=False),
    A("view-commands", "3", "show_view('commands')", "Command log",
      "Show the command log: every change made, as a celesto-tui command line", "app",
      show=False),
    A("view-errors", "4", "show_view('errors')", "Errors",
      "Show unexpected errors and configuration problems", "app", show=False),
    A("refresh", "r", "refresh", "Refresh", "Poll the API now", "app"),
    A("context", "ctrl+o", "pick_context", "Context",
      "Switch to another profile, server or the embedded backend (:ctx NAME)", "app",
      show=False),
    A("theme", "ctrl+t", "pick_theme", "Theme", "Choose a colour theme (remembered)", "app",
      show=False),
    # every table (the computers, deployments, ports, command log and errors tables)
    A("cursor-down", "j", "cursor_down", "Down", "Next row", "table", show=False),
    A("cursor-up", "k", "cursor_up", "Up", "Previous row", "table", show=False),
    A("first-row", "home,g", "scroll_top", "First", "First row", "table", show=False),
    A("last-row", "end,G", "scroll_bottom", "Last", "Last row", "table", show=False),
    # filter bar
    A("filter-clear", "escape", "clear_filter", "Clear", "Clear the filter and close the bar",
      "filter"),
    # computers view
    A("filter", "slash", "filter", "Filter",
      "Filter rows: words must all match; status:running, !word to exclude", "computers"),
    A("sort", "o", "sort", "Sort", "Sort by the next column (remembered)", "computers",
      show=False),
    A("sort-reverse", "O", "sort_reverse", "Reverse", "Reverse the sort order", "computers",
      show=False),
    A("sort-pick", "S", "pick_sort", "Sort by",
      "Sort by a column picked from a list (type to filter; the current one reverses)",
      "computers", show=False),
    A("create", "n", "create", "New", "Create a computer", "computers", mutating=True),
    A("start", "s", "start", "Start", "Start the selected (or marked) computers", "computers",
      mutating=True),
    A("stop", "x", "stop", "Stop", "Stop the selected (or marked) computers", "computers",
      mutating=True, destructive=True),
    A("delete", "D", "delete", "Delete",
      "Delete the selected (or marked) computers and their files", "computers",
      mutating=True, destructive=True),
    A("mark", "space", "mark", "Mark", "Mark or unmark the selected computer for bulk actions",
      "computers"),
    A("mark-all", "asterisk", "mark_all", "Mark all", "Mark every computer shown",
      "computers", show=False),
    A("clear-marks", "M", "clear_marks", "Unmark all", "Clear every mark", "computers",
      show=False),
    A("overview", "i", "pane('overview')", "Info", "Show every field of the computer",
      "computers", show=False),
    A("exec", "e", "exec", "Exec", "Run a command on the computer", "computers",
      mutating=True),
    A("ports", "p", "pane('ports')", "Ports", "Show the computer's published ports",
      "computers"),
    A("activity", "a", "pane('activity')", "Activity",
      "Show the computer's activity: status changes seen, actions taken, commands run",
      "computers", show=False),
    A("publish", "P", "publish", "Publish", "Publish a port of the computer as a URL",
      "computers", mutating=True, show=False),
    A("terminal", "t", "terminal", "Terminal", "Open a terminal on the computer", "computers",
      mutating=True),
    A("copy-id", "y", "copy_id", "Copy id", "Copy the computer's id", "computers", show=False),
    A("zoom", "z", "zoom", "Zoom",
      "Zoom: the table alone, then the detail pane alone, then both", "computers",
      show=False),
    A("prev-pane", "left_square_bracket", "cycle_pane(-1)", "Prev pane",
      "Previous detail pane", "computers", show=False),
    A("next-pane", "right_square_bracket", "cycle_pane(1)", "Next pane", "Next detail pane",
      "computers", show=False),
    # overview pane
    A("leave-pane", "escape", "leave", "Back", "Back to the table", "overview", show=False),
    A("raw-json", "j", "toggle_json", "JSON", "Toggle the raw JSON of the computer",
      "overview"),
    # exec pane
    A("exec-rerun", "f5", "rerun", "Re-run", "Run the last command again", "exec",
      mutating=True),
    A("exec-cancel", "ctrl+g", "cancel", "Cancel", "Stop waiting for the running command",
      "exec"),
    A("exec-search", "ctrl+f", "search", "Search", "Search the output", "exec"),
    A("exec-copy", "ctrl+y", "copy_output", "Copy", "Copy the output", "exec"),
    A("exec-clear", "ctrl+l", "clear_output", "Clear", "Clear the output", "exec", show=False),
    A("leave-pane", "escape", "leave", "Back", "Back to the table", "exec"),
    A("history-prev", "up", "history(-1)", "Older", "Previous command from the history",
      "prompt", show=False),
    A("history-next", "down", "history(1)", "Newer", "Next command from the history",
      "prompt", show=False),
    # ports pane
    A("leave-pane", "escape", "leave", "Back", "Back to the table", "ports", show=False),
    A("unpublish", "U", "unpublish", "Unpublish", "Unpublish the selected port", "ports",
      mutating=True, destructive=True),
    A("copy-url", "y", "copy_url", "Copy URL", "Copy the URL", "ports"),
    A("open-url", "b", "open_url", "Browser", "Open the URL in the browser", "ports"),
    A("probe", "h", "probe", "Probe", "Check the URL: HTTP status and latency", "ports"),
    # activity pane
    A("activity-search", "slash,ctrl+f", "search", "Search", "Search the activity",
      "activity"),
    A("leave-pane", "escape", "leave", "Back", "Clear the search, then back to the table",
      "activity"),
    # deployments view
    A("filter", "slash", "filter", "Filter", "Filter rows", "deployments"),
    A("sort", "o", "sort", "Sort", "Sort by the next column (remembered)", "deployments",
      show=False),
    A("sort-reverse", "O", "sort_reverse", "Reverse", "Reverse the sort order", "deployments",
      show=False),
    A("sort-pick", "S", "pick_sort", "Sort by",
      "Sort by a column picked from a list (type to filter; the current one reverses)",
      "deployments", show=False),
    A("deploy", "n", "deploy", "Deploy", "Deploy a folder as an agent", "deployments",
      mutating=True),
    A("zoom", "z", "zoom", "Zoom",
      "Zoom: the table alone, then the details alone, then both", "deployments",
      show=False),
    A("deployment-logs", "l", "logs", "Logs",
      "Follow the logs live (scroll up pauses, f or End resumes)", "deployments"),
    A("deployment-stop", "x", "stop", "Stop",
      "Stop the selected deployment's app (local backend; deploying again starts it)",
      "deployments", mutating=True, destructive=True),
    A("deployment-delete", "D", "delete", "Delete",
      "Delete the selected deployment with its files (local backend)", "deployments",
      mutating=True, destructive=True),
    A("copy-url", "y", "copy_url", "Copy URL", "Copy the deployment's URL", "deployments"),
    A("open-url", "b", "open_url", "Browser", "Open the deployment's URL", "deployments"),
    A("probe", "h", "probe", "Probe", "Check the URL: HTTP status and latency",
      "deployments"),
    # command log / errors
    A("copy-command", "y", "copy_command", "Copy line", "Copy the command line", "commands"),
    A("copy-error", "y", "copy_error", "Copy", "Copy the error with its details", "errors"),
    A("clear-errors", "c", "clear_errors", "Clear", "Forget every error shown", "errors"),
)

# The terminals screen (`terminal/terminals_screen.py`). Not in ACTIONS: they act on the terminal
# tabs, so the dashboard's palette has nothing to run them on. The leave key is not a
# binding either (the terminal itself handles it, so that it works while the shell has
# every other key); only the first of its keys is used.
LEAVE_KEY_ID = "terminals.leave"
DEFAULT_LEAVE_KEY = "ctrl+]"  # the Celesto detach key
TERMINAL_LEAVE = A(LEAVE_KEY_ID, DEFAULT_LEAVE_KEY, "leave", "Dashboard",
                   "Leave the terminal for the dashboard (the shell keeps running)",
                   "terminals")
TERMINAL_ACTIONS: tuple[ActionSpec, ...] = (
    A("terminals.next-tab", "ctrl+pagedown", "next_tab", "Next", "Next terminal tab",
      "terminals", priority=True),
    A("terminals.previous-tab", "ctrl+pageup", "previous_tab", "Prev",
      "Previous terminal tab", "terminals", priority=True),
    A("terminals.close-tab", "ctrl+f4", "close_tab", "Detach",
      "Detach the terminal and close its tab (the shell keeps running; t reattaches)",
      "terminals", priority=True),
    A("terminals.pop-out", "ctrl+f11", "pop_out", "Pop out",
      "Pop out: the shell gets the whole real terminal; its leave key comes back", "terminals",
      priority=True),
    A("terminals.back", "escape", "back", "Dashboard",
      "Back to the dashboard when no terminal has the focus", "terminals"),
)
# Keys of the terminal itself: fixed (the program gets every other key), so no binding id.
TERMINAL_FIXED_KEYS: tuple[tuple[str, str], ...] = (
    ("shift+pageup", "Scroll up through the terminal's own scrollback"),
    ("shift+pagedown", "Scroll down again, back to the live screen"),
    ("enter", "When detached or ended: reattach, or open a new shell"),
)
# fmt: on
del A

# Bindings of the dialogs (escape / close keys), remappable like the rest.
DIALOG_IDS = frozenset(
    {
        "command-line-cancel",
        "command-line-complete",
        "confirm-cancel",
        "context-cancel",
        "context-next",
        "context-previous",
        "create-cancel",
        "deploy-cancel",
        "prompt-cancel",
        "start-cancel",
        "dialog-next-field",
        "dialog-previous-field",
        "help-close",
        "text-close",
        "text-copy",
        "logs-close",
        "logs-copy",
        "logs-follow",
        "output-follow",
        "sort-picker-cancel",
        "sort-picker-down",
        "sort-picker-up",
        "quit-confirm",
    }
)
IDS = frozenset(spec.id for spec in (*ACTIONS, TERMINAL_LEAVE, *TERMINAL_ACTIONS)) | DIALOG_IDS
DESTRUCTIVE_IDS = frozenset(spec.id for spec in ACTIONS if spec.destructive)


def specs(scope: Scope) -> tuple[ActionSpec, ...]:
    return tuple(spec for spec in (*ACTIONS, *TERMINAL_ACTIONS) if spec.scope == scope)


def bindings(scope: Scope) -> list[BindingType]:
    return [spec.binding() for spec in specs(scope)]


def mutating_actions(scope: Scope) -> frozenset[str]:
    """Action names (without arguments) that read-only mode hides in ``scope``."""
    return frozenset(spec.action.split("(")[0] for spec in specs(scope) if spec.mutating)


def effective_keys(spec: ActionSpec, keymap: Mapping[str, str]) -> str:
    return keymap.get(spec.id, spec.keys)


def unsafe_key(keys: str) -> str | None:
    """The first key of ``keys`` that is a single ctrl-key (too easy to hit by accident)."""
    for key in keys.split(","):
        parts = key.strip().split("+")
        if parts[0] == "ctrl" and len(parts) == 2:
            return key.strip()
    return None


def leave_key(keymap: Mapping[str, str]) -> str:
    """The terminal's leave key: the first key the keymap gives ``terminals.leave``."""
    return effective_keys(TERMINAL_LEAVE, keymap).split(",")[0].strip() or DEFAULT_LEAVE_KEY


def by_id(spec_id: str) -> Iterable[ActionSpec]:
    return (spec for spec in ACTIONS if spec.id == spec_id)


def allowed(node: DOMNode, scope: Scope, action: str) -> bool:
    """False for a mutating action in read-only mode: Textual then hides it everywhere."""
    read_only = getattr(node.app, "read_only", False) is True
    return not (read_only and action in mutating_actions(scope))


def format_one_key(key: str) -> str:
    """``ctrl+right_square_bracket`` -> ``ctrl+]``, ``escape`` -> ``esc``."""
    *modifiers, base = key.strip().split("+")
    return "+".join([*modifiers, format_key(base)]) if base else key.strip()


def key_display(keys: str) -> str:
    return " / ".join(format_one_key(key) for key in keys.split(","))
