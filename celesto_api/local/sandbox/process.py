"""Fallback driver without isolation: the same agent as a plain host process.

Only the working directory, HOME and rlimits differ from the server; the network, the
process table and the filesystem are the host's. Processes are tagged through their
environment (``CELESTO_COMPUTER_ID``) so that stop can find daemons that left the session.
"""

from __future__ import annotations

import asyncio
import contextlib
import getpass
import os
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from .base import Capability, IsolationLevel, SandboxError, SandboxSpec, describe_failure
from .client import AgentClient
from .handle import AgentSandbox, ProcessWatch
from .homedir import prepare_home, remove_home
from .probe import probe
from .runtime import AGENT_SOURCE, RuntimeDir

TAG = "CELESTO_COMPUTER_ID"
START_TIMEOUT = 20.0
STOP_TIMEOUT = 5.0


def tagged_pids(computer_id: str) -> list[int]:
    """Host processes whose environment carries the computer's tag (best effort)."""
    needle = f"{TAG}={computer_id}".encode()
    me = os.getpid()
    found = []
    for name in os.listdir("/proc"):
        if not name.isdigit() or int(name) == me:
            continue
        try:
            with open(f"/proc/{name}/environ", "rb") as f:
                entries = f.read().split(b"\0")
        except OSError:
            continue
        if needle in entries:
            found.append(int(name))
    return found


class ProcessSandbox(AgentSandbox):
    isolation: IsolationLevel = "process"

    def __init__(
        self,
        spec: SandboxSpec,
        limits: dict[str, str],
        client: AgentClient,
        proc: subprocess.Popen[bytes],
        socket_path: Path,
        socket_id: tuple[int, int],
        on_released: Callable[[ProcessSandbox], None],
    ) -> None:
        super().__init__(spec, limits, client)
        self._watch = ProcessWatch(proc)
        self._socket_path = socket_path
        self._socket_id = socket_id
        self._on_released = on_released
        self._stop_lock = asyncio.Lock()
        self._released = False

    @property
    def host_pid(self) -> int:
        return self._watch.proc.pid

    def is_alive(self) -> bool:
        return not self._released and self._watch.alive()

    async def wait(self) -> int:
        """The agent's exit status (negative signal number when killed); leftovers of the
        computer are then killed and its socket released, as by ``stop()``."""
        code = await self._watch.wait()
        await self.stop()
        return code

    async def stop(self) -> None:
        async with self._stop_lock:
            if self._released:
                return
            try:
                self.kill_all()
                try:
                    await asyncio.wait_for(self._watch.wait(), STOP_TIMEOUT)
                except TimeoutError:
                    self._watch.proc.kill()
                    await self._watch.wait()
                # Orphans adopted by init after the agent died may still be starting up.
                for _ in range(5):
                    if not self._kill_tagged():
                        break
                    await asyncio.sleep(0.01)
            finally:
                self.release()

    def kill_all(self) -> None:
        # Only while the agent is unreaped: afterwards its pid (= pgid) may be reused.
        if self._watch.proc.returncode is None:
            with contextlib.suppress(OSError):
                os.killpg(self._watch.proc.pid, signal.SIGKILL)
        self._kill_tagged()

    def _kill_tagged(self) -> bool:
        pids = tagged_pids(self.spec.computer_id)
        for pid in pids:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
        return bool(pids)

    def release(self) -> None:
        if not self._released:
            self._released = True
            self._watch.close()
            RuntimeDir.remove_socket(self._socket_path, self._socket_id)
            self._on_released(self)


class ProcessDriver:
    def __init__(self, runtime_dir: Path, *, capability: Capability | None = None) -> None:
        base = capability if capability is not None else probe()
        reason = base.reason or "process isolation selected"
        self.capability = Capability("process", base.bwrap_path, None, reason, base.details)
        self.runtime = RuntimeDir(runtime_dir)
        self._running: dict[str, ProcessSandbox] = {}
        self._starting: set[str] = set()

    async def start(self, spec: SandboxSpec) -> ProcessSandbox:
        if spec.computer_id in self._starting:
            raise SandboxError(f"computer {spec.computer_id} is already starting")
        self._starting.add(spec.computer_id)
        try:
            return await self._start(spec)
        finally:
            self._starting.discard(spec.computer_id)

    async def _start(self, spec: SandboxSpec) -> ProcessSandbox:
        previous = self._running.get(spec.computer_id)
        if previous is not None:
            if previous.is_alive():
                raise SandboxError(f"computer {spec.computer_id} is already running")
            await previous.stop()
        await asyncio.to_thread(prepare_home, spec.home, None)
        listener, socket_path, socket_id = self.runtime.listen(spec.computer_id)
        env = {
            "PATH": os.environ.get("PATH", "/usr/local/bin:/usr/bin:/bin"),
            "HOME": str(spec.home),
            "USER": getpass.getuser(),
            "LOGNAME": getpass.getuser(),
            "SHELL": "/bin/bash" if os.access("/bin/bash", os.X_OK) else "/bin/sh",
            "LANG": "C.UTF-8",
            TAG: spec.computer_id,
            "AGENT_FD": str(listener.fileno()),
            # RLIMIT_NPROC is not set: outside a user namespace it would count every
            # process of the host user, not this computer's.
            "AGENT_AS_BYTES": str(spec.ram_mb << 20),
        }
        log_fd = self.runtime.open_log(spec.computer_id)
        try:
            proc = subprocess.Popen(
                [sys.executable, "-I", "-S", str(AGENT_SOURCE)],
                stdin=subprocess.DEVNULL,
                stdout=log_fd,
                stderr=log_fd,
                pass_fds=[listener.fileno()],
                env=env,
                cwd=spec.home,
                start_new_session=True,
            )
        except OSError as exc:
            RuntimeDir.remove_socket(socket_path, socket_id)
            raise SandboxError(f"cannot start the agent: {exc}") from exc
        finally:
            listener.close()
            os.close(log_fd)
        limits = {"memory": "rlimit-as", "cpu": "none", "pids": "none", "network": "host"}
        client = AgentClient(os.fspath(socket_path))
        sandbox = ProcessSandbox(spec, limits, client, proc, socket_path, socket_id, self._forget)
        self._running[spec.computer_id] = sandbox
        try:
            await sandbox.client.ping(timeout=START_TIMEOUT)
        except BaseException as exc:
            sandbox.kill_all()
            proc.wait()
            sandbox.release()
            if isinstance(exc, Exception):
                tail = self.runtime.log_tail(spec.computer_id)
                reason = describe_failure(exc, START_TIMEOUT)
                raise SandboxError(f"agent did not start: {reason} {tail}".strip()) from exc
            raise
        return sandbox

    def _forget(self, sandbox: ProcessSandbox) -> None:
        if self._running.get(sandbox.spec.computer_id) is sandbox:
            del self._running[sandbox.spec.computer_id]

    async def destroy_home(self, spec: SandboxSpec) -> None:
        running = self._running.get(spec.computer_id)
        if running is not None:
            await running.stop()
        await asyncio.to_thread(remove_home, spec.home)
