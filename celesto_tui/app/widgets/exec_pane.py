"""Run commands on the selected computer and watch their output arrive.

The prompt keeps a per-computer history (↑/↓, remembered between runs); output streams in
as the API sends it, stdout and stderr told apart; each run ends with its exit code and
duration. F5 re-runs, ctrl+f searches, ctrl+y copies.
"""

from __future__ import annotations

from collections.abc import Mapping

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Input, Label, Static

from celesto_api import CelestoConflictError, CelestoError, Computer, limits
from celesto_api import validation as check

from ...model.errors import explain
from ...model.format import duration_ms
from ..bindings import allowed, bindings
from ..intents import ExecCancelRequested, FocusTableRequested, RunRequested
from ..messages import ExecBusy, ExecChunk, ExecEnded, ExecStarted
from .output_log import OutputLog


class PromptInput(Input):
    """The command prompt, with ↑/↓ through the history of the selected computer."""

    BINDINGS = bindings("prompt")

    def __init__(self) -> None:
        super().__init__(
            placeholder="command to run, Enter runs it", id="exec-command", compact=True
        )
        self.history: list[str] = []
        self._position = 0

    def set_history(self, history: list[str]) -> None:
        self.history = history
        self._position = len(history)

    def action_history(self, step: int) -> None:
        if not self.history:
            return
        self._position = max(0, min(len(self.history), self._position + step))
        self.value = self.history[self._position] if self._position < len(self.history) else ""
        self.cursor_position = len(self.value)


class ExecPane(Vertical):
    DEFAULT_CSS = """
    ExecPane { height: 1fr; }
    ExecPane #exec-bar { height: 1; }
    ExecPane #exec-command { width: 1fr; }
    ExecPane #exec-timeout { width: 14; margin-left: 1; }
    ExecPane #exec-search { display: none; }
    ExecPane #exec-search.shown { display: block; }
    ExecPane #exec-status { height: 1; padding: 0 1; color: $text-muted; }
    ExecPane #exec-error { height: auto; padding: 0 1; color: $error; display: none; }
    ExecPane #exec-error.shown { display: block; }
    """
    BINDINGS = bindings("exec")

    def __init__(self, history: Mapping[str, list[str]] | None = None) -> None:
        super().__init__(id="exec-pane")
        self.history: Mapping[str, list[str]] = history if history is not None else {}
        self.computer: Computer | None = None
        self.last: tuple[Computer, str, int] | None = None
        self.running = False
        self.last_exit: int | None = None

    def compose(self) -> ComposeResult:
        with Horizontal(id="exec-bar"):
            yield PromptInput()
            yield Input(
                placeholder=f"timeout {limits.EXEC_TIMEOUT_DEFAULT}s",
                id="exec-timeout",
                restrict=r"[0-9]*",
                compact=True,
            )
        yield Label("", id="exec-error", markup=False)
        yield Static(
            "Select a computer, type a command and press Enter.", id="exec-status", markup=False
        )
        yield Input(
            placeholder="search the output (Enter: next match)", id="exec-search", compact=True
        )
        yield OutputLog(id="exec-output")

    def on_mount(self) -> None:
        if not allowed(self, "exec", "rerun"):
            self.prompt.placeholder = "read-only: commands do not run"

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return allowed(self, "exec", action)

    @property
    def output(self) -> OutputLog:
        return self.query_one(OutputLog)

    @property
    def prompt(self) -> PromptInput:
        return self.query_one(PromptInput)

    def show_computer(self, computer: Computer | None) -> None:
        previous = self.computer.get("id") if self.computer else None
        self.computer = computer
        if computer is None or computer.get("id") == previous:
            return
        history = self.history.get(computer["id"], [])
        self.prompt.set_history(list(history))
        if not self.running:
            self._status(f"Run a command on {computer['name']} ({computer.get('status')}).")

    def focus_prompt(self) -> None:
        self.prompt.focus()

    def _status(self, text: str) -> None:
        self.query_one("#exec-status", Static).update(text)

    def _error(self, text: str) -> None:
        label = self.query_one("#exec-error", Label)
        label.update(text)
        label.set_class(bool(text), "shown")

    # --- running ---------------------------------------------------------------------------

    @on(Input.Submitted, "#exec-command, #exec-timeout")
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if not allowed(self, "exec", "rerun"):
            self._error(
                "Read-only: commands do not run (--read-only, or read_only in the profile)."
            )
            return
        command = self.prompt.value
        raw_timeout = self.query_one("#exec-timeout", Input).value.strip()
        try:
            check.command(command)
            timeout = check.exec_timeout(
                int(raw_timeout) if raw_timeout else limits.EXEC_TIMEOUT_DEFAULT
            )
        except CelestoError as exc:
            self._error(exc.message)
            return
        self._error("")
        if self.computer is None:
            self._error("Select a computer first.")
            return
        self.start(self.computer, command, timeout)

    def start(
        self,
        computer: Computer,
        command: str,
        timeout: int,
        latest: bool = False,
        purpose: str = "run a command",
    ) -> None:
        """Run ``command`` once the computer is running (offering to start it)."""
        self.post_message(RunRequested(self, computer, command, timeout, latest, purpose))

    def on_exec_busy(self, message: ExecBusy) -> None:
        message.stop()
        self.app.notify("A command is still running (ctrl+g stops waiting for it).")

    def on_exec_started(self, message: ExecStarted) -> None:
        message.stop()
        computer, command, timeout = message.computer, message.command, message.timeout
        self.prompt.set_history(message.history)
        self.prompt.value = ""
        self.last = (computer, command, timeout)
        self.running = True
        self.output.add("info", f"── {computer['name']} $ {command}   (timeout {timeout}s)")
        self._status(f"running on {computer['name']}…")

    def on_exec_chunk(self, message: ExecChunk) -> None:
        message.stop()
        self.output.add_lines(message.stream, message.lines)

    def on_exec_ended(self, message: ExecEnded) -> None:
        message.stop()
        self.running = False
        took = duration_ms(message.duration_ms)
        if message.error is not None:
            self.output.add("bad", f"✖ {explain(message.error)}")
            self._status(f"failed after {took}")
            # A refusal before the command started (a stopped computer) offers to start it; a
            # computer that failed under the command is not run again behind the user's back.
            if isinstance(message.error, CelestoConflictError) and not message.started:
                timeout = self.last[2] if self.last else 30
                self.start(message.computer, message.command, timeout, purpose="run the command")
            return
        self.last_exit = message.exit_code
        verdict = "timed out" if message.timed_out else f"exit {message.exit_code}"
        glyph = "✔" if message.exit_code == 0 and not message.timed_out else "✖"
        self.output.add("ok" if glyph == "✔" else "bad", f"{glyph} {verdict} · {took}")
        self._status(f"{verdict} · {took} · F5 runs it again")

    # --- actions -------------------------------------------------------------------------------

    def action_rerun(self) -> None:
        if self.last is None:
            self.app.notify("Nothing to run again yet.", severity="warning")
            return
        computer, command, timeout = self.last
        self.start(computer, command, timeout, latest=True)

    def action_cancel(self) -> None:
        if not self.running:
            return
        self.post_message(ExecCancelRequested())
        self.running = False
        self.output.add("bad", "✖ stopped waiting (the command may run on until its timeout)")
        self._status("cancelled")

    def action_search(self) -> None:
        search = self.query_one("#exec-search", Input)
        search.add_class("shown")
        search.focus()

    @on(Input.Changed, "#exec-search")
    def _search_changed(self, event: Input.Changed) -> None:
        event.stop()
        count = self.output.search(event.value)
        if event.value.strip():
            self._status(f"{count} matching line{'s' if count != 1 else ''}")

    @on(Input.Submitted, "#exec-search")
    def _search_next(self, event: Input.Submitted) -> None:
        event.stop()
        self.output.next_match()

    def action_copy_output(self) -> None:
        text = self.output.plain()
        self.app.copy_to_clipboard(text)
        self.app.notify(f"Copied {len(self.output.lines_kept)} lines of output.")

    def action_clear_output(self) -> None:
        self.output.reset()

    def action_leave(self) -> None:
        search = self.query_one("#exec-search", Input)
        if search.has_focus:
            search.value = ""
            search.remove_class("shown")
            self.output.search("")
            self.prompt.focus()
            return
        self.post_message(FocusTableRequested())
