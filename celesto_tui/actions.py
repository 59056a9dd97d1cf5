"""The write path: confirm → worker → API call → transitional state, toast, command log.

Every mutating action goes through here. Destructive ones ask first (Cancel focused; delete
wants the name typed), bulk ones list every target, and each one is logged with the
equivalent ``celesto-tui`` command line. Rows show the transitional status at once; the
API's answer replaces it, and a re-poll follows when the action ends.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from celesto_api import CelestoError, Computer, Deployment
from celesto_api import _validation as check

from .command_log import LogEntry, Where, computer_line, create_line, deploy_line, deployment_line
from .errors import explain
from .format import TRANSITIONAL
from .messages import ActionFinished, ItemsChanged, Navigate, OpenScreen
from .screens.confirm import ConfirmScreen
from .screens.create_computer import CreateComputerScreen
from .screens.deploy import DeployScreen
from .screens.prompt import PromptScreen
from .screens.text_view import TextScreen

if TYPE_CHECKING:
    from .app import CelestoApp

BULK_DELETE_CHUNK = 100
PARALLEL = 8
WAIT_RUNNING_S = 120.0
WAIT_POLL_S = 0.3
TRANSITIONS = {"start": "starting", "stop": "stopping", "delete": "deleting"}
PAST = {"start": "Starting", "stop": "Stopping", "delete": "Deleting"}

Item = dict[str, Any]


def _ports(computer: Item) -> list[dict[str, Any]]:
    ports = computer.get("published_ports")
    return [p for p in ports if isinstance(p, dict)] if isinstance(ports, list) else []


def _names(targets: Sequence[Item]) -> list[str]:
    return [f"{t.get('name')}  ({t.get('id')}, {t.get('status')})" for t in targets]


def _deployment_label(deployment: Item) -> str:
    url = deployment.get("url") or "no URL"
    return f"{deployment.get('name')}  ({deployment.get('status')}, {url})"


class Actions:
    def __init__(self, app: CelestoApp) -> None:
        self.app = app
        target = app.target
        self.where = Where(
            local=target.local,
            profile=target.profile,
            base_url=target.base_url,
            data_dir=str(target.data_dir) if target.data_dir else None,
        )

    # --- bookkeeping ---------------------------------------------------------------------

    def log(self, action: str, subject: str, line: str) -> LogEntry:
        entry = self.app.command_log.add(self.app.clock.now(), action, subject, line)
        self.app.command_log_changed()
        return entry

    def finish(self, entry: LogEntry, ok: bool, message: str, kind: str = "computers") -> None:
        self.app.post_message(ActionFinished(entry, ok, message, kind))

    def line_run(self, computer: Item, command: str, timeout: int) -> str:
        return computer_line(self.where, "run", computer["name"], command, timeout=timeout)

    def _show(
        self, items: list[Item], kind: str = "computers", removed: Sequence[str] = ()
    ) -> None:
        self.app.post_message(ItemsChanged(kind, items, list(removed)))

    def _watch(self, kind: str, key: str, name: str, verb: str) -> None:
        """Toast when a poll shows where ``verb`` led (see `watch.Watcher`)."""
        self.app.watcher.watch(kind, key, name, verb, self.app.clock.monotonic())

    def _spawn(self, work: Awaitable[None], group: str = "actions") -> None:
        self.app.run_worker(work, group=group, exit_on_error=False)

    # --- lifecycle -----------------------------------------------------------------------

    def start(self, targets: Sequence[Item]) -> None:
        if len(targets) == 1:
            self._lifecycle("start", targets)
            return
        self._confirm(
            ConfirmScreen(f"Start {len(targets)} computers?", _names(targets), verb="Start"),
            lambda: self._lifecycle("start", targets),
        )

    def stop(self, targets: Sequence[Item]) -> None:
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

    def delete(self, targets: Sequence[Item]) -> None:
        single = len(targets) == 1
        typed = str(targets[0]["name"]) if single else f"delete {len(targets)}"
        what = targets[0]["name"] if single else f"{len(targets)} computers"
        self._confirm(
            ConfirmScreen(
                f"Delete {what} and all {'its' if single else 'their'} files? "
                "This cannot be undone.",
                _names(targets),
                verb="Delete",
                typed=typed,
                danger=True,
                note=f"On {self.app.target.where}.",
            ),
            lambda: self._lifecycle("delete", targets),
        )

    def _confirm(self, screen: ConfirmScreen, then: Callable[[], None]) -> None:
        def chosen(yes: bool | None) -> None:
            if yes:
                then()

        self.app.push_screen(screen, chosen)

    def _lifecycle(self, verb: str, targets: Sequence[Item]) -> None:
        for target in targets:
            self.app.pending_status[str(target["id"])] = TRANSITIONS[verb]
        self._show([dict(t, status=TRANSITIONS[verb]) for t in targets])
        entries = [
            self.log(verb, str(t["name"]), computer_line(self.where, verb, t["name"]))
            for t in targets
        ]
        what = targets[0]["name"] if len(targets) == 1 else f"{len(targets)} computers"
        self.app.notify(f"{PAST[verb]} {what}…", timeout=3)
        self._spawn(self._lifecycle_work(verb, list(targets), entries))

    async def _lifecycle_work(
        self, verb: str, targets: list[Item], entries: list[LogEntry]
    ) -> None:
        if verb == "delete" and len(targets) > 1:
            await self._bulk_delete(targets, entries)
            return
        api = self.app.api
        call = {"start": api.computers.start, "stop": api.computers.stop}.get(
            verb, api.computers.delete
        )
        limit = asyncio.Semaphore(PARALLEL)
        failures: list[str] = []

        async def one(target: Item, entry: LogEntry) -> None:
            async with limit:
                try:
                    result = await call(str(target["id"]))
                except CelestoError as exc:
                    self.app.pending_status.pop(str(target["id"]), None)
                    self._show([dict(target)])  # the action did not happen: undo "stopping"
                    failures.append(f"{target['name']}: {explain(exc, self.app.target.where)}")
                    self.finish(entry, False, explain(exc))
                    return
                self.app.pending_status.pop(str(target["id"]), None)
                # Polls sent from now on show where the action leads.
                self._watch("computers", str(target["id"]), str(target["name"]), verb)
                self._show([dict(result)])
                self.finish(entry, True, f"{result.get('name')} is {result.get('status')}")

        await asyncio.gather(*(one(t, e) for t, e in zip(targets, entries, strict=True)))
        self._summary(verb, targets, failures)

    async def _bulk_delete(self, targets: list[Item], entries: list[LogEntry]) -> None:
        by_id = {str(t["id"]): e for t, e in zip(targets, entries, strict=True)}
        before = {str(t["id"]): t for t in targets}
        failures: list[str] = []
        ids = list(by_id)
        for start in range(0, len(ids), BULK_DELETE_CHUNK):
            chunk = ids[start : start + BULK_DELETE_CHUNK]
            try:
                result = await self.app.api.computers.bulk_delete(chunk)
            except CelestoError as exc:
                for computer_id in chunk:
                    self.app.pending_status.pop(computer_id, None)
                    self.finish(by_id[computer_id], False, explain(exc))
                self._show([dict(before[computer_id]) for computer_id in chunk])
                failures.append(explain(exc))
                continue
            failed = set(result.get("failed_ids") or [])
            for computer_id in chunk:
                self.app.pending_status.pop(computer_id, None)
                ok = computer_id not in failed
                if ok:
                    name = str(before[computer_id]["name"])
                    self._watch("computers", computer_id, name, "delete")
                self.finish(by_id[computer_id], ok, "deleting" if ok else "not deleted")
            if failed:
                self._show([dict(before[c]) for c in chunk if c in failed])
            failures.extend(f"{computer_id}: not deleted" for computer_id in failed)
        self._summary("delete", targets, failures)

    def _summary(self, verb: str, targets: Sequence[Item], failures: list[str]) -> None:
        if failures:
            self.app.notify(
                "\n".join(failures[:5]),
                title=f"Could not {verb} {len(failures)} of {len(targets)}",
                severity="error",
                timeout=10,
            )
            return
        what = targets[0]["name"] if len(targets) == 1 else f"{len(targets)} computers"
        self.app.notify(f"{PAST[verb]} {what}: requested.", title=verb.capitalize())

    # --- create --------------------------------------------------------------------------

    def create(self) -> None:
        def chosen(arguments: dict[str, Any] | None) -> None:
            if arguments is not None:
                entry = self.log("create", "new computer", create_line(self.where, arguments))
                self.app.notify("Creating a computer…", timeout=3)
                self._spawn(self._create_work(arguments, entry))

        local_backend = self.app.target.kind in ("local", "local server")
        host_network = local_backend and self.app.target.isolation == "process"
        screen = CreateComputerScreen(
            self.app.templates, local_backend=local_backend, host_network=host_network
        )
        self.app.push_screen(screen, chosen)

    async def _create_work(self, arguments: dict[str, Any], entry: LogEntry) -> None:
        try:
            computer: Computer = await self.app.api.computers.create(**arguments)
        except CelestoError as exc:
            self.finish(entry, False, explain(exc))
            self.app.notify(
                explain(exc, self.app.target.where),
                title="Create failed",
                severity="error",
                timeout=10,
            )
            return
        entry.subject = str(computer["name"])
        self._watch("computers", str(computer["id"]), str(computer["name"]), "create")
        self._show([dict(computer)])
        self.app.post_message(Navigate("computers", str(computer["id"])))
        self.finish(entry, True, f"created {computer['name']} ({computer['id']})")
        self.app.notify(
            f"{computer['name']} ({computer['id']}) is {computer['status']}.", title="Created"
        )

    # --- needs a running computer --------------------------------------------------------

    def when_running(self, computer: Item, purpose: str, then: Callable[[Item], None]) -> None:
        """Call ``then`` with the computer once it runs, offering to start it if stopped."""
        status = str(computer.get("status"))
        if status == "running":
            then(computer)
        elif status in TRANSITIONAL and status not in ("stopping", "deleting"):
            self.app.notify(f"Waiting for {computer['name']} to start…", timeout=3)
            self._spawn(self._wait_then(computer, then))
        elif status in ("stopped", "error", "restorable"):

            def chosen(yes: bool | None) -> None:
                if yes:
                    line = computer_line(self.where, "start", computer["name"])
                    entry = self.log("start", str(computer["name"]), line)
                    self._spawn(self._start_then(computer, then, entry))

            screen = ConfirmScreen(
                f"{computer['name']} is {status}. Start it and {purpose}?",
                [str(computer["name"])],
                verb="Start",
            )
            self.app.push_screen(screen, chosen)
        else:
            self.app.notify(
                f"{computer['name']} is {status}: cannot {purpose}.", severity="warning"
            )

    async def _start_then(
        self, computer: Item, then: Callable[[Item], None], entry: LogEntry
    ) -> None:
        self.app.pending_status[str(computer["id"])] = "starting"
        self._show([dict(computer, status="starting")])
        try:
            result = await self.app.api.computers.start(str(computer["id"]))
        except CelestoError as exc:
            self.finish(entry, False, explain(exc))
            self.app.pending_status.pop(str(computer["id"]), None)
            self._show([dict(computer)])
            self.app.notify(explain(exc), title="Start failed", severity="error")
            return
        self.app.pending_status.pop(str(computer["id"]), None)
        self._watch("computers", str(computer["id"]), str(computer["name"]), "start")
        self._show([dict(result)])
        self.finish(entry, True, f"{computer['name']} is {result.get('status')}")
        await self._wait_then(dict(result), then)

    async def _wait_then(self, computer: Item, then: Callable[[Item], None]) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + WAIT_RUNNING_S
        current = computer
        while current.get("status") != "running":
            if current.get("status") not in TRANSITIONAL or loop.time() > deadline:
                self.app.notify(f"{computer['name']} is {current.get('status')}.", severity="error")
                return
            await asyncio.sleep(WAIT_POLL_S)
            try:
                current = dict(await self.app.api.computers.get(str(computer["id"])))
            except CelestoError as exc:
                self.app.notify(explain(exc), severity="error")
                return
        self._show([current])
        self.app.call_later(then, current)

    # --- ports ---------------------------------------------------------------------------

    def publish(self, computer: Item) -> None:
        def validate(text: str) -> int:
            return check.port(int(text) if text.isdigit() else text)

        def chosen(port: int | None) -> None:
            if port is not None:
                self.when_running(
                    computer, f"publish port {port}", lambda c: self._publish(c, port)
                )

        self.app.push_screen(
            PromptScreen(
                f"Publish a port of {computer['name']}",
                "The port an HTTP server listens on inside the computer "
                "(1024 to 65535, up to 4 per computer):",
                "8000",
                validate,
                verb="Publish",
                restrict=r"[0-9]*",
            ),
            chosen,
        )

    def _publish(self, computer: Item, port: int) -> None:
        entry = self.log(
            "publish",
            f"{computer['name']}:{port}",
            computer_line(self.where, "port publish", computer["name"], port=port),
        )
        others = [p for p in _ports(computer) if p.get("port") != port]
        pending = {"port": port, "status": "publishing", "url": None}
        self._show([dict(computer, published_ports=[*others, pending])])
        self.app.notify(f"Publishing port {port} of {computer['name']}…", timeout=3)
        self._spawn(self._port_work(computer, port, entry, publish=True))

    def unpublish(self, computer: Item, port: int) -> None:
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

    def _unpublish(self, computer: Item, port: int) -> None:
        entry = self.log(
            "unpublish",
            f"{computer['name']}:{port}",
            computer_line(self.where, "port unpublish", computer["name"], port=port),
        )
        ports = [
            dict(p, status="unpublishing") if p.get("port") == port else p for p in _ports(computer)
        ]
        self._show([dict(computer, published_ports=ports)])
        self.app.notify(f"Unpublishing port {port} of {computer['name']}…", timeout=3)
        self._spawn(self._port_work(computer, port, entry, publish=False))

    async def _port_work(self, computer: Item, port: int, entry: LogEntry, publish: bool) -> None:
        api = self.app.api.computers
        try:
            if publish:
                result = await api.publish_port(str(computer["id"]), port)
            else:
                result = await api.unpublish_port(str(computer["id"]), port)
            refreshed = await api.get(str(computer["id"]))
        except CelestoError as exc:
            self._show([dict(computer)])  # as it was: the change did not happen
            self.finish(entry, False, explain(exc))
            verb = "publish" if publish else "unpublish"
            self.app.notify(
                explain(exc), title=f"Could not {verb} port {port}", severity="error", timeout=10
            )
            return
        self._show([dict(refreshed)])
        if publish:
            self.finish(entry, True, f"{result.get('url')} ({result.get('status')})")
            self.app.notify(f"{result.get('url')}", title=f"Published port {port}")
        else:
            self.finish(entry, True, f"port {port} {result.get('status')}")
            self.app.notify(f"Port {port} of {computer['name']} unpublished.")

    # --- terminal ------------------------------------------------------------------------

    def terminal(self, computer: Item) -> None:
        self.log(
            "terminal", str(computer["name"]), computer_line(self.where, "ssh", computer["name"])
        )
        self.app.command_log.entries[-1].status = "ok"
        self.app.open_terminal(str(computer["id"]), str(computer["name"]))

    # --- deployments ---------------------------------------------------------------------

    def deploy(self) -> None:
        self._spawn(self._deploy_dialog(), group="dialog")

    async def _deploy_dialog(self) -> None:
        try:
            projects = list((await self.app.api.projects.list(limit=100)).get("data") or [])
        except CelestoError:
            projects = []  # the dialog still works with the default project

        def chosen(arguments: dict[str, Any] | None) -> None:
            if arguments is None:
                return
            line = deploy_line(
                self.where,
                str(Path(arguments["folder"])),
                arguments["name"],
                arguments["description"],
                arguments["envs"],
                arguments["project_name"],
            )
            entry = self.log("deploy", arguments["name"], line)
            self.app.notify(f"Deploying {arguments['name']}: bundling and uploading…", timeout=4)
            self._spawn(self._deploy_work(arguments, entry))

        self.app.post_message(OpenScreen(DeployScreen(projects), chosen))

    async def _deploy_work(self, arguments: dict[str, Any], entry: LogEntry) -> None:
        try:
            deployment = await self.app.api.deployment.deploy(**arguments)
        except CelestoError as exc:
            self.finish(entry, False, explain(exc), kind="deployments")
            self.app.notify(explain(exc), title="Deploy failed", severity="error", timeout=10)
            return
        name = str(deployment["name"])
        self.app.pending_deployments.pop(name, None)  # deployed again right after a delete
        self._watch("deployments", name, name, "deploy")
        self._show([dict(deployment)], kind="deployments")
        self.app.post_message(Navigate("deployments", name))
        self.finish(entry, True, f"{name} is {deployment['status']}", kind="deployments")
        self.app.notify(
            f"{name} is {deployment['status']}; a toast follows when it is ready.",
            title="Deploy started",
        )

    def deployment_stop(self, deployment: Item) -> None:
        name = str(deployment["name"])
        if self._deployment_busy(deployment):
            return
        if deployment.get("status") == "STOPPED":
            self.app.notify(f"{name} is already stopped.", severity="warning")
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

    def deployment_delete(self, deployment: Item) -> None:
        name = str(deployment["name"])
        if self._deployment_busy(deployment):
            return
        self._confirm(
            ConfirmScreen(
                f"Delete deployment {name} with its files and logs? This cannot be undone.",
                [_deployment_label(deployment)],
                verb="Delete",
                typed=name,
                danger=True,
                note=f"On {self.app.target.where}. Its app stops and its URL goes away.",
            ),
            lambda: self._deployment_change("delete", deployment),
        )

    def _deployment_busy(self, deployment: Item) -> bool:
        pending = self.app.pending_deployments.get(str(deployment["name"]))
        if pending is not None:
            self.app.notify(f"{deployment['name']} is {pending} already.", severity="warning")
        return pending is not None

    def _deployment_change(self, verb: str, deployment: Item) -> None:
        name = str(deployment["name"])
        self.app.pending_deployments[name] = TRANSITIONS[verb]
        self._show([dict(deployment, status=TRANSITIONS[verb])], kind="deployments")
        line = deployment_line(self.where, verb, name, force=verb == "delete")
        entry = self.log(verb, name, line)
        self.app.notify(f"{PAST[verb]} deployment {name}…", timeout=3)
        self._spawn(self._deployment_work(verb, deployment, entry))

    async def _deployment_work(self, verb: str, deployment: Item, entry: LogEntry) -> None:
        name = str(deployment["name"])
        api = self.app.api.deployment
        call = api.stop if verb == "stop" else api.delete
        try:
            result: Deployment = await call(name)
        except CelestoError as exc:
            self.app.pending_deployments.pop(name, None)
            self._show([dict(deployment)], kind="deployments")  # it did not happen: as it was
            why = explain(exc, self.app.target.where)
            self.finish(entry, False, why, kind="deployments")
            self.app.notify(why, title=f"Could not {verb} {name}", severity="error", timeout=10)
            return
        if verb == "delete":
            # "deleting" stays until a poll no longer lists it: a poll sent before the
            # delete must not bring the row back as it was.
            self._show([], kind="deployments", removed=[name])
            self.finish(entry, True, "deleted", kind="deployments")
            self.app.notify(f"Deleted deployment {name}.", title="Delete")
            return
        self.app.pending_deployments.pop(name, None)
        self._show([dict(result)], kind="deployments")
        self.finish(entry, True, f"{name} is {result.get('status')}", kind="deployments")
        self.app.notify(f"{name} is {result.get('status')}.", title="Stop")

    def deployment_logs(self, deployment: Item) -> None:
        self._spawn(self._logs_work(deployment), group="dialog")

    async def _logs_work(self, deployment: Item) -> None:
        name = str(deployment["name"])
        error = deployment.get("last_error")
        parts = []
        api = self.app.api.deployment
        try:
            logs = await api.logs(name)
            parts.append(str(logs).rstrip("\n") or f"(no logs for {name} yet)")
        except CelestoError as exc:
            parts.append(f"(no build log: {explain(exc, self.app.target.where)})")
        if error:
            parts.append(f"\n── last error ──\n{error}")
        text = "\n".join(parts).strip() or "(empty)"
        title = f"{name} · {deployment.get('status')} · build log"
        self.app.post_message(OpenScreen(TextScreen(title, text)))
