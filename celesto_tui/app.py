"""The dashboard: a live computers table with lifecycle actions and a command runner."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from textual import work
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import Footer, Header, Input, RichLog, Static

from celesto_api import AsyncCelesto, CelestoAuthenticationError, CelestoError

from .screens.confirm import ConfirmDelete
from .target import Target
from .widgets.computers_table import ComputersTable

MAX_BACKOFF_S = 30.0
MUTATING_ACTIONS = ("create", "start", "stop", "delete", "exec")


@dataclass
class Polled(Message):
    computers: list[dict[str, Any]] | None
    error: CelestoError | None


class CelestoApp(App[None]):
    TITLE = "celesto-tui"
    CSS = """
    #freshness { height: 1; padding: 0 1; background: $panel; }
    #freshness.stale { color: $warning; }
    #freshness.offline { color: $error; }
    ComputersTable { height: 1fr; }
    ComputersTable.stale { opacity: 60%; }
    #exec-output { height: 12; border: round $primary; display: none; }
    #exec-output.shown { display: block; }
    #exec-input { display: none; }
    #exec-input.shown { display: block; }
    """
    BINDINGS = [
        Binding("r", "refresh", "Refresh", id="refresh"),
        Binding("n", "create", "New", id="create"),
        Binding("s", "start", "Start", id="start"),
        Binding("x", "stop", "Stop", id="stop"),
        Binding("D", "delete", "Delete", id="delete"),
        Binding("e", "exec", "Run", id="exec"),
        Binding("escape", "close_exec", "Close", show=False, id="close-exec"),
        Binding("q", "quit", "Quit", id="quit"),
    ]

    def __init__(self, target: Target, refresh_seconds: float = 2.0, read_only: bool = False):
        super().__init__()
        self.target = target
        self.refresh_seconds = refresh_seconds
        self.read_only = read_only
        self.api: AsyncCelesto | None = None
        self._last_ok: float | None = None
        self._failures = 0
        self._next_poll: Any = None

    def compose(self) -> ComposeResult:
        yield Header()
        with Vertical():
            yield Static("connecting…", id="freshness")
            yield ComputersTable(id="computers")
            yield RichLog(id="exec-output", markup=False, wrap=True)
            yield Input(placeholder="command to run (Enter runs, Esc closes)", id="exec-input")
        yield Footer()

    def on_mount(self) -> None:
        self.api = self.target.client()
        where = "embedded local backend" if self.target.local else self.target.label
        isolation = f", isolation: {self.target.isolation}" if self.target.isolation else ""
        self.sub_title = f"{where}{isolation}"
        if self.target.hint:
            self.notify(self.target.hint, timeout=10)
        self.poll()

    async def on_unmount(self) -> None:
        if self.api is not None:
            await self.api.aclose()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return not (self.read_only and action in MUTATING_ACTIONS)

    # polling -----------------------------------------------------------------------------

    @work(exclusive=True, group="poll", exit_on_error=False)
    async def poll(self) -> None:
        assert self.api is not None
        try:
            listing = await self.api.computers.list(limit=200)
        except CelestoError as exc:
            self.post_message(Polled(None, exc))
        else:
            self.post_message(Polled(list(listing["computers"]), None))

    def on_polled(self, message: Polled) -> None:
        table = self.query_one(ComputersTable)
        freshness = self.query_one("#freshness", Static)
        delay = self.refresh_seconds
        if message.computers is not None:
            self._last_ok, self._failures = time.monotonic(), 0
            table.apply(message.computers)
            table.remove_class("stale")
            freshness.set_classes("")
            count = len(message.computers)
            running = sum(1 for c in message.computers if c.get("status") == "running")
            freshness.update(f"live · {count} computers, {running} running")
        else:
            self._failures += 1
            error = message.error
            retry_after = getattr(error, "retry_after", None)
            delay = min(MAX_BACKOFF_S, max(self.refresh_seconds, 2.0) * 2 ** min(self._failures, 4))
            if isinstance(retry_after, int | float) and retry_after > 0:
                delay = min(MAX_BACKOFF_S, float(retry_after))
            table.add_class("stale")
            age = (
                "never loaded"
                if self._last_ok is None
                else (f"data {time.monotonic() - self._last_ok:.0f}s old")
            )
            state = "offline" if self._last_ok is None else "stale"
            freshness.set_classes(state)
            hint = ""
            if isinstance(error, CelestoAuthenticationError):
                hint = " · check the API key (celesto-tui auth login)"
            freshness.update(f"{state} · {age} · {error} · retry in {delay:.0f}s{hint}")
        if self.refresh_seconds > 0 or message.computers is None:
            self._schedule(delay)

    def _schedule(self, delay: float) -> None:
        if self._next_poll is not None:
            self._next_poll.stop()
        self._next_poll = self.set_timer(delay, self.poll)

    def action_refresh(self) -> None:
        self.poll()

    # actions -----------------------------------------------------------------------------

    def _selected(self) -> dict[str, Any] | None:
        computer = self.query_one(ComputersTable).selected()
        if computer is None:
            self.notify("No computer selected.", severity="warning")
        return computer

    @work(group="actions", exit_on_error=False)
    async def _lifecycle(self, verb: str, computer_id: str, name: str) -> None:
        assert self.api is not None
        try:
            await getattr(self.api.computers, verb)(computer_id)
        except CelestoError as exc:
            self.notify(f"{verb} {name} failed: {exc}", severity="error")
        else:
            self.notify(f"{verb} {name}: requested")
        self.poll()

    def action_start(self) -> None:
        if computer := self._selected():
            self._lifecycle("start", computer["id"], computer["name"])

    def action_stop(self) -> None:
        if computer := self._selected():
            self._lifecycle("stop", computer["id"], computer["name"])

    @work(group="actions", exit_on_error=False)
    async def action_create(self) -> None:
        assert self.api is not None
        try:
            computer = await self.api.computers.create()
        except CelestoError as exc:
            self.notify(f"create failed: {exc}", severity="error")
        else:
            self.notify(f"created {computer['name']} ({computer['id']})")
        self.poll()

    def action_delete(self) -> None:
        computer = self._selected()
        if computer is None:
            return

        def confirmed(yes: bool | None) -> None:
            if yes:
                self._lifecycle("delete", computer["id"], computer["name"])

        self.push_screen(ConfirmDelete([computer["name"]]), confirmed)

    def action_exec(self) -> None:
        if self._selected() is None:
            return
        for widget_id in ("#exec-output", "#exec-input"):
            self.query_one(widget_id).add_class("shown")
        self.query_one("#exec-input", Input).focus()

    def action_close_exec(self) -> None:
        for widget_id in ("#exec-output", "#exec-input"):
            self.query_one(widget_id).remove_class("shown")
        self.query_one(ComputersTable).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id != "exec-input" or not event.value.strip():
            return
        computer = self._selected()
        if computer is not None:
            self._run(computer["id"], computer["name"], event.value)
        event.input.value = ""

    @work(group="exec", exclusive=True, exit_on_error=False)
    async def _run(self, computer_id: str, name: str, command: str) -> None:
        assert self.api is not None
        log = self.query_one("#exec-output", RichLog)
        log.write(f"{name}$ {command}")
        started = time.monotonic()
        try:
            async for event in self.api.computers.exec_stream(computer_id, command):
                kind = event.get("type")
                if kind in ("stdout", "stderr"):
                    text = str(event.get("data", "")).rstrip("\n")
                    if text:
                        log.write(text if kind == "stdout" else f"[stderr] {text}")
                elif kind == "exit":
                    elapsed = (time.monotonic() - started) * 1000
                    log.write(f"→ exit {event.get('exit_code')} in {elapsed:.0f} ms")
        except CelestoError as exc:
            log.write(f"✖ {exc}")
