"""The controller: every network call of the dashboard, and the intents widgets post.

Reads: the poll fetchers, live metrics, templates, URL probes, exec output. Writes: confirm →
worker → API call → transitional state, toast, command log. Every mutating action goes
through here. Destructive ones ask first (Cancel focused; delete wants the name typed), bulk
ones list every target, and each one is logged with the equivalent ``celesto-tui`` command
line. Rows show the transitional status at once; the
API's answer replaces it, and a re-poll follows when the action ends.

The controller holds no widget: it reads and writes the `DashboardModel` and talks
to the app through `Host` (toast, push a screen, post a message, run a worker), so it can be
driven without an app.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine, Sequence
from contextvars import ContextVar
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from textual.message import Message
from textual.message_pump import MessagePump
from textual.screen import Screen
from textual.worker import Worker

from celesto_api import CelestoError, Computer, Deployment, PublishedPort, limits
from celesto_api import validation as check

from ..model.clock import Clock
from ..model.command_log import (
    LogEntry,
    Status,
    Where,
    computer_line,
    create_line,
    deploy_line,
    deployment_line,
)
from ..model.contexts import Context, context_name
from ..model.dashboard import DashboardModel
from ..model.errors import explain
from ..model.format import TRANSITIONAL
from ..model.items import Item
from ..model.target import POLL_TIMEOUT_S, Target
from . import intents
from .messages import (
    ActionFinished,
    ActivityFetched,
    DeploymentLogsFetched,
    ExecBusy,
    ExecChunk,
    ExecEnded,
    ExecStarted,
    ItemsChanged,
    MetricsFetched,
    Navigate,
    OpenScreen,
    Probed,
    TargetSwitched,
)
from .probe import probe
from .screens.confirm import ConfirmScreen
from .screens.prompt import PromptScreen
from .target_switch import Announcer, TargetSwitcher
from .widgets.output_log import Stream

if TYPE_CHECKING:
    from celesto_api import AsyncCelesto  # loads httpx: made after the first frame

BULK_DELETE_CHUNK = 100
PARALLEL = 8
WAIT_RUNNING_S = 120.0
WAIT_POLL_S = 0.3
TRANSITIONS = {"start": "starting", "stop": "stopping", "delete": "deleting"}
PAST = {"start": "Starting", "stop": "Stopping", "delete": "Deleting"}
METRICS_FILL_EVERY_S = 10.0
STREAMS: tuple[Stream, Stream] = ("stdout", "stderr")
HISTORY_LIMIT = limits.COMMANDS_LIMIT_MAX

# The target generation a worker was started for (unset: the current one).
_GENERATION: ContextVar[int | None] = ContextVar("celesto_target_generation", default=None)


def _ports(computer: Computer) -> list[PublishedPort]:
    ports = computer.get("published_ports")
    return [p for p in ports if isinstance(p, dict)] if isinstance(ports, list) else []


def _names(targets: Sequence[Computer]) -> list[str]:
    return [f"{t.get('name')}  ({t.get('id')}, {t.get('status')})" for t in targets]


def _with_status(computer: Computer, status: str) -> Computer:
    """The computer as shown while an action is in flight."""
    return {**computer, "status": status}


def _deployment_label(deployment: Deployment) -> str:
    url = deployment.get("url") or "no URL"
    return f"{deployment.get('name')}  ({deployment.get('status')}, {url})"


def _where(target: Target) -> Where:
    return Where(
        local=target.local,
        profile=target.profile,
        base_url=target.base_url,
        data_dir=str(target.data_dir) if target.data_dir else None,
    )


class Host(Announcer, Protocol):
    """What the controller needs of the app, and nothing more: `notify` and `post` as
    `Announcer`, and these."""

    def show(self, screen: Screen[Any], callback: Callable[[Any], None] | None = None) -> None:
        """Push a screen; ``callback`` gets its result."""

    def spawn(
        self, work: Coroutine[Any, Any, None], group: str, exclusive: bool = False
    ) -> Worker[None]:
        """Run ``work`` in a worker whose failure is reported, never fatal."""

    def later(self, callback: Callable[..., Any], *args: Any) -> None: ...

    def open_terminal(self, computer_id: str, name: str) -> None: ...

    def command_log_changed(self) -> None: ...

    def save_state(self) -> None: ...


class Controller:
    def __init__(self, host: Host, model: DashboardModel, target: Target, clock: Clock) -> None:
        self.host = host
        self.model = model
        self.target = target
        self.clock = clock
        self._metrics_at = float("-inf")
        self._logs_in_flight: set[MessagePump] = set()
        self._history_in_flight: set[str] = set()
        self._exec: Worker[None] | None = None
        self.where = _where(target)
        # Bumped by each switch of target: what an earlier target's requests answer is
        # dropped (polls, action results, metrics, templates).
        self.generation = 0
        self._targets: dict[int, Target] = {0: target}
        self._context_names: dict[int, str] = {0: context_name(target)}
        # (generation, "api" | "poll") -> client; earlier targets' stay open until exit.
        self._clients: dict[tuple[int, str], AsyncCelesto] = {}
        self.switcher = TargetSwitcher(host, target, lambda: self.target, self.retarget)
        model.context = self._context_names[0]

    # The clients are made on first use, after the first frame: each httpx client builds a TLS
    # context when made (tens of ms), which would otherwise delay the dashboard's first paint.
    # One pair per target: a worker started before a switch goes on with its own target's
    # client (`_pinned`), so an action sent to the old target ends there.

    @property
    def api(self) -> AsyncCelesto:
        return self._client("api")

    @property
    def poll_api(self) -> AsyncCelesto:
        # Polls retry by themselves (with the backoff the header shows), not inside the SDK.
        return self._client("poll")

    def _client(self, kind: str) -> AsyncCelesto:
        generation = self._generation()
        client = self._clients.get((generation, kind))
        if client is None:
            target = self._targets[generation]
            if kind == "poll":
                client = target.client(max_retries=0, timeout=POLL_TIMEOUT_S)
            else:
                client = target.client()
            self._clients[(generation, kind)] = client
        return client

    def _generation(self) -> int:
        """The generation of the target the running worker was started for."""
        pinned = _GENERATION.get()
        return self.generation if pinned is None else pinned

    def _stale(self) -> bool:
        """The running worker was started for a target switched away from since."""
        return self._generation() != self.generation

    def _task(
        self, work: Coroutine[Any, Any, None], group: str, exclusive: bool = False
    ) -> Worker[None]:
        return self.host.spawn(self._pinned(work, self.generation), group, exclusive)

    @staticmethod
    async def _pinned(work: Coroutine[Any, Any, None], generation: int) -> None:
        # The worker runs in a task of its own, so this is set for it (and what it gathers).
        _GENERATION.set(generation)
        await work

    async def aclose(self) -> None:
        for client in self._clients.values():
            await client.aclose()
        self._clients.clear()
        await self.switcher.aclose()

    # --- switching target ----------------------------------------------------------------

    def switch_target(self, name: str) -> None:
        """Switch to context ``name`` once it answers (see `target_switch`)."""
        self.host.spawn(self.switcher.switch(name), group="switch", exclusive=True)

    def contexts(self) -> list[Context]:
        """What the context picker lists (`ContextError` if the config file is bad)."""
        return self.switcher.contexts()

    def retarget(self, target: Target, context: str) -> None:
        """From now on talk to ``target``. The old clients are kept open until exit, so
        that an action already sent to the old target still gets its answer (and its
        command-log line); what it would show is dropped by generation."""
        self.cancel_exec()
        self.generation += 1
        self._targets[self.generation] = target
        self._context_names[self.generation] = context
        self.target = target
        self.where = _where(target)
        self._metrics_at = float("-inf")
        self.model.switch_target(context, target.api_key)
        self.host.post(TargetSwitched(target, context))

    def target_started(self, target: Target) -> None:
        """The start-up target's embedded backend is up (its sandbox is now known)."""
        self.target = self._targets[self.generation] = target

    # --- reads (polls, templates, metrics, probes) ------------------------------------------

    async def computers_behind(self) -> list[Computer]:
        """The computers of the embedded backend this app runs behind the target shown
        (quitting stops them); none when there is no such backend or it does not answer."""
        target = self.switcher.local_behind()
        if target is None:
            return []
        client = target.client(max_retries=0, timeout=POLL_TIMEOUT_S)
        try:
            listing = await client.computers.list(limit=limits.LIST_LIMIT_MAX)
        except CelestoError:
            return []
        finally:
            await client.aclose()
        return [c.copy() for c in listing["computers"]]

    async def fetch_computers(self) -> list[Computer]:
        listing = await self.poll_api.computers.list(limit=limits.LIST_LIMIT_MAX)
        computers = self.model.polled_computers([c.copy() for c in listing["computers"]])
        self._maybe_fill_metrics(computers)
        return computers

    def _maybe_fill_metrics(self, computers: list[Computer]) -> None:
        """Ask the observability endpoint for running computers the list has no metrics for."""
        now = self.clock.monotonic()
        if now - self._metrics_at < METRICS_FILL_EVERY_S:
            return
        if wanted := self.model.metrics_wanted(computers):
            self._metrics_at = now
            self._task(self._fill_metrics(wanted), group="metrics")

    async def _fill_metrics(self, computer_ids: list[str]) -> None:
        generation, api = self._generation(), self.poll_api

        async def one(computer_id: str) -> None:
            try:
                data = await api.computers.observability(computer_id)
            except CelestoError:
                return  # metrics are a bonus; the poll itself reports connectivity
            latest = data.get("latest")
            if isinstance(latest, dict) and generation == self.generation:
                self.model.metrics_overlay[computer_id] = latest.copy()

        await asyncio.gather(*(one(computer_id) for computer_id in computer_ids))

    async def fetch_deployments(self) -> list[Deployment]:
        deployments = [deployment.copy() for deployment in await self.poll_api.deployment.list()]
        return self.model.polled_deployments(deployments)

    def fetch_templates(self) -> None:
        self._task(self._fetch_templates(), group="templates")

    async def _fetch_templates(self) -> None:
        generation = self._generation()
        try:
            templates = list(await self.api.computers.list_templates())
        except CelestoError:
            templates = None  # the create dialog falls back to the default template
        if generation == self.generation:
            self.model.templates = templates

    def metrics(self, request: intents.MetricsRequested) -> None:
        """The overview's live metrics (one request at a time)."""
        self._task(
            self._metrics(request.reply_to.post_message, request.computer_id),
            group="observability",
            exclusive=True,
        )

    async def _metrics(self, reply: Callable[[Message], bool], computer_id: str) -> None:
        try:
            data = await self.api.computers.observability(computer_id)
        except Exception as exc:  # metrics are a bonus: say so and carry on
            reply(MetricsFetched(computer_id, None, str(exc)))
        else:
            reply(MetricsFetched(computer_id, data.copy()))

    def probe(self, request: intents.ProbeRequested) -> None:
        self._task(self._probe(request.reply_to.post_message, request.url), group="probe")

    async def _probe(self, reply: Callable[[Message], bool], url: str) -> None:
        reply(Probed(await probe(url)))

    def activity(self, request: intents.ActivityRequested) -> None:
        """The command history of a computer into the activity log (one fetch per computer
        at a time: a slow endpoint is not asked again while its answer is on the way)."""
        if request.computer_id in self._history_in_flight:
            return
        self._history_in_flight.add(request.computer_id)
        self._task(
            self._fetch_history(request.reply_to.post_message, request.computer_id),
            group="history",
        )

    async def _fetch_history(self, reply: Callable[[Message], bool], computer_id: str) -> None:
        activity = self.model.activity
        try:
            history = await self.poll_api.computers.list_command_history(
                computer_id, limit=HISTORY_LIMIT
            )
        except CelestoError as exc:
            activity.history_failed(computer_id, explain(exc, self.target.where))
        else:
            activity.history_fetched(computer_id, history["commands"])
        finally:
            self._history_in_flight.discard(computer_id)
        reply(ActivityFetched(computer_id))

    # --- bookkeeping ---------------------------------------------------------------------

    def log(self, action: str, subject: str, line: str) -> LogEntry:
        entry = self.model.command_log.add(self.clock.now(), action, subject, line)
        self.host.command_log_changed()
        return entry

    def log_on(self, computer: Computer, action: str, subject: str, line: str) -> LogEntry:
        """`log`, and the entry shows in the computer's activity too."""
        entry = self.log(action, subject, line)
        self.model.activity.action(computer["id"], entry.at, entry)
        return entry

    def finish(
        self, entry: LogEntry, ok: bool | Status, message: str, kind: str = "computers"
    ) -> None:
        status: Status = ok if isinstance(ok, str) else "ok" if ok else "failed"
        self.host.post(ActionFinished(entry, status, message, kind))

    def line_run(self, computer: Computer, command: str, timeout: int) -> str:
        return computer_line(self.where, "run", computer["name"], command, timeout=timeout)

    def _show(
        self, items: Sequence[Item], kind: str = "computers", removed: Sequence[str] = ()
    ) -> None:
        self.host.post(ItemsChanged(kind, items, list(removed), self._generation()))

    def _watch(
        self, kind: str, key: str, name: str, verb: str, entry: LogEntry | None = None
    ) -> None:
        """Toast when a poll shows where ``verb`` led (see `watch.Watcher`); ``entry``, still
        running, ends there too."""
        watcher = self.model.watcher_for(self._context_names[self._generation()])
        watcher.watch(kind, key, name, verb, self.clock.monotonic(), entry)

    def _spawn(self, work: Coroutine[Any, Any, None], group: str = "actions") -> None:
        self._task(work, group)

    # --- lifecycle -----------------------------------------------------------------------

    def start(self, targets: Sequence[Computer]) -> None:
        if len(targets) == 1:
            self._lifecycle("start", targets)
            return
        self._confirm(
            ConfirmScreen(f"Start {len(targets)} computers?", _names(targets), verb="Start"),
            lambda: self._lifecycle("start", targets),
        )

    def stop(self, targets: Sequence[Computer]) -> None:
        what = targets[0]["name"] if len(targets) == 1 else f"{len(targets)} computers"
        self._confirm(
            ConfirmScreen(
                f"Stop {what}?",
                _names(targets),
                verb="Stop",
                note="Running processes end; files in the home directory are kept.",
            ),
            lambda: self._lifecycle("stop", targets),
        )

    def delete(self, targets: Sequence[Computer]) -> None:
        single = len(targets) == 1
        typed = targets[0]["name"] if single else f"delete {len(targets)}"
        what = targets[0]["name"] if single else f"{len(targets)} computers"
        self._confirm(
            ConfirmScreen(
                f"Delete {what} and all {'its' if single else 'their'} files? "
                "This cannot be undone.",
                _names(targets),
                verb="Delete",
                typed=typed,
                danger=True,
                note=f"On {self.target.where}.",
            ),
            lambda: self._lifecycle("delete", targets),
        )

    def _confirm(self, screen: ConfirmScreen, then: Callable[[], None]) -> None:
        def chosen(yes: bool | None) -> None:
            if yes:
                then()

        self.host.show(screen, chosen)

    def _lifecycle(self, verb: str, targets: Sequence[Computer]) -> None:
        for target in targets:
            self.model.pending_status[target["id"]] = TRANSITIONS[verb]
        self._show([_with_status(t, TRANSITIONS[verb]) for t in targets])
        entries = [
            self.log_on(t, verb, t["name"], computer_line(self.where, verb, t["name"]))
            for t in targets
        ]
        what = targets[0]["name"] if len(targets) == 1 else f"{len(targets)} computers"
        self.host.notify(f"{PAST[verb]} {what}…", timeout=3)
        self._spawn(self._lifecycle_work(verb, list(targets), entries))

    async def _lifecycle_work(
        self, verb: str, targets: list[Computer], entries: list[LogEntry]
    ) -> None:
        if verb == "delete" and len(targets) > 1:
            await self._bulk_delete(targets, entries)
            return
        api = self.api
        call = {"start": api.computers.start, "stop": api.computers.stop}.get(
            verb, api.computers.delete
        )
        limit = asyncio.Semaphore(PARALLEL)
        failures: list[str] = []

        async def one(target: Computer, entry: LogEntry) -> None:
            async with limit:
                try:
                    result = await call(target["id"])
                except CelestoError as exc:
                    self.model.pending_status.pop(target["id"], None)
                    self._show([target.copy()])  # the action did not happen: undo "stopping"
                    failures.append(f"{target['name']}: {explain(exc, self.target.where)}")
                    self.finish(entry, False, explain(exc))
                    return
                self.model.pending_status.pop(target["id"], None)
                # Polls sent from now on show where the action leads.
                self._watch("computers", target["id"], target["name"], verb)
                self._show([result])
                self.finish(entry, True, f"{result.get('name')} is {result.get('status')}")

        await asyncio.gather(*(one(t, e) for t, e in zip(targets, entries, strict=True)))
        self._summary(verb, targets, failures)

    async def _bulk_delete(self, targets: list[Computer], entries: list[LogEntry]) -> None:
        by_id = {t["id"]: e for t, e in zip(targets, entries, strict=True)}
        before = {t["id"]: t for t in targets}
        failures: list[str] = []
        ids = list(by_id)
        for start in range(0, len(ids), BULK_DELETE_CHUNK):
            chunk = ids[start : start + BULK_DELETE_CHUNK]
            try:
                result = await self.api.computers.bulk_delete(chunk)
            except CelestoError as exc:
                for computer_id in chunk:
                    self.model.pending_status.pop(computer_id, None)
                    self.finish(by_id[computer_id], False, explain(exc))
                self._show([before[computer_id].copy() for computer_id in chunk])
                failures.append(explain(exc))
                continue
            failed = set(result.get("failed_ids") or [])
            for computer_id in chunk:
                self.model.pending_status.pop(computer_id, None)
                ok = computer_id not in failed
                if ok:
                    self._watch("computers", computer_id, before[computer_id]["name"], "delete")
                self.finish(by_id[computer_id], ok, "deleting" if ok else "not deleted")
            if failed:
                self._show([before[c].copy() for c in chunk if c in failed])
            failures.extend(f"{computer_id}: not deleted" for computer_id in failed)
        self._summary("delete", targets, failures)

    def _summary(self, verb: str, targets: Sequence[Computer], failures: list[str]) -> None:
        if failures:
            self.host.notify(
                "\n".join(failures[:5]),
                title=f"Could not {verb} {len(failures)} of {len(targets)}",
                severity="error",
                timeout=10,
            )
            return
        what = targets[0]["name"] if len(targets) == 1 else f"{len(targets)} computers"
        self.host.notify(f"{PAST[verb]} {what}: requested.", title=verb.capitalize())

    # --- create --------------------------------------------------------------------------

    def create(self) -> None:
        def chosen(arguments: dict[str, Any] | None) -> None:
            if arguments is not None:
                self.create_with(arguments)

        local_backend = self.target.kind in ("local", "local server")
        host_network = local_backend and self.target.isolation == "process"
        from .screens.create_computer import CreateComputerScreen  # loaded when first used

        screen = CreateComputerScreen(
            self.model.templates, local_backend=local_backend, host_network=host_network
        )
        self.host.show(screen, chosen)

    def create_with(self, arguments: dict[str, Any]) -> None:
        """Create with the SDK's ``computers.create`` arguments (the dialog's, or typed)."""
        entry = self.log("create", "new computer", create_line(self.where, arguments))
        self.host.notify("Creating a computer…", timeout=3)
        self._spawn(self._create_work(arguments, entry))

    async def _create_work(self, arguments: dict[str, Any], entry: LogEntry) -> None:
        try:
            computer: Computer = await self.api.computers.create(**arguments)
        except CelestoError as exc:
            self.finish(entry, False, explain(exc))
            self.host.notify(
                explain(exc, self.target.where),
                title="Create failed",
                severity="error",
                timeout=10,
            )
            return
        entry.subject = computer["name"]
        self.model.activity.action(computer["id"], entry.at, entry)
        self._watch("computers", computer["id"], computer["name"], "create")
        self._show([computer])
        self.host.post(Navigate("computers", computer["id"]))
        self.finish(entry, True, f"created {computer['name']} ({computer['id']})")
        self.host.notify(
            f"{computer['name']} ({computer['id']}) is {computer['status']}.", title="Created"
        )

    # --- needs a running computer --------------------------------------------------------

    def when_running(
        self, computer: Computer, purpose: str, then: Callable[[Computer], None]
    ) -> None:
        """Call ``then`` with the computer once it runs, offering to start it if stopped."""
        status = str(computer.get("status"))
        if status == "running":
            then(computer)
        elif status in TRANSITIONAL and status not in ("stopping", "deleting"):
            self.host.notify(f"Waiting for {computer['name']} to start…", timeout=3)
            self._spawn(self._wait_then(computer, then))
        elif status in ("stopped", "error", "restorable"):

            def chosen(yes: bool | None) -> None:
                if yes:
                    line = computer_line(self.where, "start", computer["name"])
                    entry = self.log_on(computer, "start", computer["name"], line)
                    self._spawn(self._start_then(computer, then, entry))

            screen = ConfirmScreen(
                f"{computer['name']} is {status}. Start it and {purpose}?",
                [computer["name"]],
                verb="Start",
            )
            self.host.show(screen, chosen)
        else:
            self.host.notify(
                f"{computer['name']} is {status}: cannot {purpose}.", severity="warning"
            )

    async def _start_then(
        self, computer: Computer, then: Callable[[Computer], None], entry: LogEntry
    ) -> None:
        self.model.pending_status[computer["id"]] = "starting"
        self._show([_with_status(computer, "starting")])
        try:
            result = await self.api.computers.start(computer["id"])
        except CelestoError as exc:
            self.finish(entry, False, explain(exc))
            self.model.pending_status.pop(computer["id"], None)
            self._show([computer.copy()])
            self.host.notify(explain(exc), title="Start failed", severity="error")
            return
        self.model.pending_status.pop(computer["id"], None)
        self._watch("computers", computer["id"], computer["name"], "start")
        self._show([result])
        self.finish(entry, True, f"{computer['name']} is {result.get('status')}")
        await self._wait_then(result.copy(), then)

    async def _wait_then(self, computer: Computer, then: Callable[[Computer], None]) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + WAIT_RUNNING_S
        current = computer
        while current.get("status") != "running":
            if current.get("status") not in TRANSITIONAL or loop.time() > deadline:
                self.host.notify(
                    f"{computer['name']} is {current.get('status')}.", severity="error"
                )
                return
            await asyncio.sleep(WAIT_POLL_S)
            try:
                current = await self.api.computers.get(computer["id"])
            except CelestoError as exc:
                self.host.notify(explain(exc), severity="error")
                return
        if self._stale():
            return  # the dashboard went to another target meanwhile: not its computer
        self._show([current])
        self.host.later(then, current)

    # --- exec ----------------------------------------------------------------------------

    def run(self, request: intents.RunRequested) -> None:
        """Run a command once the computer runs (offering to start it), streaming its output
        to the widget that asked."""
        computer = request.computer
        if request.latest:
            computer = self.model.computer_by_id(computer["id"]) or computer
        reply = request.reply_to.post_message
        command, timeout = request.command, request.timeout
        self.when_running(
            computer, request.purpose, lambda c: self._run(reply, c, command, timeout)
        )

    def _run(
        self, reply: Callable[[Message], bool], computer: Computer, command: str, timeout: int
    ) -> None:
        if self._exec is not None and self._exec.is_running:
            reply(ExecBusy())
            return
        ui_state = self.model.ui_state
        ui_state.remember_command(computer["id"], command)
        self.host.save_state()
        history = list(ui_state.exec_history[computer["id"]])
        reply(ExecStarted(computer, command, timeout, history))
        entry = self.log("run", computer["name"], self.line_run(computer, command, timeout))
        self._exec = self._task(
            self._exec_work(reply, computer, command, timeout, entry), group="exec", exclusive=True
        )

    def cancel_exec(self) -> None:
        if self._exec is not None:
            self._exec.cancel()
            self._exec = None

    async def _exec_work(
        self,
        reply: Callable[[Message], bool],
        computer: Computer,
        command: str,
        timeout: int,
        entry: LogEntry,
    ) -> None:
        started = self.clock.monotonic()
        exit_code: int | None = None
        timed_out = False
        pending = {"stdout": "", "stderr": ""}
        started_command = False

        def flush() -> None:
            for stream in STREAMS:
                if pending[stream]:
                    reply(ExecChunk(stream, [pending[stream]]))
                    pending[stream] = ""

        try:
            async for event in self.api.computers.exec_stream(computer["id"], command, timeout):
                started_command = True
                kind = event.get("type")
                command_id = event.get("command_id") if kind == "started" else None
                if command_id:
                    # The API's history has no command text: remember what this one ran.
                    self.model.activity.command_ran(str(command_id), command)
                if kind in STREAMS:
                    stream: Stream = "stdout" if kind == "stdout" else "stderr"
                    data = pending[stream] + str(event.get("data", ""))
                    *complete, pending[stream] = data.split("\n")
                    if complete:
                        reply(ExecChunk(stream, complete))
                elif kind == "exit":
                    code = event.get("exit_code")
                    exit_code = code if isinstance(code, int) else -1
                    timed_out = bool(event.get("timed_out"))
        except asyncio.CancelledError:
            # ctrl+g (or quitting): the dashboard stopped waiting; the command may run on.
            self.finish(entry, "cancelled", "stopped waiting; the command may still be running")
            raise
        except Exception as exc:
            flush()
            elapsed = (self.clock.monotonic() - started) * 1000
            self.finish(entry, False, explain(exc))
            reply(ExecEnded(computer, command, None, elapsed, error=exc, started=started_command))
            return
        flush()
        elapsed = (self.clock.monotonic() - started) * 1000
        ok = exit_code == 0
        self.finish(entry, ok, f"exit {exit_code}" + (" (timed out)" if timed_out else ""))
        reply(ExecEnded(computer, command, exit_code, elapsed, timed_out))

    # --- ports ---------------------------------------------------------------------------

    def publish(self, computer: Computer, port: int | None = None) -> None:
        """Publish ``port`` (once the computer runs); without one, ask which."""
        if port is not None:
            self.when_running(computer, f"publish port {port}", lambda c: self._publish(c, port))
            return

        def validate(text: str) -> int:
            text = text.strip()
            if not text:  # as in the create dialog, blank is the default (the contract's)
                return limits.PORT_DEFAULT
            return check.port(int(text) if text.isdigit() else text)

        def chosen(port: int | None) -> None:
            if port is not None:
                self.when_running(
                    computer, f"publish port {port}", lambda c: self._publish(c, port)
                )

        self.host.show(
            PromptScreen(
                f"Publish a port of {computer['name']}",
                "The port an HTTP server listens on inside the computer "
                f"({limits.PORT_MIN} to {limits.PORT_MAX}, up to 4 per computer); "
                "blank publishes the default:",
                "",
                validate,
                placeholder=f"{limits.PORT_DEFAULT} (default)",
                verb="Publish",
                restrict=r"[0-9]*",
            ),
            chosen,
        )

    def _publish(self, computer: Computer, port: int) -> None:
        entry = self.log_on(
            computer,
            "publish",
            f"{computer['name']}:{port}",
            computer_line(self.where, "port publish", computer["name"], port=port),
        )
        others = [p for p in _ports(computer) if p.get("port") != port]
        pending: PublishedPort = {
            "computer_id": computer["id"],
            "port": port,
            "status": "publishing",
            "url": None,
        }
        self._show([{**computer, "published_ports": [*others, pending]}])
        self.host.notify(f"Publishing port {port} of {computer['name']}…", timeout=3)
        self._spawn(self._port_work(computer, port, entry, publish=True))

    def unpublish(self, computer: Computer, port: int) -> None:
        url = next(
            (p.get("url") for p in computer.get("published_ports") or [] if p.get("port") == port),
            None,
        )
        self._confirm(
            ConfirmScreen(
                f"Unpublish port {port} of {computer['name']}?",
                [str(url or port)],
                verb="Unpublish",
                note="The URL stops working; the server inside the computer keeps running.",
                danger=True,
            ),
            lambda: self._unpublish(computer, port),
        )

    def _unpublish(self, computer: Computer, port: int) -> None:
        entry = self.log_on(
            computer,
            "unpublish",
            f"{computer['name']}:{port}",
            computer_line(self.where, "port unpublish", computer["name"], port=port),
        )
        ports: list[PublishedPort] = [
            {**p, "status": "unpublishing"} if p.get("port") == port else p
            for p in _ports(computer)
        ]
        self._show([{**computer, "published_ports": ports}])
        self.host.notify(f"Unpublishing port {port} of {computer['name']}…", timeout=3)
        self._spawn(self._port_work(computer, port, entry, publish=False))

    async def _port_work(
        self, computer: Computer, port: int, entry: LogEntry, publish: bool
    ) -> None:
        api = self.api.computers
        try:
            if publish:
                result = await api.publish_port(computer["id"], port)
            else:
                result = await api.unpublish_port(computer["id"], port)
            refreshed = await api.get(computer["id"])
        except CelestoError as exc:
            self._show([computer.copy()])  # as it was: the change did not happen
            self.finish(entry, False, explain(exc))
            verb = "publish" if publish else "unpublish"
            self.host.notify(
                explain(exc), title=f"Could not {verb} port {port}", severity="error", timeout=10
            )
            return
        self._show([refreshed])
        if publish:
            self.finish(entry, True, f"{result.get('url')} ({result.get('status')})")
            self.host.notify(f"{result.get('url')}", title=f"Published port {port}")
        else:
            self.finish(entry, True, f"port {port} {result.get('status')}")
            self.host.notify(f"Port {port} of {computer['name']} unpublished.")

    # --- terminal ------------------------------------------------------------------------

    def terminal(self, computer: Computer) -> None:
        self.log_on(
            computer,
            "terminal",
            computer["name"],
            computer_line(self.where, "ssh", computer["name"]),
        )
        self.model.command_log.entries[-1].finish("ok", "")
        self.host.open_terminal(computer["id"], computer["name"])

    # --- deployments ---------------------------------------------------------------------

    def deploy(self) -> None:
        self._spawn(self._deploy_dialog(), group="dialog")

    async def _deploy_dialog(self) -> None:
        try:
            projects = list((await self.api.projects.list(limit=100)).get("data") or [])
        except CelestoError:
            projects = []  # the dialog still works with the default project

        def chosen(arguments: dict[str, Any] | None) -> None:
            if arguments is not None:
                self.deploy_with(arguments)

        from .screens.deploy import DeployScreen  # loaded when first used (tarfile, TextArea)

        self.host.post(OpenScreen(DeployScreen(projects), chosen))

    def deploy_with(self, arguments: dict[str, Any]) -> None:
        """Deploy with the SDK's ``deployment.deploy`` arguments (the dialog's, or typed)."""
        line = deploy_line(
            self.where,
            str(Path(arguments["folder"])),
            arguments["name"],
            arguments["description"],
            arguments["envs"],
            arguments["project_name"],
        )
        entry = self.log("deploy", arguments["name"], line)
        self.host.notify(f"Deploying {arguments['name']}: bundling and uploading…", timeout=4)
        self._spawn(self._deploy_work(arguments, entry))

    async def _deploy_work(self, arguments: dict[str, Any], entry: LogEntry) -> None:
        try:
            deployment = await self.api.deployment.deploy(**arguments)
        except CelestoError as exc:
            self.finish(entry, False, explain(exc), kind="deployments")
            self.host.notify(explain(exc), title="Deploy failed", severity="error", timeout=10)
            return
        name = deployment["name"]
        self.model.pending_deployments.pop(name, None)  # deployed again right after a delete
        # Accepted is not deployed: the entry stays running until a poll shows READY or FAILED.
        self._watch("deployments", name, name, "deploy", entry)
        self._show([deployment], kind="deployments")
        self.host.post(Navigate("deployments", name))
        self.finish(entry, "running", f"{name} is {deployment['status']}", kind="deployments")
        self.host.notify(
            f"{name} is {deployment['status']}; a toast follows when it is ready.",
            title="Deploy started",
        )

    def deployment_stop(self, deployment: Deployment) -> None:
        name = deployment["name"]
        if self._deployment_busy(deployment):
            return
        if deployment.get("status") == "STOPPED":
            self.host.notify(f"{name} is already stopped.", severity="warning")
            return
        self._confirm(
            ConfirmScreen(
                f"Stop deployment {name}?",
                [_deployment_label(deployment)],
                verb="Stop",
                note="Its URL answers 503 until it is deployed again; its files are kept.",
            ),
            lambda: self._deployment_change("stop", deployment),
        )

    def deployment_delete(self, deployment: Deployment) -> None:
        name = deployment["name"]
        if self._deployment_busy(deployment):
            return
        self._confirm(
            ConfirmScreen(
                f"Delete deployment {name} with its files and logs? This cannot be undone.",
                [_deployment_label(deployment)],
                verb="Delete",
                typed=name,
                danger=True,
                note=f"On {self.target.where}. Its app stops and its URL goes away.",
            ),
            lambda: self._deployment_change("delete", deployment),
        )

    def _deployment_busy(self, deployment: Deployment) -> bool:
        pending = self.model.pending_deployments.get(deployment["name"])
        if pending is not None:
            self.host.notify(f"{deployment['name']} is {pending} already.", severity="warning")
        return pending is not None

    def _deployment_change(self, verb: str, deployment: Deployment) -> None:
        name = deployment["name"]
        self.model.pending_deployments[name] = TRANSITIONS[verb]
        shown: Deployment = {**deployment, "status": TRANSITIONS[verb]}
        self._show([shown], kind="deployments")
        line = deployment_line(self.where, verb, name, force=verb == "delete")
        entry = self.log(verb, name, line)
        self.host.notify(f"{PAST[verb]} deployment {name}…", timeout=3)
        self._spawn(self._deployment_work(verb, deployment, entry))

    async def _deployment_work(self, verb: str, deployment: Deployment, entry: LogEntry) -> None:
        name = deployment["name"]
        api = self.api.deployment
        call = api.stop if verb == "stop" else api.delete
        try:
            result: Deployment = await call(name)
        except CelestoError as exc:
            self.model.pending_deployments.pop(name, None)
            self._show([deployment.copy()], kind="deployments")  # it did not happen: as it was
            why = explain(exc, self.target.where)
            self.finish(entry, False, why, kind="deployments")
            self.host.notify(why, title=f"Could not {verb} {name}", severity="error", timeout=10)
            return
        if verb == "delete":
            # "deleting" stays until a poll no longer lists it: a poll sent before the
            # delete must not bring the row back as it was.
            self._show([], kind="deployments", removed=[name])
            self.finish(entry, True, "deleted", kind="deployments")
            self.host.notify(f"Deleted deployment {name}.", title="Delete")
            return
        self.model.pending_deployments.pop(name, None)
        self._show([result], kind="deployments")
        self.finish(entry, True, f"{name} is {result.get('status')}", kind="deployments")
        self.host.notify(f"{name} is {result.get('status')}.", title="Stop")

    def deployment_logs(self, deployment: Deployment) -> None:
        """Open the live logs of a deployment; its screen polls through `poll_logs`."""
        from .screens.deployment_logs import DeploymentLogsScreen  # loaded when first used

        self.host.post(OpenScreen(DeploymentLogsScreen(deployment.copy())))

    def poll_logs(self, request: intents.DeploymentLogsPollRequested) -> None:
        """One logs request per screen at a time: a slow endpoint is not asked again and
        again while the answer is on its way."""
        if request.reply_to in self._logs_in_flight:
            return
        self._logs_in_flight.add(request.reply_to)
        self._task(self._poll_logs(request), group="logs")

    async def _poll_logs(self, request: intents.DeploymentLogsPollRequested) -> None:
        reply, name = request.reply_to.post_message, request.name
        try:
            text = str(await self.api.deployment.logs(name))
        except CelestoError as exc:
            code = exc.status_code or 0
            final = 400 <= code < 500 and code not in (408, 429)
            reply(DeploymentLogsFetched(name, "", explain(exc, self.target.where), final))
        else:
            reply(DeploymentLogsFetched(name, text))
        finally:
            self._logs_in_flight.discard(request.reply_to)
