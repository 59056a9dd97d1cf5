"""The ``:`` command line: one field at the bottom taking the command log's own syntax.

Tab (or →) accepts the grey completion; Enter runs the command when it reads well, else
the problem is shown under the field and nothing runs; Escape closes it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.suggester import Suggester
from textual.widgets import Input, Static

from ...model.command_input import (
    PHRASES,
    READ_ONLY_PHRASES,
    Command,
    CommandInputError,
    complete,
    parse_command,
)
from ...model.command_log import Where


class CommandSuggester(Suggester):
    """Completes phrases, option names, the names of the computers/deployments shown and
    the contexts (``context NAME``)."""

    def __init__(
        self,
        computers: Callable[[], Iterable[str]],
        deployments: Callable[[], Iterable[str]],
        contexts: Callable[[], Iterable[str]] = tuple,
        phrases: tuple[str, ...] = PHRASES,
    ) -> None:
        super().__init__(use_cache=False, case_sensitive=True)
        self.computers = computers
        self.deployments = deployments
        self.contexts = contexts
        self.phrases = phrases

    async def get_suggestion(self, value: str) -> str | None:
        return complete(value, self.computers(), self.deployments(), self.contexts(), self.phrases)


class CommandLineScreen(ModalScreen[Command | None]):
    DEFAULT_CSS = """
    CommandLineScreen { align: left bottom; background: $background 40%; }
    CommandLineScreen > Vertical { height: auto; width: 100%; background: $surface; }
    CommandLineScreen #command-error { color: $error; height: auto; padding: 0 1; }
    CommandLineScreen #command-error.-empty { display: none; }
    """
    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="command-line-cancel"),
        Binding("tab", "accept", "Complete", id="command-line-complete", priority=True),
    ]

    def __init__(
        self,
        computers: Callable[[], Iterable[str]],
        deployments: Callable[[], Iterable[str]],
        where: Where,
        contexts: Callable[[], Iterable[str]] = tuple,
        *,
        read_only: bool = False,
    ) -> None:
        super().__init__()
        self.where = where
        self.read_only = read_only
        phrases = READ_ONLY_PHRASES if read_only else PHRASES
        self.suggester = CommandSuggester(computers, deployments, contexts, phrases)

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static("", id="command-error", classes="-empty", markup=False)
            yield Input(
                placeholder=(
                    "read-only: ctx NAME · deployments logs NAME · Tab completes"
                    if self.read_only
                    else "computer stop NAME · computer run NAME 'CMD' · deploy ./folder "
                    "--name NAME · Tab completes"
                ),
                id="command-input",
                suggester=self.suggester,
            )

    def on_mount(self) -> None:
        self.query_one("#command-input", Input).focus()

    def action_cancel(self) -> None:
        self.dismiss(None)

    def action_accept(self) -> None:
        field = self.query_one("#command-input", Input)
        field.action_end()
        field.action_cursor_right()  # at the end, Input's → takes the grey completion

    @on(Input.Submitted, "#command-input")
    def _run(self, event: Input.Submitted) -> None:
        error = self.query_one("#command-error", Static)
        try:
            command = parse_command(event.value, self.where, read_only=self.read_only)
        except CommandInputError as exc:
            error.update(f"✖ {exc}")
            error.remove_class("-empty")
            return
        self.dismiss(command)
