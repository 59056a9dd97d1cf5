"""bubblewrap driver: one long-lived bwrap per running computer, the agent as its PID 1."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import select
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

from .base import (
    Capability,
    IsolationLevel,
    SandboxError,
    SandboxSpec,
    describe_failure,
)
from .cgroups import Cgroups, parse_mode, sweep_stale
from .client import AgentClient, wait_readable
from .handle import AgentSandbox, ProcessWatch
from .homedir import prepare_home, remove_home
from .privdrop import STAGE, UID_BASE, RootLauncher, sandbox_uid
from .probe import probe
from .rootfs import (
    SANDBOX_HOME,
    AgentPython,
    agent_python,
    computer_env,
    identity_files,
    sandbox_hostname,
    usr_args,
)
from .runtime import RuntimeDir, agent_source, computer_key

log = logging.getLogger(__name__)

SANDBOX_AGENT = "/run/celesto/agent.py"
AGENT_ARGV0 = "celesto-agent"
START_TIMEOUT = 20.0
STOP_TIMEOUT = 5.0
# How long a failed start waits for bwrap to name the sandbox's PID 1 before killing.
ABORT_PID1_WAIT = 2.0


class BwrapSandbox(AgentSandbox):
    isolation: IsolationLevel = "bwrap"

    def __init__(
        self,
        spec: SandboxSpec,
        limits: dict[str, str],
        client: AgentClient,
        *,
        proc: subprocess.Popen[bytes],
        socket_path: Path,
        socket_id: tuple[int, int],
        cgroups: Cgroups | None,
        host_uid: int | None,
        status_fd: int,
        on_released: Callable[[BwrapSandbox], None],
    ) -> None:
        super().__init__(spec, limits, client)
        self.host_uid = host_uid if host_uid is not None else os.geteuid()
        self.host_pid: int | None = None  # host pid of the sandbox's PID 1 (the agent)
        self.cgroups = cgroups
        self._watch = ProcessWatch(proc)
        self._socket_path = socket_path
        self._socket_id = socket_id
        self._status_fd = status_fd
        self._pid1_fd = -1
        self._status_buf = b""
        self._on_released = on_released
        self._stop_lock = asyncio.Lock()
        self._released = False
        self._cgroups_removed = False

    def is_alive(self) -> bool:
        return not self._released and self._watch.alive()

    async def wait(self) -> int:
        """bwrap's exit status (128+signal of the agent when it was killed). Once the sandbox
        has ended its resources (socket, cgroups) are released as by ``stop()``."""
        code = await self._watch.wait()
        await self.stop()
        return code

    async def stop(self) -> None:
        async with self._stop_lock:
            if not self._released:
                try:
                    if self._watch.alive():
                        self._kill_pid1()
                        try:
                            await asyncio.wait_for(self._watch.wait(), STOP_TIMEOUT)
                        except TimeoutError:
                            self._watch.proc.kill()
                            await self._watch.wait()
                finally:
                    self._release_fds()
            if self.cgroups is not None and not self._cgroups_removed:
                self._cgroups_removed = await self.cgroups.remove()
                if not self._cgroups_removed:
                    log.warning("could not remove cgroups %s", self.cgroups.dirs)

    async def learn_pid1(self, timeout: float) -> int:
        """Read ``child-pid`` from bwrap's --json-status-fd and pin it with a pidfd."""
        async with asyncio.timeout(timeout):
            while self.host_pid is None:
                await wait_readable([self._status_fd])
                self._read_status()
        return self.host_pid

    def _read_status(self) -> None:
        """Take what bwrap wrote on the status fd; learn PID 1 once ``child-pid`` is whole."""
        try:
            chunk = os.read(self._status_fd, 4096)
        except BlockingIOError:
            return
        if not chunk:
            raise SandboxError("bwrap exited during setup")
        self._status_buf += chunk
        try:
            text = self._status_buf.decode(errors="replace").lstrip()
            status, _ = json.JSONDecoder().raw_decode(text)
        except ValueError:
            return
        if not (isinstance(status, dict) and "child-pid" in status):
            return
        self.host_pid = int(status["child-pid"])
        try:
            self._pid1_fd = os.pidfd_open(self.host_pid)
        except OSError:
            self._pid1_fd = -1

    def _learn_pid1_now(self, timeout: float) -> None:
        """Blocking `learn_pid1` for `abort`: killing bwrap before it has armed
        --die-with-parent in its child would leave that child (the agent) running."""
        deadline = time.monotonic() + timeout
        while self.host_pid is None and self._status_fd >= 0:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self._status_fd], [], [], left)[0]:
                return
            try:
                self._read_status()
            except SandboxError:
                return  # bwrap is gone; if its child outlived it, `child-pid` never came

    def _kill_pid1(self) -> None:
        # SIGKILL on a PID namespace's init takes the whole namespace down.
        try:
            if self._pid1_fd >= 0:
                signal.pidfd_send_signal(self._pid1_fd, signal.SIGKILL)
            elif self.host_pid is not None:
                os.kill(self.host_pid, signal.SIGKILL)
            else:
                self._watch.proc.kill()
        except ProcessLookupError:
            pass

    def abort(self) -> None:
        """Synchronous teardown for a failed (or cancelled) start."""
        self._learn_pid1_now(ABORT_PID1_WAIT)
        self._kill_pid1()
        self._watch.proc.kill()
        try:
            self._watch.proc.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            log.warning("bwrap %d did not exit after SIGKILL", self._watch.proc.pid)
        self._release_fds()
        if self.cgroups is not None:
            for _ in range(100):
                if self.cgroups.remove_now():
                    self._cgroups_removed = True
                    break
                time.sleep(0.01)

    def _release_fds(self) -> None:
        if self._released:
            return
        self._released = True
        self._watch.close()
        for fd in (self._pid1_fd, self._status_fd):
            if fd >= 0:
                os.close(fd)
        self._pid1_fd = self._status_fd = -1
        RuntimeDir.remove_socket(self._socket_path, self._socket_id)
        self._on_released(self)


class BwrapDriver:
    """Starts computers in bubblewrap. ``runtime_dir`` holds the agent sockets and launcher
    logs and must be short (AF_UNIX paths are limited to 107 bytes)."""

    def __init__(
        self,
        runtime_dir: Path,
        *,
        capability: Capability | None = None,
        use_cgroups: bool = True,
        uid_base: int = UID_BASE,
    ) -> None:
        self.capability = capability if capability is not None else probe()
        self.runtime = RuntimeDir(runtime_dir)
        self.use_cgroups = use_cgroups
        self.uid_base = uid_base
        self._running: dict[str, BwrapSandbox] = {}
        self._starting: set[str] = set()
        mode = parse_mode(self.capability.cgroups)
        if use_cgroups and os.geteuid() == 0 and mode is not None:
            sweep_stale(mode)

    async def start(self, spec: SandboxSpec) -> BwrapSandbox:
        bwrap = self.capability.bwrap_path
        if self.capability.level != "bwrap" or bwrap is None:
            raise SandboxError(f"bubblewrap is not usable: {self.capability.reason}")
        if spec.computer_id in self._starting:
            raise SandboxError(f"computer {spec.computer_id} is already starting")
        self._starting.add(spec.computer_id)
        try:
            return await self._start(bwrap, spec)
        finally:
            self._starting.discard(spec.computer_id)

    async def _start(self, bwrap: str, spec: SandboxSpec) -> BwrapSandbox:
        previous = self._running.get(spec.computer_id)
        if previous is not None:
            if previous.is_alive():
                raise SandboxError(f"computer {spec.computer_id} is already running")
            await previous.stop()
        host_uid = sandbox_uid(spec.host_identity, self.uid_base) if os.geteuid() == 0 else None
        python = agent_python(host_uid)
        if python is None:
            raise SandboxError("no Python >= 3.9 that the sandbox can run")
        await asyncio.to_thread(prepare_home, spec.home, host_uid)

        cgroups = self._make_cgroups(spec) if host_uid is not None else None
        env = {**computer_env(spec.hostname), **spec.env}
        if cgroups is not None:
            limits = {"memory": "cgroup", "cpu": "cgroup", "pids": "cgroup"}
        else:
            # Set inside the sandbox's user namespace, RLIMIT_NPROC counts only this computer.
            env["AGENT_NPROC"] = str(spec.nproc)
            env["AGENT_AS_BYTES"] = str(spec.ram_mb << 20)
            limits = {"memory": "rlimit-as", "cpu": "none", "pids": "rlimit-nproc"}
        # Always a loopback-only namespace; "open" reaches out through the egress proxy.
        limits["network"] = "proxy" if spec.network == "open" else "loopback"
        try:
            launched = self._launch(bwrap, python, spec, env, cgroups, host_uid)
        except BaseException:
            if cgroups is not None:
                cgroups.remove_now()
            raise
        proc, status_r, socket_path, socket_id = launched
        sandbox = BwrapSandbox(
            spec,
            limits,
            AgentClient(os.fspath(socket_path)),
            proc=proc,
            socket_path=socket_path,
            socket_id=socket_id,
            cgroups=cgroups,
            host_uid=host_uid,
            status_fd=status_r,
            on_released=self._forget,
        )
        self._running[spec.computer_id] = sandbox
        try:
            await sandbox.learn_pid1(START_TIMEOUT)
            await sandbox.client.ping(timeout=START_TIMEOUT)
        except BaseException as exc:
            sandbox.abort()
            if isinstance(exc, Exception):
                tail = self.runtime.log_tail(spec.computer_id)
                reason = describe_failure(exc, START_TIMEOUT)
                raise SandboxError(f"sandbox did not start: {reason} {tail}".strip()) from exc
            raise
        return sandbox

    def _launch(
        self,
        bwrap: str,
        python: AgentPython,
        spec: SandboxSpec,
        env: dict[str, str],
        cgroups: Cgroups | None,
        host_uid: int | None,
    ) -> tuple[subprocess.Popen[bytes], int, Path, tuple[int, int]]:
        """Spawn bwrap; returns it with the status pipe's read end and the agent socket."""
        listener, socket_path, socket_id = self.runtime.listen(spec.computer_id)
        status_r, status_w = os.pipe()
        child_fds = [status_w]
        try:
            os.set_blocking(status_r, False)
            log_fd = self.runtime.open_log(spec.computer_id)
            child_fds.append(log_fd)
            files = identity_files(sandbox_hostname(spec.hostname))
            files[SANDBOX_AGENT] = agent_source()
            data_fds = {}
            for dest, content in files.items():
                data_fds[dest] = _memfd(dest, content)
                child_fds.append(data_fds[dest])
            env = {**env, "AGENT_FD": str(listener.fileno())}
            home = STAGE if host_uid is not None else str(spec.home)
            # Named so that `pkill python` / `pkill -f python` inside do not match it.
            named = supports_argv0(self.capability.details.get("bwrap_version", ""))
            argv = bwrap_argv(
                bwrap, python, spec, env, data_fds, status_w, home, AGENT_ARGV0 if named else None
            )
            launcher = None
            if host_uid is not None:
                procs = cgroups.procs_files if cgroups is not None else []
                launcher = RootLauncher(host_uid, procs, str(spec.home))
            proc = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=log_fd,
                stderr=log_fd,
                pass_fds=[listener.fileno(), *child_fds],
                preexec_fn=launcher,
                env={"PATH": env["PATH"]},
                cwd="/",
                # Out of the server's process group: a Ctrl-C in the server's terminal
                # must not kill the sandboxes before the server stops them cleanly.
                start_new_session=True,
            )
        except BaseException as exc:
            os.close(status_r)
            RuntimeDir.remove_socket(socket_path, socket_id)
            if isinstance(exc, (OSError, subprocess.SubprocessError)):
                tail = self.runtime.log_tail(spec.computer_id)
                raise SandboxError(f"cannot launch bwrap: {exc} {tail}".strip()) from exc
            raise
        finally:
            listener.close()
            for fd in child_fds:
                os.close(fd)
        return proc, status_r, socket_path, socket_id

    def _make_cgroups(self, spec: SandboxSpec) -> Cgroups | None:
        mode = parse_mode(self.capability.cgroups)
        if not self.use_cgroups or mode is None:
            return None
        try:
            return Cgroups.create(mode, computer_key(spec.computer_id, str(spec.home)), spec)
        except OSError as exc:
            log.warning("cgroups unavailable for %s, using rlimits: %s", spec.computer_id, exc)
            return None

    def _forget(self, sandbox: BwrapSandbox) -> None:
        if self._running.get(sandbox.spec.computer_id) is sandbox:
            del self._running[sandbox.spec.computer_id]

    async def destroy_home(self, spec: SandboxSpec) -> None:
        running = self._running.get(spec.computer_id)
        if running is not None:
            await running.stop()
        await asyncio.to_thread(remove_home, spec.home)


def supports_argv0(version: str) -> bool:
    """bwrap learnt --argv0 in 0.9.0."""
    try:
        return tuple(int(part) for part in version.split(".")[:2]) >= (0, 9)
    except ValueError:
        return False


def bwrap_argv(
    bwrap: str,
    python: AgentPython,
    spec: SandboxSpec,
    env: dict[str, str],
    data_fds: dict[str, int],
    status_fd: int,
    home: str,
    argv0: str | None = None,
) -> list[str]:
    return [
        bwrap,
        *usr_args(),
        "--ro-bind", "/etc", "/etc",
        *[arg for dest, fd in data_fds.items() for arg in ("--ro-bind-data", str(fd), dest)],
        *(["--ro-bind", python.extra_bind, python.extra_bind] if python.extra_bind else []),
        "--proc", "/proc",
        "--dev", "/dev",
        *_tmpfs_args(spec.tmp_size_mb << 20),
        "--bind", home, SANDBOX_HOME,
        # Without this the sandbox user could fill bwrap's root tmpfs (host RAM).
        "--remount-ro", "/",
        "--unshare-all",
        "--hostname", sandbox_hostname(spec.hostname),
        "--uid", "1000",
        "--gid", "1000",
        "--unshare-user",
        "--disable-userns",
        "--new-session",
        # The agent as PID 1 survives `kill -9 -1` from inside and reaps orphans itself.
        "--as-pid-1",
        "--die-with-parent",
        "--json-status-fd", str(status_fd),
        "--clearenv",
        *[arg for key, value in env.items() for arg in ("--setenv", key, value)],
        "--chdir", SANDBOX_HOME,
        *(["--argv0", argv0] if argv0 else []),
        "--", python.executable, "-I", "-S", SANDBOX_AGENT,
    ]  # fmt: skip


def _tmpfs_args(size: int) -> list[str]:
    args: list[str] = []
    for path in ("/tmp", "/var/tmp", "/dev/shm"):
        args += ["--size", str(size), "--perms", "1777", "--tmpfs", path]
    return args


def _memfd(name: str, content: bytes) -> int:
    """An fd bwrap can read ``content`` from (for --ro-bind-data)."""
    fd = os.memfd_create(name.replace("/", "_"), os.MFD_CLOEXEC)
    view = memoryview(content)
    while view:
        view = view[os.write(fd, view) :]
    os.lseek(fd, 0, os.SEEK_SET)
    return fd
