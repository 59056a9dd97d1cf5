"""Local deployments: a bundle is unpacked into its own sandbox, its requirements are
installed into a virtual environment, the app is started with ``PORT`` set and is
``READY`` once it answers HTTP there, reachable through a published local port.

A redeploy builds beside the live version (the status says ``BUILDING`` while the URL keeps
answering) and swaps only when the new one answers; if it fails, the old one keeps serving,
the status is ``READY`` again and ``last_error`` says so.

Sandboxes reach the network like "open" computers, through their egress proxy, so ``pip``
uses its index (``PIP_INDEX_URL`` and friends from the deployment's env apply). With
``config.network_policy = {"mode": "off"}`` it installs offline: what the host's Python
already has, or wheels in the bundle.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import shlex
import shutil
import socket
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .bundle import BundleLimits, unpack
from .egress import EgressHub, proxy_env
from .errors import ApiError, invalid_field
from .ports import PortBridge
from .sandbox import ExecExit, ExecOutput, Sandbox, SandboxDriver, SandboxSpec
from .store import LOCAL_ORGANIZATION_ID, LOCAL_USER_ID, Store, utc_now
from .text_rules import has_control_chars

log = logging.getLogger("celesto_api.local")

APP_PORT = 8080
READY_TIMEOUT_S = 60.0
BUILD_TIMEOUT_S = 600
MAX_NAME_CHARS = 100
# last_error is one line that a table cell or a CLI error can show whole.
ERROR_SUMMARY_CHARS = 400
OFFLINE_NOTE = (
    "This deployment's network is off: only packages already installed on "
    "this machine, or wheels shipped in the folder (--find-links in requirements.txt), "
    "can be installed."
)
# The app runs as one long exec; the agent caps each wait, so a huge timeout is fine.
FOREVER_S = 10.0**9
ROUTE_PREFIX = "deploy:"
# On a redeploy the old app serves the requests it has until they finish, this long at most.
SWAP_DRAIN_MAX_S = 30.0
SWAP_DRAIN_POLL_S = 0.05
# Logs are shown from their end: the newest output is what explains a failure.
MAX_LOG_SHOWN = 4 << 20
SUMMARY_TAIL = 64 << 10
MAX_PROCFILE = 64 << 10
ACTIVE_STATUSES = ("PENDING", "ENQUEUED", "BUILDING", "READY")


def route_key(name: str) -> str:
    """Published-port routes of deployments live beside computers' under this key."""
    return ROUTE_PREFIX + name


@dataclass
class _Live:
    sandbox: Sandbox
    port: int
    monitor: asyncio.Task[None] | None = None


class _BuildFailed(Exception):
    pass


class DeploymentService:
    def __init__(
        self,
        store: Store,
        driver: SandboxDriver,
        data_dir: Path,
        bridge: PortBridge,
        egress: EgressHub,
        limits: BundleLimits | None = None,
    ) -> None:
        self.egress = egress
        self.store = store
        self.limits = limits or BundleLimits()
        self.driver = driver
        self.root = data_dir / "deployments"
        self.bridge = bridge
        self._live: dict[str, _Live] = {}
        self._builds: dict[str, asyncio.Task[None]] = {}
        self._retiring: set[asyncio.Future[None]] = set()
        # Inner port of each deployment's route; the route outlives a stop (it answers 503).
        self._route_ports: dict[str, int] = {}

    # wire shapes -------------------------------------------------------------------------

    def _row(self, name: str) -> dict[str, Any]:
        row = self.store.get_deployment(name)
        if row is None:
            raise ApiError(404, f"Deployment '{name}' not found.")
        return row

    def read(self, name: str) -> dict[str, Any]:
        return self._record(self._row(name))

    def _record(self, row: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": row["id"],
            "name": row["name"],
            "description": row["description"],
            "organization_id": LOCAL_ORGANIZATION_ID,
            "user_id": LOCAL_USER_ID,
            "project_id": row["project_id"],
            "status": row["status"],
            "config": row["config"],
            "last_error": row["last_error"],
            "created_at": row["created_at"],
            "updated_at": row["updated_at"],
            "deployed_at": row["deployed_at"],
            "url": row["url"],
        }

    def list_item(self, row: dict[str, Any]) -> dict[str, Any]:
        record = self._record(row)
        record.pop("config")
        return record

    async def logs(self, name: str) -> str:
        return await asyncio.to_thread(self._read_logs, name)

    def _read_logs(self, name: str) -> str:
        build_dir = self._newest_build(name)
        if build_dir is None:
            return ""
        parts = []
        for label, file in (("build", "build.log"), ("app", "app.log")):
            path = build_dir / file
            if path.exists():
                parts.append(f"==> {label} log <==\n{read_tail(path, MAX_LOG_SHOWN)}")
        return "\n".join(parts)

    # deploy ------------------------------------------------------------------------------

    async def deploy(
        self,
        name: str,
        description: str | None,
        project_id: str,
        config: dict[str, Any],
        bundle: bytes,
    ) -> dict[str, Any]:
        if len(name) > MAX_NAME_CHARS or "/" in name or name in (".", ".."):
            raise invalid_field(
                "name", f"name must be 1-{MAX_NAME_CHARS} characters without '/'", name
            )
        if has_control_chars(name):
            raise invalid_field("name", "name must not contain control characters", name)
        env = config.get("env") or {}
        # Errors never echo env values: they are usually secrets.
        if not isinstance(env, dict):
            raise invalid_field(
                "config", "config.env must be an object of strings", type(env).__name__
            )
        bad_keys = [key for key in env if not str(key).isidentifier() or not str(key).isascii()]
        if bad_keys:
            raise invalid_field(
                "config", f"invalid environment variable names: {bad_keys}", bad_keys
            )
        if any("\0" in str(value) for value in env.values()):
            raise invalid_field(
                "config", "config.env values must not contain NUL characters", "(redacted)"
            )
        build_dir = self.root / name / uuid.uuid4().hex
        # In a thread: a large bundle takes seconds to unpack, and /health must not wait.
        await asyncio.to_thread(_lay_out_build, bundle, build_dir, self.limits)
        existing = self.store.get_deployment(name)
        now = utc_now()
        self.store.upsert_deployment(
            {
                "id": existing["id"] if existing else str(uuid.uuid4()),
                "name": name,
                "description": description,
                "project_id": project_id,
                "status": "PENDING",
                "config": config,
                "last_error": None,
                "created_at": existing["created_at"] if existing else now,
                "updated_at": now,
                "deployed_at": existing["deployed_at"] if existing else None,
                "url": existing["url"] if existing else None,
                "host_port": existing["host_port"] if existing else None,
            }
        )
        self._start_build(name, build_dir, config)
        return self.read(name)

    def _start_build(self, name: str, build_dir: Path, config: dict[str, Any]) -> None:
        in_flight = self._builds.pop(name, None)
        if in_flight is not None:
            in_flight.cancel()
        env = {str(k): str(v) for k, v in (config.get("env") or {}).items()}
        policy = config.get("network_policy")
        open_net = not (isinstance(policy, dict) and policy.get("mode") == "off")
        self._builds[name] = asyncio.ensure_future(self._build(name, build_dir, env, open_net))

    def _set(self, name: str, **fields: Any) -> None:
        self.store.update_deployment(name, updated_at=utc_now(), **fields)

    async def _build(self, name: str, build_dir: Path, env: dict[str, str], open_net: bool) -> None:
        replacing = name in self._live
        proxied = open_net and self.driver.capability.level == "bwrap"
        spec = SandboxSpec(
            computer_id=f"dep-{build_dir.name[:12]}",
            hostname=name[:63],
            home=build_dir / "home",
            network="open" if open_net else "off",
            env=proxy_env() if proxied else {},
        )
        sandbox: Sandbox | None = None
        runner: asyncio.Future[Any] | None = None
        try:
            self._set(name, status="BUILDING", last_error=None)
            sandbox = await self.driver.start(spec)
            if proxied:
                await self.egress.attach(spec.computer_id, sandbox, build_dir / "egress.log")
            await _install_requirements(sandbox, build_dir, env, open_net)
            port = APP_PORT if self.driver.capability.level != "process" else _free_port()
            runner = asyncio.ensure_future(
                _run(
                    sandbox,
                    await asyncio.to_thread(_launch_command, build_dir / "home" / "app", env, port),
                    FOREVER_S,
                    build_dir / "app.log",
                )
            )
            # A replaced app's run ends when its sandbox is retired, with nobody waiting.
            runner.add_done_callback(_retrieve_outcome)
            await _wait_http(sandbox, port, runner)
            await self._go_live(name, _Live(sandbox, port), runner, build_dir)
            sandbox = None
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            reason = str(exc) if isinstance(exc, _BuildFailed) else f"Build failed: {exc}"
            if replacing and name in self._live:
                row = self.store.get_deployment(name)
                url = row["url"] if row else None
                self._set(
                    name,
                    status="READY",
                    last_error=f"Redeploy failed: {reason} The previous version keeps serving"
                    + (f" at {url}." if url else "."),
                )
            else:
                self._set(name, status="FAILED", last_error=reason)
        finally:
            if sandbox is not None:
                if runner is not None:
                    runner.cancel()
                await self._stop_sandbox(sandbox)
            if self._builds.get(name) is asyncio.current_task():
                del self._builds[name]

    async def _go_live(
        self, name: str, live: _Live, runner: asyncio.Future[Any], build_dir: Path
    ) -> None:
        old = self._live.get(name)
        self._live[name] = live
        row = self.store.get_deployment(name)
        if old is not None:
            if old.monitor is not None:
                old.monitor.cancel()
            if old.port == live.port:
                # The listener stays and new connections reach the new sandbox, so the URL
                # never stops answering; requests in flight get a moment to finish.
                retiring = asyncio.ensure_future(self._retire_later(name, old))
                self._retiring.add(retiring)
                retiring.add_done_callback(self._retiring.discard)
            else:  # process isolation picked another port: a brief gap
                await self._retire(name, old)
        preferred = row["host_port"] if row else None
        host_port = await self.bridge.open(route_key(name), live.port, preferred)
        self._route_ports[name] = live.port
        self._set(
            name,
            status="READY",
            last_error=None,
            url=f"http://127.0.0.1:{host_port}/",
            host_port=host_port,
            deployed_at=utc_now(),
        )
        live.monitor = asyncio.ensure_future(self._watch(name, live, runner, build_dir))

    async def _watch(
        self, name: str, live: _Live, runner: asyncio.Future[Any], build_dir: Path
    ) -> None:
        try:
            # Shielded: cancelling this watch (on a redeploy) must not kill the app, which
            # still serves the requests it has until it is retired.
            code, _ = await asyncio.shield(runner)
        except Exception as exc:
            code = f"unknown ({exc})"
        if self._live.get(name) is not live:
            return
        del self._live[name]
        await self._stop_sandbox(live.sandbox)
        app_log = await asyncio.to_thread(read_tail, build_dir / "app.log", SUMMARY_TAIL)
        self._set(
            name,
            status="FAILED",
            last_error=f"The app exited after start (status {code}): {_summary(app_log)}",
        )

    async def _retire_later(self, name: str, live: _Live) -> None:
        """Stop a replaced app once the requests it was serving have finished."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + SWAP_DRAIN_MAX_S
        while self.bridge.connections_to(live.sandbox) and loop.time() < deadline:
            await asyncio.sleep(SWAP_DRAIN_POLL_S)
        await self._retire(name, live, keep_route=True)

    async def _retire(self, name: str, live: _Live, keep_route: bool = False) -> None:
        if live.monitor is not None:
            live.monitor.cancel()
        if not keep_route:
            await self.bridge.close(route_key(name), live.port)
        await self._stop_sandbox(live.sandbox)

    async def _stop_sandbox(self, sandbox: Sandbox) -> None:
        await self.egress.detach(sandbox.spec.computer_id)
        await sandbox.stop()

    # stop / delete / restore ------------------------------------------------------------

    async def stop(self, name: str) -> dict[str, Any]:
        self._row(name)
        build = self._builds.pop(name, None)
        if build is not None:
            build.cancel()
        live = self._live.pop(name, None)
        if live is not None:
            await self._retire(name, live, keep_route=True)
        self._set(name, status="STOPPED")
        return self.read(name)

    async def delete(self, name: str) -> dict[str, Any]:
        record = await self.stop(name)
        port = self._route_ports.pop(name, None)
        if port is not None:
            await self.bridge.close(route_key(name), port)
        self.store.delete_deployment(name)
        await asyncio.to_thread(shutil.rmtree, self.root / name, True)
        record["status"] = "STOPPED"
        return record

    def _newest_build(self, name: str) -> Path | None:
        folder = self.root / name
        if not folder.is_dir():
            return None
        builds = [p for p in folder.iterdir() if (p / "home" / "app").is_dir()]
        return max(builds, key=lambda p: p.stat().st_mtime, default=None)

    def restore(self) -> None:
        """After a server restart, bring back what was running (or being built)."""
        for row in self.store.list_deployments():
            if row["status"] not in ACTIVE_STATUSES:
                continue
            build_dir = self._newest_build(row["name"])
            if build_dir is None:
                self._set(row["name"], status="FAILED", last_error="The app's files are gone.")
                continue
            self._set(row["name"], status="PENDING")
            self._start_build(row["name"], build_dir, row["config"])

    def sandbox_for_route(self, key: str) -> Sandbox | None:
        live = self._live.get(key.removeprefix(ROUTE_PREFIX))
        return live.sandbox if live is not None and live.sandbox.is_alive() else None

    async def shutdown(self) -> None:
        for task in [*self._builds.values(), *self._retiring]:
            task.cancel()
        for name, live in list(self._live.items()):
            with contextlib.suppress(Exception):
                await self._retire(name, live)
        self._live.clear()


def _lay_out_build(bundle: bytes, build_dir: Path, limits: BundleLimits) -> None:
    """The app folder and a copy of the bundle; nothing is left behind on failure."""
    try:
        unpack(bundle, build_dir / "home" / "app", limits)
        (build_dir / "bundle.tar.gz").write_bytes(bundle)
    except BaseException:
        shutil.rmtree(build_dir, ignore_errors=True)
        with contextlib.suppress(OSError):
            build_dir.parent.rmdir()  # only when no other build of this name is there
        raise


def read_tail(path: Path, limit: int) -> str:
    """The last ``limit`` bytes of a log (an app may print gigabytes), with a note when cut."""
    with path.open("rb") as f:
        size = f.seek(0, os.SEEK_END)
        f.seek(max(0, size - limit))
        text = f.read().decode(errors="replace")
    if size <= limit:
        return text
    return f"[... {size - limit} earlier bytes not shown]\n{text}"


def _start_command(app: Path) -> str:
    procfile = app / "Procfile"
    if procfile.exists():
        with procfile.open("rb") as f:
            head = f.read(MAX_PROCFILE).decode(errors="replace")
        for line in head.splitlines():
            if line.startswith("web:"):
                return line.removeprefix("web:").strip()
    for candidate in ("main.py", "app.py"):
        if (app / candidate).exists():
            return f"python3 {candidate}"
    raise _BuildFailed("No start command: add a Procfile with a 'web:' line, main.py or app.py.")


def _launch_command(app: Path, env: dict[str, str], port: int) -> str:
    exports = " ".join(
        f"export {key}={shlex.quote(value)};" for key, value in {**env, "PORT": str(port)}.items()
    )
    venv = "if [ -d .venv ]; then . .venv/bin/activate; fi;"
    return f"cd ~/app && {venv} {exports} exec {_start_command(app)}"


async def _install_requirements(
    sandbox: Sandbox, build_dir: Path, env: dict[str, str], open_net: bool
) -> None:
    if not (build_dir / "home" / "app" / "requirements.txt").exists():
        return
    # --system-site-packages lets what the host already has satisfy requirements; offline,
    # --no-index fails at once instead of retrying an unreachable index.
    offline = "" if open_net else "--no-index "
    code, output = await _run(
        sandbox,
        "cd ~/app && python3 -m venv --system-site-packages .venv && "
        f".venv/bin/pip install --disable-pip-version-check --no-input {offline}"
        "-r requirements.txt",
        BUILD_TIMEOUT_S,
        build_dir / "build.log",
        env,
    )
    if code != 0:
        note = "" if open_net else f" {OFFLINE_NOTE}"
        raise _BuildFailed(
            f"Installing requirements.txt failed (exit {code}): "
            f"{_pip_summary(output).rstrip('.')}.{note}"
        )


async def _run(
    sandbox: Sandbox,
    command: str,
    timeout: float,
    log_path: Path,
    env: dict[str, str] | None = None,
) -> tuple[int, str]:
    chunks: list[str] = []
    code = -1
    with log_path.open("ab") as sink:
        async for event in sandbox.exec(command, timeout, env):
            if isinstance(event, ExecOutput):
                chunks.append(event.data.decode(errors="replace"))
                sink.write(event.data)
                sink.flush()
            elif isinstance(event, ExecExit):
                code = event.exit_code
    return code, "".join(chunks)


async def _wait_http(sandbox: Sandbox, port: int, runner: asyncio.Future[Any]) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + READY_TIMEOUT_S
    while loop.time() < deadline:
        if runner.done():
            code, output = runner.result()
            raise _BuildFailed(f"The app exited during start (status {code}): {_summary(output)}")
        with contextlib.suppress(OSError):
            sock = await sandbox.connect(port)
            sock.setblocking(False)
            reader, writer = await asyncio.open_connection(sock=sock)
            try:
                writer.write(b"GET / HTTP/1.0\r\nHost: localhost\r\n\r\n")
                await writer.drain()
                status = await asyncio.wait_for(reader.readline(), 5)
            finally:
                writer.close()
            if status.startswith(b"HTTP/"):
                return
        await asyncio.sleep(0.2)
    runner.cancel()
    raise _BuildFailed(
        f"The app did not answer HTTP on port {port} within {READY_TIMEOUT_S:.0f} s."
    )


def _retrieve_outcome(done: asyncio.Future[Any]) -> None:
    if not done.cancelled():
        done.exception()  # retrieved: asyncio does not log it as never retrieved


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _one_line(text: str) -> str:
    flat = " ".join(text.split())
    if len(flat) <= ERROR_SUMMARY_CHARS:
        return flat
    return "..." + flat[-(ERROR_SUMMARY_CHARS - 3) :]


def _summary(output: str) -> str:
    """The last line of the app's output (a traceback's exception, a final message)."""
    lines = [line for line in output.splitlines() if line.strip()]
    return _one_line(lines[-1]) if lines else "(no output)"


def _pip_summary(output: str) -> str:
    """pip's last ``ERROR:`` line (the conclusion), else its last line; the whole log stays
    in build.log."""
    errors = [line for line in output.splitlines() if line.startswith("ERROR:")]
    return _one_line(errors[-1]) if errors else _summary(output)
