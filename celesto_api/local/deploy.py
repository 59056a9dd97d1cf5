"""Local deployments: a bundle is unpacked into its own sandbox, its requirements are
installed into a virtual environment, the app is started with ``PORT`` set and is
``READY`` once it answers HTTP there, reachable through a published local port."""

from __future__ import annotations

import asyncio
import contextlib
import io
import logging
import shlex
import socket
import tarfile
import uuid
import zipfile
from pathlib import Path
from typing import Any

from .errors import ApiError
from .ports import PortBridge
from .sandbox import ExecExit, ExecOutput, Sandbox, SandboxDriver, SandboxSpec
from .store import LOCAL_ORGANIZATION_ID, LOCAL_USER_ID, Store, utc_now

log = logging.getLogger("celesto_api.local")

APP_PORT = 8080
READY_TIMEOUT_S = 60.0
BUILD_TIMEOUT_S = 600
MAX_NAME_CHARS = 100
LOG_TAIL_CHARS = 2000
FOREVER_S = 10.0**9
ROUTE_PREFIX = "deploy:"


def route_key(name: str) -> str:
    """Published-port routes of deployments live beside computers' under this key."""
    return ROUTE_PREFIX + name


class Deployments:
    def __init__(self, store: Store, driver: SandboxDriver, data_dir: Path, bridge: PortBridge):
        self.store = store
        self.driver = driver
        self.root = data_dir / "deployments"
        self.bridge = bridge
        self._sandboxes: dict[str, Sandbox] = {}
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._app_ports: dict[str, int] = {}

    # wire shapes -------------------------------------------------------------------------

    def read(self, name: str) -> dict[str, Any]:
        row = self.store.get_deployment(name)
        if row is None:
            raise ApiError(404, f"Deployment '{name}' not found.")
        return self._record(row)

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

    # deploy ------------------------------------------------------------------------------

    async def deploy(
        self,
        name: str,
        description: str | None,
        project_id: str,
        config: dict[str, Any],
        bundle: bytes,
    ) -> dict[str, Any]:
        if len(name) > MAX_NAME_CHARS or "/" in name:
            raise ApiError(
                422,
                [
                    {
                        "loc": ["body", "name"],
                        "msg": f"name must be 1-{MAX_NAME_CHARS} characters without '/'",
                        "type": "value_error",
                        "input": name,
                    }
                ],
            )
        files = _open_bundle(bundle)
        env = config.get("env") or {}
        if not isinstance(env, dict):
            raise ApiError(
                422,
                [
                    {
                        "loc": ["body", "config"],
                        "msg": "env must be an object",
                        "type": "value_error",
                        "input": env,
                    }
                ],
            )
        existing = self.store.get_deployment(name)
        deployment_id = str(uuid.uuid4())
        build_dir = self.root / name / deployment_id
        app_dir = build_dir / "home" / "app"
        app_dir.mkdir(parents=True)
        files.extract_to(app_dir)
        (build_dir / "bundle.tar.gz").write_bytes(bundle)
        now = utc_now()
        row = {
            "id": existing["id"] if existing else deployment_id,
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
        self.store.upsert_deployment(row)
        previous = self._tasks.get(name)
        self._tasks[name] = asyncio.ensure_future(
            self._build(name, build_dir, {str(k): str(v) for k, v in env.items()}, previous)
        )
        return self.read(name)

    def _set(self, name: str, **fields: Any) -> None:
        self.store.update_deployment(name, updated_at=utc_now(), **fields)

    async def _build(
        self,
        name: str,
        build_dir: Path,
        env: dict[str, str],
        previous: asyncio.Task[None] | None,
    ) -> None:
        spec = SandboxSpec(
            computer_id=f"dep-{build_dir.name[:12]}",
            hostname=name[:63],
            home=build_dir / "home",
        )
        sandbox: Sandbox | None = None
        try:
            self._set(name, status="BUILDING", last_error=None)
            sandbox = await self.driver.start(spec)
            app = build_dir / "home" / "app"
            if (app / "requirements.txt").exists():
                code, output = await _run(
                    sandbox,
                    "cd ~/app && python3 -m venv --system-site-packages .venv && "
                    ".venv/bin/pip install --disable-pip-version-check --no-input "
                    "-r requirements.txt",
                    BUILD_TIMEOUT_S,
                )
                (build_dir / "build.log").write_text(output)
                if code != 0:
                    raise _BuildFailed(
                        f"Installing requirements.txt failed (exit {code}): {_tail(output)}"
                    )
            command = _start_command(app)
            port = APP_PORT if self.driver.capability.level != "process" else _free_port()
            exports = " ".join(
                f"export {k}={shlex.quote(v)};"
                for k, v in {**env, "PORT": str(port)}.items()
                if k.isidentifier()
            )
            venv = "[ -d .venv ] && . .venv/bin/activate;"
            runner = asyncio.ensure_future(
                _run(
                    sandbox,
                    f"cd ~/app && {venv} {exports} exec {command}",
                    FOREVER_S,
                    build_dir / "app.log",
                )
            )
            await _wait_http(sandbox, port, runner)
            if previous is not None:
                previous.cancel()
            old = self._sandboxes.pop(name, None)
            self._sandboxes[name] = sandbox
            if old is not None:
                await old.stop()
            row = self.store.get_deployment(name)
            old_port = self._app_ports.pop(name, None)
            if old_port is not None:
                await self.bridge.close(route_key(name), old_port)
            host_port = await self.bridge.open(
                route_key(name), port, row["host_port"] if row else None
            )
            self._app_ports[name] = port
            self._set(
                name,
                status="READY",
                url=f"http://127.0.0.1:{host_port}/",
                host_port=host_port,
                deployed_at=utc_now(),
            )
            code, _ = await runner
            self._set(
                name,
                status="FAILED",
                last_error=f"The app exited after start (status {code}): "
                f"{_tail((build_dir / 'app.log').read_text(errors='replace'))}",
            )
        except asyncio.CancelledError:
            raise
        except _BuildFailed as exc:
            self._set(name, status="FAILED", last_error=str(exc))
        except Exception as exc:
            log.warning("deployment %s failed: %s", name, exc)
            self._set(name, status="FAILED", last_error=str(exc))
        finally:
            if sandbox is not None and self._sandboxes.get(name) is not sandbox:
                await sandbox.stop()

    def sandbox_for_route(self, key: str) -> Sandbox | None:
        name = key.removeprefix(ROUTE_PREFIX)
        sandbox = self._sandboxes.get(name)
        return sandbox if sandbox is not None and sandbox.is_alive() else None

    async def shutdown(self) -> None:
        for task in self._tasks.values():
            task.cancel()
        for sandbox in self._sandboxes.values():
            with contextlib.suppress(Exception):
                await sandbox.stop()
        self._sandboxes.clear()


class _BuildFailed(Exception):
    pass


class _Bundle:
    def __init__(self, archive: tarfile.TarFile | zipfile.ZipFile) -> None:
        self.archive = archive

    def extract_to(self, target: Path) -> None:
        if isinstance(self.archive, tarfile.TarFile):
            self.archive.extractall(target, filter="data")
        else:
            for member in self.archive.namelist():
                resolved = (target / member).resolve()
                if not resolved.is_relative_to(target.resolve()):
                    raise ApiError(400, f"Bundle member escapes the app folder: {member}")
            self.archive.extractall(target)


def _open_bundle(data: bytes) -> _Bundle:
    if not data:
        raise ApiError(400, "The code bundle is empty.")
    with contextlib.suppress(tarfile.TarError, EOFError, OSError):
        return _Bundle(tarfile.open(fileobj=io.BytesIO(data), mode="r:*"))
    with contextlib.suppress(zipfile.BadZipFile):
        return _Bundle(zipfile.ZipFile(io.BytesIO(data)))
    raise ApiError(400, "The code bundle is not a tar.gz or zip archive.")


def _start_command(app: Path) -> str:
    procfile = app / "Procfile"
    if procfile.exists():
        for line in procfile.read_text(errors="replace").splitlines():
            if line.startswith("web:"):
                return line.removeprefix("web:").strip()
    for candidate in ("main.py", "app.py"):
        if (app / candidate).exists():
            return f"python3 {candidate}"
    raise _BuildFailed("No start command: add a Procfile with a 'web:' line, main.py or app.py.")


async def _run(
    sandbox: Sandbox, command: str, timeout: float, log_path: Path | None = None
) -> tuple[int, str]:
    chunks: list[str] = []
    code = -1
    sink = log_path.open("ab") if log_path else None
    try:
        async for event in sandbox.exec(command, timeout):
            if isinstance(event, ExecOutput):
                text = event.data.decode(errors="replace")
                chunks.append(text)
                if sink:
                    sink.write(event.data)
                    sink.flush()
            elif isinstance(event, ExecExit):
                code = event.exit_code
    finally:
        if sink:
            sink.close()
    return code, "".join(chunks)


async def _wait_http(sandbox: Sandbox, port: int, runner: asyncio.Future[Any]) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + READY_TIMEOUT_S
    while loop.time() < deadline:
        if runner.done():
            code, output = runner.result()
            raise _BuildFailed(f"The app exited during start (status {code}): {_tail(output)}")
        with contextlib.suppress(OSError):
            sock = await sandbox.connect(port)
            sock.setblocking(False)
            reader, writer = await asyncio.open_connection(sock=sock)
            writer.write(b"GET / HTTP/1.0\r\nHost: localhost\r\n\r\n")
            await writer.drain()
            status = await asyncio.wait_for(reader.readline(), 5)
            writer.close()
            if status.startswith(b"HTTP/"):
                return
        await asyncio.sleep(0.2)
    raise _BuildFailed(
        f"The app did not answer HTTP on port {port} within {READY_TIMEOUT_S:.0f} s."
    )


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _tail(text: str) -> str:
    text = text.strip()
    return text[-LOG_TAIL_CHARS:] if text else "(no output)"
