"""CelestoApp: the dashboard. Wiring only: pollers, views, keymap, themes, state, errors.

Data flow: a `Poller` per resource kind fetches (through the `Controller`) in a worker and
posts `Polled` (rows already built off the UI thread) or `PollFailed`; the handlers here put
the items in the `DashboardModel`, hand the rows to the view (which applies the diff), update
freshness and schedule the next poll. Widgets post intents (`intents.py`), which go to the
controller; its actions post `ItemsChanged` and `ActionFinished`. Nothing here waits on the
network.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import gc
from collections.abc import Callable, Coroutine, Iterable, Mapping, Sequence
from functools import partial
from pathlib import Path
from typing import Any, ClassVar, TypeVar

from textual import events
from textual.app import App, ComposeResult
from textual.binding import BindingType
from textual.command import Provider
from textual.dom import DOMNode
from textual.driver import Driver
from textual.drivers.linux_driver import LinuxDriver
from textual.message import Message
from textual.notifications import SeverityLevel
from textual.screen import Screen
from textual.theme import Theme
from textual.widget import Widget
from textual.widgets import ContentSwitcher
from textual.worker import Worker, WorkerState

from celesto_api import Computer

from ..model.clock import Clock, SystemClock
from ..model.command_input import Command
from ..model.command_log import CommandLog
from ..model.computers_table import COMPUTERS
from ..model.contexts import ContextError
from ..model.dashboard import DashboardModel
from ..model.deployments_table import DEPLOYMENTS
from ..model.errors import ErrorLog, explain, is_expected
from ..model.items import Item
from ..model.quitting import quit_losses
from ..model.table_rows import build_rows
from ..model.target import Target
from ..model.ui_state import StateWriter, UiState, default_state_path, load_state
from ..model.watch import SUMMARY_AFTER, Settled, Watcher
from . import intents
from .bindings import ActionSpec, allowed, bindings, by_id, effective_keys, key_display
from .controller import Controller
from .first_frame import FirstFrameProbe
from .messages import (
    ActionFinished,
    BackendStarted,
    ItemsChanged,
    Navigate,
    OpenScreen,
    Polled,
    PollFailed,
    TargetSwitched,
    TargetSwitching,
)
from .palette import DashboardCommands
from .poller import Poller
from .settings import Settings, load_settings
from .typeahead import TypeAhead
from .widgets.computers_view import ComputersView
from .widgets.deployments_view import DeploymentsView
from .widgets.key_hints import KeyHints
from .widgets.log_views import CommandLogView, ErrorsView
from .widgets.status_bar import StatusBar, target_text
from .widgets.table_view import TableView

# DIALOGS_WHEN_OPENED: the help, `:`, context and quit dialogs are imported when first
# opened: the first frame does not show them, so it does not wait for their modules.

ItemT = TypeVar("ItemT", bound=Item)
VIEWS = ("computers", "deployments", "commands", "errors")
HIDDEN_POLL_FACTOR = 5.0
STATE_SAVE_DELAY_S = 0.3


class CelestoApp(App[None]):
    TITLE = "celesto-tui"
    CSS = """
    Screen { layout: vertical; }
    #views { height: 1fr; }
    """
    BINDINGS: ClassVar[list[BindingType]] = bindings("app")
    COMMANDS: ClassVar[set[type[Provider] | Any]] = App.COMMANDS | {DashboardCommands}

    def __init__(
        self,
        target: Target,
        refresh_seconds: float | None = None,
        read_only: bool = False,
        *,
        clock: Clock | None = None,
        state_path: Path | None = None,
        settings: Settings | None = None,
        theme: str | None = None,
        terminal: str | None = None,
        collector_paused: bool = False,
    ) -> None:
        """`collector_paused`: the caller turned the garbage collector off for start-up (see
        commands/cli.py); it is turned back on once the first frame is painted."""
        super().__init__()
        self.target = target
        self.clock: Clock = clock or SystemClock()
        self.settings = settings if settings is not None else load_settings(target.profile)
        self.refresh_seconds = (
            refresh_seconds if refresh_seconds is not None else self.settings.refresh
        )
        # What the command line asked for: a context switched to later keeps these.
        self._read_only_flag = read_only
        self._refresh_flag = refresh_seconds
        self.read_only = read_only or self.settings.read_only
        self.keymap: dict[str, str] = dict(self.settings.keymap)
        self.state_path = state_path or default_state_path()
        self.model = DashboardModel(load_state(self.state_path), secrets=[target.api_key])
        self._writer = StateWriter(self.state_path)
        self._state_sequence = 0
        self._save_timer: Any = None
        self.requested_theme = theme
        self.terminal_on_start = terminal
        self.controller = Controller(self, self.model, target, self.clock)
        # By kind; Any, as a message's kind is only known when it arrives.
        self.pollers: dict[str, Poller[Any]] = {}
        refresh_key = key_display(effective_keys(next(iter(by_id("refresh"))), self.keymap))
        self.status_bar = StatusBar(target, self.read_only, refresh_key)
        create_key = self.keymap.get("create", "n").split(",")[0]
        self.views: dict[str, TableView[Any]] = {
            "computers": ComputersView(
                self.ui_state.view("computers"),
                clock=self.clock,
                exec_history=self.ui_state.exec_history,
                create_hint="" if self.read_only else f" Press {create_key} to create one.",
                activity=self.model.activity,
                covered_at_start=target.starting,
            ),
            "deployments": DeploymentsView(self.ui_state.view("deployments"), clock=self.clock),
        }
        for view in self.views.values():
            view.on_state_changed = self.save_state
        self.command_log_view = CommandLogView(self.command_log)
        self.errors_view = ErrorsView(self.error_log)
        self.switcher = ContentSwitcher(initial="computers", id="views")
        self._terminals: Any = None
        self.typeahead = TypeAhead(self)
        self._clashes_reported: set[str] = set()
        self._probe = FirstFrameProbe.from_env()
        self._hidden_mounted = False
        self._collector_paused = collector_paused

    def get_driver_class(self) -> type[Driver]:
        driver = super().get_driver_class()
        if driver is LinuxDriver:
            from .driver import QuickExitDriver

            return QuickExitDriver
        return driver

    # The model's parts the app shows.

    @property
    def ui_state(self) -> UiState:
        return self.model.ui_state

    @property
    def command_log(self) -> CommandLog:
        return self.model.command_log

    @property
    def error_log(self) -> ErrorLog:
        return self.model.error_log

    @property
    def watcher(self) -> Watcher:
        return self.model.watcher

    # --- layout ----------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        # The app keeps its widgets: `query_one` would search whatever screen is on top.
        yield self.status_bar
        with self.switcher:
            # The first frame shows this view only; the others (each node costs Textual's
            # styling before that frame) are mounted right after it: `_mount_hidden_views`.
            yield self.views["computers"]
        # `? Keys` first: at 80 columns the focused widget's keys fill the row.
        yield KeyHints(first_actions=("help",))

    @property
    def _hidden_views(self) -> list[Widget]:
        return [
            *(view for name, view in self.views.items() if name != "computers"),
            self.command_log_view,
            self.errors_view,
        ]

    async def _mount_hidden_views(self) -> None:
        """Mount the views the first frame did not show (once, however often called)."""
        if self._hidden_mounted:
            return
        self._hidden_mounted = True
        computers = self.views["computers"]
        assert isinstance(computers, ComputersView)
        hidden = [view for view in self._hidden_views if view.parent is None]
        for view in hidden:
            view.display = False  # as the switcher would: it shows only its current child
        if hidden:
            await self.switcher.mount_all(hidden)
        await computers.mount_hidden_panes()

    def on_mount(self) -> None:
        self.set_keymap(self.keymap)
        self._apply_theme()
        self.theme_changed_signal.subscribe(self, self._theme_changed)
        for problem in self.settings.problems:
            self.report_error("config", problem)
        if self.settings.problems:
            self.notify(
                f"{len(self.settings.problems)} problem(s) in {self.settings.path}; "
                "see the errors view (4).",
                severity="warning",
                timeout=8,
            )
        self._make_pollers()
        if self._probe is not None:
            self.call_after_refresh(self._painted)
        if self.target.starting:
            for view in self.views.values():
                view.loading = True
        # Paint first: the hidden views, the backend and the polls come once this frame is
        # on screen.
        self.call_after_refresh(self._after_first_frame)
        self.set_interval(1.0, self.update_header)
        self.update_header()
        self.focus_table()
        if self._terminals_key is not None:  # shells left running by an earlier run
            self._show_shells(self.ui_state.terminals_of(self._terminals_key))

    def _show_shells(self, computer_ids: Iterable[str]) -> None:
        computers = self.views["computers"]
        if isinstance(computers, ComputersView):
            computers.show_shells(computer_ids)

    def _make_pollers(self) -> None:
        generation = self.controller.generation
        self.pollers = {
            "computers": Poller(
                self,
                COMPUTERS,
                self.controller.fetch_computers,
                lambda: self.views["computers"].params,
                self.clock,
                self.refresh_seconds,
                generation,
            ),
            "deployments": Poller(
                self,
                DEPLOYMENTS,
                self.controller.fetch_deployments,
                lambda: self.views["deployments"].params,
                self.clock,
                self.refresh_seconds,
                generation,
            ),
        }
        shown = self.current_view == "deployments"
        self.pollers["deployments"].slow_factor = 1.0 if shown else HIDDEN_POLL_FACTOR

    def _start_polling(self) -> None:
        for poller in self.pollers.values():
            poller.poll_now()
        self.controller.fetch_templates()

    def _painted(self) -> None:
        assert self._probe is not None
        self._probe.note("paint")
        if self._probe.exits_at_paint:
            self.exit()

    async def _after_first_frame(self) -> None:
        if self._collector_paused:
            self._collector_paused = False
            gc.freeze()  # what start-up made stays: later passes need not walk it again
            gc.enable()
        if self._probe is not None and self._probe.exits_at_paint:
            return  # measuring the first frame only
        if self.target.starting:
            assert self.target.startup is not None
            # Its thread starts first: the views mount while it comes up.
            self.target.startup.start(lambda: self.post_message(BackendStarted()))
            await self._mount_hidden_views()
        else:
            await self._mount_hidden_views()
            self._start_polling()

    def on_backend_started(self, _message: BackendStarted) -> None:
        if not self.is_running:  # shutting down: the widgets are going away
            return
        if self.controller.generation != 0:
            return  # switched to another context while it started: it stays pickable
        startup = self.target.startup
        assert startup is not None
        self.status_bar.show_target(self.target if startup.error else self.target.started())
        for view in self.views.values():
            view.loading = False
        if startup.error is not None:
            self.report_error("starting the embedded backend", startup.error)
            self.notify(
                str(startup.error) or type(startup.error).__name__,
                title="The embedded backend did not start",
                severity="error",
                timeout=30,
            )
            return
        self.target = self.status_bar.target
        self.controller.target_started(self.target)
        self._start_polling()

    async def on_unmount(self) -> None:
        for poller in self.pollers.values():
            poller.stop()
        await self._flush_state()
        await self.controller.aclose()

    # --- poll results ------------------------------------------------------------------------

    def on_polled(self, message: Polled) -> None:
        if not self.is_running:  # shutting down: the widgets are going away
            return
        if message.generation != self.controller.generation:
            return  # a poll of the target switched away from
        poller, view = self.pollers[message.kind], self.views[message.kind]
        first = poller.polls == 0
        self.model.replace(message.kind, {view.spec.key_of(item): item for item in message.items})
        poller.freshness.succeeded(self.clock.monotonic(), message.took_ms)
        view.apply_items(message.items, message.rows)
        view.show_freshness(poller.freshness, self.clock.monotonic())
        poller.finished(True, busy=message.rows.busy)
        if message.kind == "computers":
            self.model.activity.polled(self.model.computers().values(), self.clock.now())
            self.activity_changed()
        self.update_header()
        items = self.model.items_of(message.kind)
        settled = self.watcher.settled(message.kind, items, message.started)
        if any(done.entry is not None for done in settled):
            self.command_log_changed()
        self._tell_settled(settled)
        if message.kind == "computers" and first and self._probe is not None:
            self._probe.note("live")
        if message.kind == "computers" and first and self.terminal_on_start:
            self._open_terminal_by_name(self.terminal_on_start)

    def _tell_settled(self, settled: list[Settled]) -> None:
        if len(settled) > SUMMARY_AFTER:
            bad = sum(1 for done in settled if done.bad)
            names = ", ".join(done.name for done in settled[:SUMMARY_AFTER]) + ", …"
            title = f"{len(settled)} done" + (f", {bad} failed" if bad else "")
            self.notify(names, title=title, severity="error" if bad else "information")
            return
        for done in settled:
            self.notify(done.text(), severity="error" if done.bad else "information")

    def on_poll_failed(self, message: PollFailed) -> None:
        if not self.is_running:  # shutting down: the widgets are going away
            return
        if message.generation != self.controller.generation:
            return
        poller, view = self.pollers[message.kind], self.views[message.kind]
        was_auth = poller.freshness.auth_failed
        poller.finished(False, error=message.error)
        view.show_freshness(poller.freshness, self.clock.monotonic())
        self.update_header()
        if not is_expected(message.error):
            self.report_error(f"polling {message.kind}", message.error)
        elif poller.freshness.auth_failed and not was_auth:
            self.notify(
                explain(message.error, self.target.where),
                title="Not authorised",
                severity="error",
                timeout=15,
            )

    def on_items_changed(self, message: ItemsChanged) -> None:
        """An action's answer: show it now, before the next poll confirms it."""
        if not self.is_running:  # shutting down: the widgets are going away
            return
        if message.generation != self.controller.generation:
            return  # an answer of the target switched away from
        view = self.views[message.kind]
        changed = {view.spec.key_of(item): item for item in message.items}
        items = self.model.change(message.kind, changed, message.removed)
        view.apply_items(items, build_rows(view.spec, items, view.params, self.clock.now()))

    def on_action_finished(self, message: ActionFinished) -> None:
        if not self.is_running:  # shutting down: the widgets are going away
            return
        if message.status == "running":
            message.entry.progress(message.message)
        else:
            message.entry.finish(message.status, message.message)
        self.command_log_changed()
        self.pollers[message.kind].poll_now()

    # --- intents: widgets ask, the controller does -----------------------------------------

    def on_create_requested(self, _message: intents.CreateRequested) -> None:
        self.controller.create()
        self.typeahead.intent_handled()

    def on_lifecycle_requested(self, message: intents.LifecycleRequested) -> None:
        verbs = {
            "start": self.controller.start,
            "stop": self.controller.stop,
            "delete": self.controller.delete,
        }
        verbs[message.verb](message.targets)
        self.typeahead.intent_handled()

    def on_publish_requested(self, message: intents.PublishRequested) -> None:
        self.controller.publish(message.computer, message.port)
        self.typeahead.intent_handled()

    def on_unpublish_requested(self, message: intents.UnpublishRequested) -> None:
        self.controller.unpublish(message.computer, message.port)
        self.typeahead.intent_handled()

    def on_terminal_requested(self, message: intents.TerminalRequested) -> None:
        self.controller.terminal(message.computer)

    def on_deploy_requested(self, _message: intents.DeployRequested) -> None:
        self.controller.deploy()

    def on_deployment_change_requested(self, message: intents.DeploymentChangeRequested) -> None:
        if message.verb == "stop":
            self.controller.deployment_stop(message.deployment)
        else:
            self.controller.deployment_delete(message.deployment)
        self.typeahead.intent_handled()

    def on_deployment_logs_requested(self, message: intents.DeploymentLogsRequested) -> None:
        self.controller.deployment_logs(message.deployment)

    def on_deployment_logs_poll_requested(
        self, message: intents.DeploymentLogsPollRequested
    ) -> None:
        self.controller.poll_logs(message)

    def on_run_requested(self, message: intents.RunRequested) -> None:
        self.controller.run(message)

    def on_exec_cancel_requested(self, _message: intents.ExecCancelRequested) -> None:
        self.controller.cancel_exec()

    def on_metrics_requested(self, message: intents.MetricsRequested) -> None:
        self.controller.metrics(message)

    def on_probe_requested(self, message: intents.ProbeRequested) -> None:
        self.controller.probe(message)

    def on_activity_requested(self, message: intents.ActivityRequested) -> None:
        self.controller.activity(message)

    def on_focus_table_requested(self, _message: intents.FocusTableRequested) -> None:
        self.focus_table()

    # --- contexts: switching target without restarting -------------------------------------

    def action_pick_context(self) -> None:
        self.post_message(intents.ContextPickRequested())

    def on_context_pick_requested(self, _message: intents.ContextPickRequested) -> None:
        if len(self.screen_stack) > 1:
            self.notify("Close this screen first, then switch context.", severity="warning")
            return
        try:
            contexts = self.controller.contexts()
        except ContextError as exc:
            self.notify(str(exc), title="Cannot list the contexts", severity="error")
            return
        from .screens.context_picker import ContextPickerScreen  # see DIALOGS_WHEN_OPENED

        self.post_message(OpenScreen(ContextPickerScreen(contexts), self._context_chosen))

    def _context_chosen(self, name: str | None) -> None:
        if name:
            self.post_message(intents.ContextSwitchRequested(name))

    def on_context_switch_requested(self, message: intents.ContextSwitchRequested) -> None:
        self.controller.switch_target(message.name)

    def on_target_switching(self, message: TargetSwitching) -> None:
        if self.is_running:
            self.status_bar.show_switching(message.text)

    def on_target_switched(self, message: TargetSwitched) -> None:
        """The controller talks to another target: show it from scratch."""
        if not self.is_running:
            return
        self._drop_terminals(self._terminals_key)  # the key of the target left
        target = self.target = message.target
        settings = load_settings(target.profile)  # a profile may be read-only, or poll slower
        self.read_only = self._read_only_flag or settings.read_only
        self.refresh_seconds = (
            self._refresh_flag if self._refresh_flag is not None else settings.refresh
        )
        self.status_bar.show_switching("")
        self.status_bar.show_target(target, self.read_only)
        self.refresh_bindings()
        computers = self.views["computers"]
        if isinstance(computers, ComputersView):
            if computers.exec_pane.running:
                computers.exec_pane.action_cancel()  # its computer belongs to the old target
            computers.activity_pane.activity = self.model.activity  # the new context's
        for poller in self.pollers.values():
            poller.stop()
        now = self.clock.now()
        for view in self.views.values():
            view.loading = False
            view.apply_items([], build_rows(view.spec, [], view.params, now))
        self._make_pollers()
        self._start_polling()
        self._show_shells(self.ui_state.terminals_of(self._terminals_key or ""))
        self.update_header()
        self.activity_changed()
        self.ui_state.context = message.context
        self.save_state()
        self.notify(f"Now on {message.context}: {target_text(target)}.", title="Context")

    # --- what the controller may ask of the app (`controller.Host`) -------------------------

    def show(self, screen: Screen[Any], callback: Callable[[Any], None] | None = None) -> None:
        self.typeahead.dialog_opening(self.push_screen(screen, callback))

    def post(self, message: Message) -> None:
        self.post_message(message)

    def spawn(
        self, work: Coroutine[Any, Any, None], group: str, exclusive: bool = False
    ) -> Worker[None]:
        return self.run_worker(work, group=group, exit_on_error=False, exclusive=exclusive)

    def later(self, callback: Callable[..., Any], *args: Any) -> None:
        self.call_later(callback, *args)

    def on_key_hints_pressed(self, message: KeyHints.Pressed) -> None:
        self.simulate_key(message.key)

    def on_navigate(self, message: Navigate) -> None:
        if self.is_running:
            self.go_to(message.kind, message.key)

    def on_open_screen(self, message: OpenScreen) -> None:
        if self.is_running:
            self.typeahead.dialog_opening(self.push_screen(message.screen, message.callback))

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, events.InputEvent) and self.is_running:
            # A key or click that came before the views were mounted may switch to one.
            await self._mount_hidden_views()
        # Keys typed behind one that opens a dialog go to the dialog (see typeahead.py).
        if (
            isinstance(event, events.Key)
            and not event.is_forwarded
            and await self.typeahead.intercept(event)
        ):
            return
        await super().on_event(event)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state is WorkerState.ERROR and event.worker.error is not None:
            error = event.worker.error
            self.report_error(f"worker {event.worker.name or event.worker.group}", error)
            self.notify(explain(error), title="Something went wrong", severity="error")

    # --- header and views --------------------------------------------------------------------

    @property
    def current_view(self) -> str:
        return self.switcher.current or "computers"

    def update_header(self) -> None:
        if not self.pollers or not self.is_running:
            return
        kind = self.current_view if self.current_view in self.pollers else "computers"
        now = self.clock.monotonic()
        poller = self.pollers[kind]
        self.status_bar.show(poller.freshness, now, kind)
        for name, view in self.views.items():
            if view.is_mounted:
                view.show_freshness(self.pollers[name].freshness, now)

    def action_show_view(self, name: str) -> None:
        if name not in VIEWS:
            return
        self.switcher.current = name
        deployments = self.pollers.get("deployments")
        if deployments is not None:
            deployments.slow_factor = 1.0 if name == "deployments" else HIDDEN_POLL_FACTOR
            if name == "deployments":
                deployments.poll_now()
        self.focus_table()
        self.update_header()

    def focus_table(self) -> None:
        name = self.current_view
        if name in self.views:
            view = self.views[name]
            if view.zoom == "detail":  # leaving the detail: the table comes back
                view.set_zoom("")
            view.table.focus()
        elif name == "commands":
            self.command_log_view.table.focus()
        else:
            self.errors_view.table.focus()

    async def action_quit(self) -> None:
        """Quit at once, unless that would stop computers or end shells: then ask first."""
        from .screens.quit_confirm import QuitConfirmScreen  # see DIALOGS_WHEN_OPENED

        if isinstance(self.screen, QuitConfirmScreen):  # ctrl+q twice
            self.exit()
            return
        shells = len(self._computers().live_shells)
        losses = quit_losses(
            self.target,
            self.model.items["computers"].values(),
            shells,
            behind=await self.controller.computers_behind(),
        )
        if not losses:
            self.exit()
            return

        def chosen(quit: bool | None) -> None:
            if quit:
                self.exit()

        self.show(QuitConfirmScreen(losses), chosen)

    def action_refresh(self) -> None:
        for poller in self.pollers.values():
            poller.poll_now()

    def action_help(self) -> None:
        from .screens.help import HelpScreen  # see DIALOGS_WHEN_OPENED

        path = self.settings.path
        self.push_screen(HelpScreen(self.keymap, self.read_only, str(path) if path else None))

    def action_pick_theme(self) -> None:
        self.search_themes()

    # --- the `:` command line: typed commands become the intents the keys send ----------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return allowed(self, "app", action)

    def action_command_line(self) -> None:
        from .screens.command_line import CommandLineScreen  # see DIALOGS_WHEN_OPENED

        def names(kind: str) -> Callable[[], list[str]]:
            return lambda: [str(item.get("name")) for item in self.model.items[kind].values()]

        screen = CommandLineScreen(
            names("computers"),
            names("deployments"),
            self.controller.where,
            self.controller.switcher.names,
            read_only=self.read_only,
        )
        # As the other dialogs open: through a message, so keys typed behind `:` are held
        # for it first (typeahead.py).
        self.post_message(OpenScreen(screen, self._run_typed))

    def _found(
        self, what: str, listing: Mapping[str, ItemT], refs: Sequence[str]
    ) -> list[ItemT] | None:
        """The items named (or keyed) ``refs``; None, having said so, when one is missing."""

        def find(ref: str) -> ItemT | None:
            for key, item in listing.items():
                if ref in (key, item.get("name")):
                    return copy.copy(item)
            return None

        found = [find(ref) for ref in refs]
        missing = [ref for ref, item in zip(refs, found, strict=True) if item is None]
        if missing:
            self.notify(f"No {what} named {', '.join(missing)}.", severity="error")
            return None
        return [item for item in found if item is not None]

    def _run_typed(self, command: Command | None) -> None:
        if command is None:
            return
        if command.phrase == "context":
            if command.names:
                self.post_message(intents.ContextSwitchRequested(command.names[0]))
            else:
                self.post_message(intents.ContextPickRequested())
            return
        intent: Message | None = None
        if command.phrase.startswith("deployments"):
            deployments = self._found("deployment", self.model.deployments(), command.names)
            if deployments is None:
                return
            intent = {
                "deployments stop": lambda: intents.DeploymentChangeRequested(
                    "stop", deployments[0]
                ),
                "deployments delete": lambda: intents.DeploymentChangeRequested(
                    "delete", deployments[0]
                ),
                "deployments logs": lambda: intents.DeploymentLogsRequested(deployments[0]),
            }.get(command.phrase, lambda: None)()
        else:
            computers = self._found("computer", self.model.computers(), command.names)
            if computers is None:
                return
            if command.phrase == "computer run":
                self._run_typed_command(computers[0], command.arguments)
                return
            if command.phrase.startswith("computer port") and not self._show_ports(
                computers[0], command.phrase, command.arguments["port"]
            ):
                return
            intent = {
                "computer start": lambda: intents.LifecycleRequested("start", computers),
                "computer stop": lambda: intents.LifecycleRequested("stop", computers),
                "computer delete": lambda: intents.LifecycleRequested("delete", computers),
                "computer ssh": lambda: intents.TerminalRequested(computers[0]),
                "computer port publish": lambda: intents.PublishRequested(
                    computers[0], command.arguments["port"]
                ),
                "computer port unpublish": lambda: intents.UnpublishRequested(
                    computers[0], command.arguments["port"]
                ),
            }.get(command.phrase, lambda: None)()
        if intent is not None:
            self.post_message(intent)
        elif command.phrase == "computer create":
            self.controller.create_with(dict(command.arguments))
        elif command.phrase == "deploy":
            self.controller.deploy_with(dict(command.arguments))

    def _computers(self) -> ComputersView:
        view = self.views["computers"]
        assert isinstance(view, ComputersView)
        return view

    def _run_typed_command(self, computer: Computer, arguments: Mapping[str, Any]) -> None:
        """`computer run`: in the exec pane of that computer, as if typed at its prompt."""
        self.go_to("computers", computer["id"])
        view = self._computers()
        view.show_exec(computer)
        view.exec_pane.start(computer, arguments["command"], arguments["timeout"])

    def _show_ports(self, computer: Computer, phrase: str, port: int) -> bool:
        """`computer port ...`: the computer's ports pane, as `P` shows it. False (and said)
        when there is nothing to unpublish."""
        published = {p.get("port") for p in computer.get("published_ports") or []}
        if phrase.endswith("unpublish") and port not in published:
            self.notify(f"{computer['name']} has no published port {port}.", severity="error")
            return False
        self.go_to("computers", computer["id"])
        self._computers().show_ports()
        return True

    # --- go to / palette -----------------------------------------------------------------------

    def items_of(self, kind: str) -> Mapping[str, Item]:
        return self.model.items_of(kind)

    def go_to(self, kind: str, key: str) -> None:
        self.action_show_view(kind)
        self.views[kind].go_to(key)

    async def run_palette_action(self, spec: ActionSpec) -> None:
        if spec.scope == "app":
            await self.run_action(spec.action)
            return
        panes = ("overview", "exec", "ports", "activity")
        view = "computers" if spec.scope in panes else spec.scope
        self.action_show_view(view)
        computers = self.views["computers"]
        assert isinstance(computers, ComputersView)
        nodes: dict[str, DOMNode] = {
            "computers": computers,
            "overview": computers.overview,
            "exec": computers.exec_pane,
            "ports": computers.ports_pane,
            "activity": computers.activity_pane,
            "deployments": self.views["deployments"],
            "commands": self.command_log_view,
            "errors": self.errors_view,
        }
        node = nodes.get(spec.scope, self)
        if spec.scope in panes:
            computers.action_pane(spec.scope)
        await self.run_action(spec.action, node)

    # --- terminal --------------------------------------------------------------------------

    def open_terminal(self, computer_id: str, name: str) -> None:
        try:
            from ..terminal.terminals_screen import TerminalsScreen
        except ImportError as exc:  # the terminal pane ships separately
            self.notify(f"The terminal pane is not available: {exc}", severity="error")
            return
        if self._terminals is None:
            kept = self.ui_state.terminals_of(self._terminals_key) if self._terminals_key else {}
            # Each context its own screen: its tabs talk to that context's API.
            self._terminals = TerminalsScreen(self.controller.api, kept_terminals=kept)
            self.install_screen(self._terminals, "terminals")
        terminals: TerminalsScreen = self._terminals
        # Shown first, so that what the tab offers (start a stopped computer) opens over it,
        # not over the dashboard.
        if self.screen is not terminals:
            self.push_screen("terminals")
        terminals.open_terminal(computer_id, name)

    @property
    def _terminals_key(self) -> str | None:
        """Where the terminal ids of this target are kept: its base URL. Not for the
        embedded backend in this process: its shells end with the app, and its port changes."""
        return None if self.target.local else self.target.base_url.rstrip("/")

    def on_terminals_screen_terminal_ids_changed(self, message: Any) -> None:
        """Remember which terminal each computer has (`TerminalsScreen.TerminalIdsChanged`;
        the terminal module is imported only when a terminal opens)."""
        if self._terminals is None or message._sender is not self._terminals:
            return  # the screen of a context switched away from (its ids are saved)
        self._show_shells(message.terminal_ids)
        key = self._terminals_key
        if key is not None and self.ui_state.set_terminals(key, message.terminal_ids):
            self.save_state()

    def _drop_terminals(self, key: str | None) -> None:
        """Leaving a context: its terminal tabs are detached and closed. Their shells keep
        running on their computers (on a server, `t` reattaches after switching back; the
        ids are kept per base URL as across restarts)."""
        terminals, self._terminals = self._terminals, None
        if terminals is None:
            return
        self.uninstall_screen(terminals)
        self.run_worker(
            self._close_terminals(terminals, key),
            group="terminals",
            exit_on_error=False,
        )

    async def _close_terminals(self, terminals: Any, key: str | None) -> None:
        for pane in terminals.panes:
            await pane.detach()
        if key is not None and self.ui_state.set_terminals(key, terminals.terminal_ids):
            self.save_state()
        await terminals.remove()

    def _open_terminal_by_name(self, name: str) -> None:
        for computer in self.model.computers().values():
            if name in (computer.get("name"), computer.get("id")):
                self.controller.terminal(computer)
                return
        self.notify(f"No computer named {name!r} here.", severity="error", timeout=10)

    # --- themes and state ----------------------------------------------------------------------

    def _apply_theme(self) -> None:
        for candidate, source in (
            (self.requested_theme, "--theme"),
            (self.ui_state.theme, "saved theme"),
            (self.settings.theme, "config theme"),
        ):
            if not candidate:
                continue
            if candidate in self.available_themes:
                self.theme = candidate
                return
            known = ", ".join(sorted(self.available_themes))
            self.report_error("theme", f"{source} {candidate!r} is not a theme ({known})")
            self.notify(f"Unknown theme {candidate!r}; see the errors view.", severity="warning")

    def _theme_changed(self, theme: Theme) -> None:
        for view in self.views.values():
            view.table.restyle()
        if self.ui_state.theme != theme.name:
            self.ui_state.theme = theme.name
            self.save_state()

    def save_state(self) -> None:
        """Remember the UI state soon, in a thread (coalescing quick successive changes)."""
        if self._save_timer is not None:
            self._save_timer.stop()
        self._save_timer = self.set_timer(STATE_SAVE_DELAY_S, self._write_state)

    def _write_state(self) -> None:
        self._save_timer = None
        self._state_sequence += 1
        write = partial(self._writer.write, self.ui_state.to_json(), self._state_sequence)
        self.run_worker(write, thread=True, group="state", exit_on_error=False)

    async def _flush_state(self) -> None:
        if self._save_timer is None:
            return
        self._save_timer.stop()
        self._save_timer = None
        self._state_sequence += 1
        with contextlib.suppress(OSError):  # nobody to tell once the app is closing
            await asyncio.to_thread(
                self._writer.write, self.ui_state.to_json(), self._state_sequence
            )

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = True,
    ) -> None:
        """Toasts carry API errors, names, URLs and commands: never parse them as markup
        (a "[/x]" in an error message would raise and end the app)."""
        super().notify(message, title=title, severity=severity, timeout=timeout, markup=False)

    # --- logs --------------------------------------------------------------------------------

    def command_log_changed(self) -> None:
        if self.command_log_view.is_mounted and self.is_running:
            self.command_log_view.refresh_entries()
            self.activity_changed()

    def activity_changed(self) -> None:
        view = self.views["computers"]
        if isinstance(view, ComputersView) and view.is_mounted:
            view.activity_changed()

    def report_error(self, source: str, error: BaseException | str) -> None:
        self.error_log.add(self.clock.now(), source, error)
        if self.errors_view.is_mounted and self.is_running:
            self.errors_view.refresh_entries()

    def handle_bindings_clash(self, clashed_bindings: set[Any], node: Any) -> None:
        keys = sorted(f"{b.key} ({b.id})" for b in clashed_bindings)
        report = ", ".join(keys)
        if report not in self._clashes_reported:
            self._clashes_reported.add(report)
            self.report_error("keymap", f"keys bound twice in {type(node).__name__}: {report}")
