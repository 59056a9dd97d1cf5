"""Computer lifecycle of the local backend: the store's rows plus one sandbox per
running computer, with the cloud's transitional states (creating, stopping,
starting, deleting) played out for real in background tasks."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import shutil
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

from celesto_api import limits

from .egress import EgressHub, proxy_env
from .errors import ApiError, not_found, not_running
from .exec_events import ExecRecorder
from .metrics import MetricsSampler
from .names import pick_name
from .sandbox import Sandbox, SandboxDriver, SandboxError, SandboxSpec
from .schemas import ComputerCreate
from .stage_timing import mark
from .store import Store, utc_now
from .templates import find_template

log = logging.getLogger("celesto_api.local")

TRANSITIONAL = ("creating", "starting")
READY_WAIT_SECONDS = 60.0
# How long a failed exec waits for its sandbox's end, to report why it ended.
SANDBOX_END_WAIT = 2.0

StopHook = Callable[[str], Any]


def new_id(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:20]}"


class ComputerService:
    def __init__(
        self,
        store: Store,
        driver: SandboxDriver,
        data_dir: Path,
        metrics: MetricsSampler,
        egress: EgressHub,
    ) -> None:
        self.store = store
        self.driver = driver
        self.data_dir = data_dir
        self.metrics = metrics
        self.egress = egress
        self._sandboxes: dict[str, Sandbox] = {}
        self._watchers: dict[str, asyncio.Task[None]] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self._changed: dict[str, asyncio.Event] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        self._create_lock = asyncio.Lock()
        # Called with a computer id before its sandbox goes away (terminals, ports).
        self.before_stop: list[StopHook] = []
        self.after_start: list[StopHook] = []
        self.after_delete: list[StopHook] = []

    # lookups -----------------------------------------------------------------------------

    def row(self, id_or_name: str) -> dict[str, Any]:
        row = self.store.get_computer(id_or_name)
        if row is None or row["status"] == "deleted":
            raise not_found(id_or_name)
        return row

    def sandbox(self, computer_id: str) -> Sandbox | None:
        sandbox = self._sandboxes.get(computer_id)
        return sandbox if sandbox is not None and sandbox.is_alive() else None

    def home_dir(self, computer_id: str) -> Path:
        return self.data_dir / "computers" / computer_id / "home"

    def egress_log(self, computer_id: str) -> Path:
        return self.data_dir / "computers" / computer_id / "egress.log"

    def proxied(self, row: dict[str, Any]) -> bool:
        """Whether the computer reaches out through an egress proxy: "open" computers in
        their own network namespace (a process-isolated one has the host's network)."""
        return row["network_mode"] == "open" and self.driver.capability.level == "bwrap"

    def spec_for(self, row: dict[str, Any]) -> SandboxSpec:
        open_net = row["network_mode"] == "open"
        return SandboxSpec(
            computer_id=row["id"],
            hostname=row["name"],
            home=self.home_dir(row["id"]),
            vcpus=row["vcpus"],
            ram_mb=row["ram_mb"],
            # Every computer has its own loopback-only network namespace (that is what lets
            # two computers each serve :8000 behind published ports); "open" ones reach
            # out through the egress proxy on that loopback.
            network="open" if open_net else "off",
            env=proxy_env() if self.proxied(row) else {},
        )

    def egress_block(self, row: dict[str, Any]) -> dict[str, Any]:
        if self.driver.capability.level != "bwrap":
            mode = "host"  # not isolated: the host's own network whatever the policy
        elif row["network_mode"] == "off":
            mode = "off"
        else:
            mode = "proxy"
        block: dict[str, Any] = {"mode": mode}
        stats = self.egress.stats(row["id"])
        if stats is not None:
            block.update(stats.to_dict())
        return block

    def to_response(self, row: dict[str, Any]) -> dict[str, Any]:
        ports = [port_response(row["id"], p) for p in self.store.list_ports(row["id"])]
        sandbox = self._sandboxes.get(row["id"])
        response: dict[str, Any] = {
            "id": row["id"],
            "name": row["name"],
            "status": row["status"],
            "vcpus": row["vcpus"],
            "ram_mb": row["ram_mb"],
            "disk_size_mb": row["disk_size_mb"],
            "image": row["image"],
            "template_id": row["template_id"],
            "template_version": row["template_version"],
            "created_at": row["created_at"],
            "stopped_at": row["stopped_at"],
            "last_error": row["last_error"],
            "compute_location": {"provider": "local", "region": "local", "country_code": None},
            "published_ports": ports,
            "network_policy": {"mode": row["network_mode"]},
            "external_volume_enabled": bool(row["external_volume_enabled"]),
            "origin": row["origin"],
            "project_id": row["project_id"],
            "connection": None,
            "metrics": self.metrics.summary(row["id"]) if row["status"] == "running" else None,
            "local": {
                "isolation": sandbox.isolation if sandbox else self.driver.capability.level,
                "enforced_limits": dict(sandbox.limits) if sandbox else {},
                "egress": self.egress_block(row),
            },
        }
        return response

    def _set_status(self, computer_id: str, status: str, **fields: Any) -> None:
        self.store.update_computer(computer_id, status=status, **fields)
        event = self._changed.pop(computer_id, None)
        if event is not None:
            event.set()

    def _lock(self, computer_id: str) -> asyncio.Lock:
        return self._locks.setdefault(computer_id, asyncio.Lock())

    def _spawn(self, coro: Any) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def wait_for_status(self, computer_id: str, timeout: float) -> dict[str, Any]:
        """Wait while the computer is in a transitional state; return its row."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            row = self.row(computer_id)
            if row["status"] not in TRANSITIONAL:
                return row
            event = self._changed.setdefault(computer_id, asyncio.Event())
            remaining = deadline - loop.time()
            if remaining <= 0:
                return row
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(event.wait(), remaining)

    async def running_sandbox(self, id_or_name: str, action: str) -> tuple[dict[str, Any], Sandbox]:
        row = await self.wait_for_status(self.row(id_or_name)["id"], READY_WAIT_SECONDS)
        sandbox = self.sandbox(row["id"])
        if row["status"] != "running" or sandbox is None:
            raise not_running(row["name"], row["status"], action, row["last_error"])
        return row, sandbox

    # lifecycle ---------------------------------------------------------------------------

    async def create(
        self, body: ComputerCreate, idempotency_key: str | None, origin: str
    ) -> dict[str, Any]:
        template_id = body.template_id or limits.DEFAULT_TEMPLATE_ID
        template = find_template(template_id)
        if template is None:
            raise ApiError(
                400,
                f"Unknown template '{template_id}'. Available locally: scratch, coding-agent.",
            )
        body_hash = hashlib.sha256(
            json.dumps(body.model_dump(), sort_keys=True).encode()
        ).hexdigest()
        async with self._create_lock:
            if idempotency_key:
                seen = self.store.idempotent_create(idempotency_key)
                if seen is not None:
                    if seen["body_hash"] != body_hash:
                        raise ApiError(
                            409,
                            {
                                "error_code": "idempotency_conflict",
                                "message": "This Idempotency-Key was used with another body.",
                            },
                        )
                    existing = self.store.get_computer(seen["computer_id"])
                    if existing is not None:
                        return self.to_response(existing)
            computer_id = new_id("cmp")
            row = {
                "id": computer_id,
                "name": pick_name(self.store.computer_names()),
                "status": "creating",
                "vcpus": body.vcpus or template["default_vcpus"],
                "ram_mb": body.ram_mb or template["default_ram_mb"],
                "disk_size_mb": body.disk_size_mb or template["default_disk_size_mb"],
                "image": body.image,
                "template_id": template["id"],
                "template_version": body.template_version or template["version"],
                "network_mode": body.network_policy.mode if body.network_policy else "open",
                "external_volume_enabled": int(body.external_volume_enabled),
                "project_id": self.store.default_project()["id"],
                "origin": origin,
                "created_at": utc_now(),
                "stopped_at": None,
                "last_error": None,
            }
            self.store.insert_computer(row)
            if idempotency_key:
                self.store.remember_idempotency(idempotency_key, body_hash, computer_id)
        self.home_dir(computer_id).mkdir(parents=True, exist_ok=True)
        self._spawn(self._boot(computer_id))
        return self.to_response(row)

    async def _boot(self, computer_id: str) -> None:
        async with self._lock(computer_id):
            row = self.store.get_computer(computer_id)
            if row is None or row["status"] not in TRANSITIONAL:
                return
            try:
                sandbox = await self.driver.start(self.spec_for(row))
            except Exception as exc:
                log.warning("computer %s failed to start: %s", row["name"], exc)
                self._set_status(computer_id, "error", last_error=f"Failed to start: {exc}")
                return
            if self.proxied(row):
                try:
                    await self.egress.attach(computer_id, sandbox, self.egress_log(computer_id))
                except Exception as exc:
                    await sandbox.stop()
                    log.warning("computer %s: no egress proxy: %s", row["name"], exc)
                    self._set_status(
                        computer_id, "error", last_error=f"Failed to start its network: {exc}"
                    )
                    return
            self._sandboxes[computer_id] = sandbox
            self._watchers[computer_id] = asyncio.ensure_future(self._watch(computer_id, sandbox))
            self._set_status(computer_id, "running", stopped_at=None, last_error=None)
            self.metrics.track(
                computer_id, sandbox, row["vcpus"], row["ram_mb"], row["disk_size_mb"]
            )
        for hook in self.after_start:
            await _call(hook, computer_id)

    async def _watch(self, computer_id: str, sandbox: Sandbox) -> None:
        code = await sandbox.wait()
        if self._sandboxes.get(computer_id) is not sandbox:
            return
        log.warning("computer %s: sandbox exited unexpectedly (%s)", computer_id, code)
        self._sandboxes.pop(computer_id, None)
        await self.egress.detach(computer_id)
        self.metrics.untrack(computer_id)
        for hook in self.before_stop:
            await _call(hook, computer_id)
        self._set_status(
            computer_id,
            "error",
            stopped_at=utc_now(),
            last_error=f"The computer's sandbox ended unexpectedly: {sandbox.describe_exit(code)}.",
        )

    async def _halt(self, computer_id: str) -> None:
        sandbox = self._sandboxes.pop(computer_id, None)
        watcher = self._watchers.pop(computer_id, None)
        if watcher is not None:
            watcher.cancel()
        self.metrics.untrack(computer_id)
        for hook in self.before_stop:
            await _call(hook, computer_id)
        await self.egress.detach(computer_id)
        if sandbox is not None:
            await sandbox.stop()

    async def stop(self, id_or_name: str) -> dict[str, Any]:
        row = self.row(id_or_name)
        if row["status"] in ("stopped", "stopping", "deleting"):
            return self.to_response(row)
        self._set_status(row["id"], "stopping")
        self._spawn(self._stop(row["id"]))
        return self.to_response(self.row(row["id"]))

    async def _stop(self, computer_id: str) -> None:
        async with self._lock(computer_id):
            row = self.store.get_computer(computer_id)
            if row is None or row["status"] != "stopping":
                return
            await self._halt(computer_id)
            self._set_status(computer_id, "stopped", stopped_at=utc_now())

    async def start(self, id_or_name: str) -> dict[str, Any]:
        row = self.row(id_or_name)
        if row["status"] in ("running", "starting", "creating", "deleting"):
            return self.to_response(row)
        self._set_status(row["id"], "starting", last_error=None)
        self._spawn(self._start(row["id"]))
        return self.to_response(self.row(row["id"]))

    async def _start(self, computer_id: str) -> None:
        async with self._lock(computer_id):
            if computer_id in self._sandboxes:
                # A crashed sandbox left behind: clear it before booting a new one.
                await self._halt(computer_id)
        await self._boot(computer_id)

    async def delete(self, id_or_name: str) -> dict[str, Any]:
        row = self.row(id_or_name)
        if row["status"] != "deleting":
            self._set_status(row["id"], "deleting")
            self._spawn(self._delete(row["id"]))
        return self.to_response(self.row(row["id"]))

    async def _delete(self, computer_id: str) -> None:
        async with self._lock(computer_id):
            row = self.store.get_computer(computer_id)
            if row is None:
                return
            await self._halt(computer_id)
            for hook in self.after_delete:
                await _call(hook, computer_id)
            try:
                await self.driver.destroy_home(self.spec_for(row))
            finally:
                shutil.rmtree(self.data_dir / "computers" / computer_id, ignore_errors=True)
                self.store.delete_computer(computer_id)
                self.metrics.forget(computer_id)
                self._locks.pop(computer_id, None)
                event = self._changed.pop(computer_id, None)
                if event is not None:
                    event.set()

    async def bulk_delete(self, ids: list[str]) -> dict[str, Any]:
        deleted, failed = [], []
        for computer_id in ids:
            try:
                row = await self.delete(computer_id)
            except ApiError:
                failed.append(computer_id)
            else:
                deleted.append(row["id"])
        return {"deleted": len(deleted), "deleted_ids": deleted, "failed_ids": failed}

    # exec --------------------------------------------------------------------------------

    async def exec_events(
        self, id_or_name: str, command: str, timeout: int, source: str
    ) -> tuple[str, AsyncIterator[dict[str, Any]]]:
        """Check the computer, then return the command id and its event stream."""
        row, sandbox = await self.running_sandbox(id_or_name, "run commands")
        mark("lookup")
        command_id = new_id("cmd")
        return command_id, self._run(row, sandbox, command_id, command, timeout, source)

    async def _run(
        self,
        row: dict[str, Any],
        sandbox: Sandbox,
        command_id: str,
        command: str,
        timeout: int,
        source: str,
    ) -> AsyncIterator[dict[str, Any]]:
        recorder = ExecRecorder(self.store, row["id"], command_id, source, timeout)
        yield recorder.started()
        try:
            async for event in sandbox.exec(command, float(timeout)):
                out = recorder.observe(event)
                if out is not None:
                    yield out
        except SandboxError as exc:
            recorder.failed(type(exc).__name__)
            raise await self._sandbox_lost(row, sandbox, exc) from exc
        except BaseException as exc:
            recorder.failed(type(exc).__name__)
            raise
        for tail in recorder.flush():
            yield tail
        yield recorder.exit_event()

    async def _sandbox_lost(
        self, row: dict[str, Any], sandbox: Sandbox, exc: SandboxError
    ) -> ApiError:
        """The computer failed under a command: say why, as a computer error (409)."""
        try:
            code = await asyncio.wait_for(asyncio.shield(sandbox.wait()), SANDBOX_END_WAIT)
        except TimeoutError:
            return ApiError(500, f"The command on computer '{row['name']}' failed: {exc}.")
        now = self.store.get_computer(row["id"])
        if now is None or now["status"] in ("stopping", "stopped", "deleting"):
            return ApiError(409, f"Computer '{row['name']}' was stopped while the command ran.")
        reason = sandbox.describe_exit(code)
        return ApiError(
            409,
            f"Computer '{row['name']}' failed while the command was running: {reason}. "
            f"It is now in the error state; start it again with "
            f"`celesto-tui computer start {row['name']}`.",
        )

    # server lifetime ---------------------------------------------------------------------

    def recover(self) -> list[str]:
        """After a restart (even ``kill -9``) nothing is running: mark it so."""
        to_delete = []
        for row in self.store.list_computers():
            if row["status"] in ("running", "creating", "starting", "stopping", "restoring"):
                self.store.update_computer(
                    row["id"], status="stopped", stopped_at=row["stopped_at"] or utc_now()
                )
            elif row["status"] == "deleting":
                to_delete.append(row["id"])
        for computer_id in to_delete:
            self._spawn(self._delete(computer_id))
        return to_delete

    async def shutdown(self) -> None:
        for task in list(self._tasks):
            with contextlib.suppress(BaseException):
                await asyncio.wait_for(asyncio.shield(task), 5)
        for computer_id in list(self._sandboxes):
            row = self.store.get_computer(computer_id)
            await self._halt(computer_id)
            if row is not None and row["status"] in ("running", "stopping", "starting"):
                self.store.update_computer(computer_id, status="stopped", stopped_at=utc_now())


def port_response(computer_id: str, row: dict[str, Any]) -> dict[str, Any]:
    host_port = row.get("host_port")
    return {
        "id": row["id"],
        "computer_id": computer_id,
        "port": row["port"],
        "status": row["status"],
        "url": f"http://127.0.0.1:{host_port}/" if host_port else None,
        "created_at": row["created_at"],
    }


async def _call(hook: StopHook, computer_id: str) -> None:
    result = hook(computer_id)
    if asyncio.iscoroutine(result):
        await result
