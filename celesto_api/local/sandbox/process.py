"""Fallback driver without isolation: the same agent as a plain host process.

The network, the process table and the filesystem are the host's. Under a root server the
computer still gets its own unprivileged host uid, a private mount and UTS namespace with its
home at /home/user, and its hostname (see ``ProcessLauncher``); under any other user it runs
as that user with its home where it is stored. Processes are tagged through their
environment (``CELESTO_SANDBOX``) and, under root, by uid, so that stop can find daemons
that left the session.
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
from .privdrop import UID_BASE, ProcessLauncher, sandbox_uid
from .probe import probe
from .rootfs import SANDBOX_HOME, agent_python, computer_env, identity_files, sandbox_hostname
from .runtime import RuntimeDir, agent_source, computer_key

TAG = "CELESTO_SANDBOX"
AGENT_ARGV0 = "celesto-agent"
START_TIMEOUT = 20.0
STOP_TIMEOUT = 5.0


def sandbox_tag(spec: SandboxSpec) -> str:
    """Unique on this host, even between two servers that both have a computer ``id``."""
    return computer_key(spec.computer_id, str(spec.home))


def tagged_pids(tag: str) -> list[int]:
    """Host processes whose environment carries the computer's tag (best effort)."""
    needle = f"{TAG}={tag}".encode()
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


def uid_pids(uid: int) -> list[int]:
    """Host processes whose real uid is ``uid``."""
    found = []
    wanted = str(uid)
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/status", "rb") as f:
                for line in f:
                    if line.startswith(b"Uid:"):
                        if line.split()[1].decode() == wanted:
                            found.append(int(name))
                        break
        except OSError:
            continue
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
        host_uid: int | None = None,
    ) -> None:
        super().__init__(spec, limits, client)
        # The computer's own host uid under a root server, else the server's.
        self.host_uid = host_uid if host_uid is not None else os.geteuid()
        self._own_uid = host_uid is not None
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
        pids = tagged_pids(sandbox_tag(self.spec))
        if self._own_uid:  # nothing else runs as this uid, even what cleared its environment
            pids = sorted({*pids, *uid_pids(self.host_uid)})
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
    def __init__(
        self,
        runtime_dir: Path,
        *,
        capability: Capability | None = None,
        uid_base: int = UID_BASE,
    ) -> None:
        base = capability if capability is not None else probe()
        reason = base.reason
        if not reason:
            found = base.details.get("bwrap_description", "bwrap")
            reason = f"--isolation process was chosen ({found} works here)"
        self.capability = Capability("process", base.bwrap_path, None, reason, base.details)
        self.runtime = RuntimeDir(runtime_dir)
        self.uid_base = uid_base
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
        # A root server never runs a computer as root: like bwrap mode, the agent and
        # everything it starts run as the computer's own unprivileged host uid.
        host_uid = sandbox_uid(spec.host_identity, self.uid_base) if os.geteuid() == 0 else None
        python = agent_python(host_uid) if host_uid is not None else None
        if host_uid is not None and python is None:
            raise SandboxError("no Python >= 3.9 that an unprivileged user can run")
        await asyncio.to_thread(prepare_home, spec.home, host_uid)
        launcher: ProcessLauncher | None = None
        if host_uid is not None:
            env = computer_env(spec.hostname)
            env["AGENT_NPROC"] = str(spec.nproc)  # the uid is this computer's alone
            launcher = self._launcher(spec, host_uid)
        else:
            user = getpass.getuser()
            env = computer_env(spec.hostname, home=str(spec.home), user=user)
            env.pop("HOSTNAME")  # no UTS namespace: the host's name is what `hostname` says
        listener, socket_path, socket_id = self.runtime.listen(spec.computer_id)
        env[TAG] = sandbox_tag(spec)
        env["AGENT_FD"] = str(listener.fileno())
        env["AGENT_AS_BYTES"] = str(spec.ram_mb << 20)
        log_fd = self.runtime.open_log(spec.computer_id)
        executable = python.executable if python is not None else sys.executable
        try:
            proc = subprocess.Popen(
                # The source comes on stdin: the agent's file may sit below a directory the
                # computer's uid cannot traverse (a venv under /root).
                # argv[0] names the agent, so `pkill python` and `pkill -f python` miss it.
                [AGENT_ARGV0, "-I", "-S", "-"],
                executable=executable,
                stdin=subprocess.PIPE,
                stdout=log_fd,
                stderr=log_fd,
                pass_fds=[listener.fileno()],
                env=env,
                cwd=spec.home,
                start_new_session=True,
                preexec_fn=launcher,
            )
            assert proc.stdin is not None
            with proc.stdin:
                proc.stdin.write(agent_source())
        except (OSError, subprocess.SubprocessError) as exc:
            RuntimeDir.remove_socket(socket_path, socket_id)
            tail = self.runtime.log_tail(spec.computer_id)
            raise SandboxError(f"cannot start the agent: {exc} {tail}".strip()) from exc
        finally:
            listener.close()
            os.close(log_fd)
        limits = {"memory": "rlimit-as", "cpu": "none", "network": "host"}
        limits["pids"] = "rlimit-nproc" if host_uid is not None else "none"
        client = AgentClient(os.fspath(socket_path))
        sandbox = ProcessSandbox(
            spec, limits, client, proc, socket_path, socket_id, self._forget, host_uid
        )
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

    def _launcher(self, spec: SandboxSpec, host_uid: int) -> ProcessLauncher:
        """Identity files for the computer's private /etc, written where only root reads
        them until they are mounted."""
        self.runtime.ensure()
        key = computer_key(spec.computer_id)
        paths = {}
        for dest, content in identity_files(spec.hostname, host_uid).items():
            if dest in ("/etc/passwd", "/etc/group"):
                path = self.runtime.path / f"{key}{dest.replace('/', '.')}"
                path.write_bytes(content)
                os.chmod(path, 0o644)
                paths[dest] = str(path)
        return ProcessLauncher(
            host_uid,
            str(spec.home),
            sandbox_hostname(spec.hostname),
            paths["/etc/passwd"],
            paths["/etc/group"],
            SANDBOX_HOME,
            spec.tmp_size_mb << 20,
        )

    def _forget(self, sandbox: ProcessSandbox) -> None:
        if self._running.get(sandbox.spec.computer_id) is sandbox:
            del self._running[sandbox.spec.computer_id]

    async def destroy_home(self, spec: SandboxSpec) -> None:
        running = self._running.get(spec.computer_id)
        if running is not None:
            await running.stop()
        await asyncio.to_thread(remove_home, spec.home)
