"""The local backend's parts wired together, independent of how it is served."""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import platformdirs

from .bundle import BundleLimits
from .computers import ComputerService
from .deploy import ROUTE_PREFIX, DeploymentService
from .egress import EgressHub, EgressPolicy, Rules
from .faults import FaultInjector, FaultSpec
from .listen import new_api_key
from .metrics import MetricsSampler
from .ports import PortBridge
from .published_ports import PublishedPorts
from .sandbox import Capability, IsolationChoice, Sandbox, make_driver
from .store import Store
from .terminals import TOKEN_TTL_SECONDS, TerminalService


def default_data_dir() -> Path:
    return Path(platformdirs.user_data_dir("celesto-tui")) / "local"


SERVER_FILE = "server.json"
# A server that holds the lock writes its address once it listens: give it that long.
ANNOUNCE_WAIT_S = 3.0
ANNOUNCE_POLL_S = 0.05


@dataclass(frozen=True)
class RunningServer:
    """Where the server that holds a data dir listens, as it wrote in ``server.json``."""

    base_url: str
    api_key: str = field(repr=False)
    pid: int = 0


class DataDirBusyError(RuntimeError):
    """Another server holds the data dir; ``running`` says how to reach it, when it said."""

    def __init__(self, data_dir: Path, running: RunningServer | None) -> None:
        self.data_dir = data_dir
        self.running = running
        if running is not None:
            where = (
                f"Another local Celesto server is using {data_dir}, at {running.base_url} "
                f"(pid {running.pid}): --local commands with this data dir reach it. "
                "Stop it, or pass another --data-dir for a server of its own."
            )
        else:
            where = (
                f"Another local Celesto server is using {data_dir} and has not said where "
                "it listens. Stop it or pass another --data-dir."
            )
        super().__init__(where)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def read_running_server(data_dir: Path) -> RunningServer | None:
    """The running server's ``server.json`` in ``data_dir``, if it is there, private to this
    user (it holds the API key) and written by a process that is still alive."""
    try:
        fd = os.open(data_dir / SERVER_FILE, os.O_RDONLY | os.O_NOFOLLOW)
    except OSError:
        return None
    with os.fdopen(fd, encoding="utf-8") as file:
        info = os.fstat(file.fileno())
        if info.st_uid != os.geteuid() or info.st_mode & 0o077:
            return None
        try:
            data = json.load(file)
        except ValueError:
            return None
    if not isinstance(data, dict):
        return None
    base_url, api_key, pid = data.get("base_url"), data.get("api_key"), data.get("pid")
    if not (isinstance(base_url, str) and isinstance(api_key, str) and isinstance(pid, int)):
        return None
    if not _pid_alive(pid):
        return None
    return RunningServer(base_url, api_key, pid)


ISOLATION_ENV = "CELESTO_LOCAL_ISOLATION"
ISOLATION_CHOICES: tuple[IsolationChoice, ...] = ("auto", "bwrap", "process")


def default_isolation() -> IsolationChoice:
    """``$CELESTO_LOCAL_ISOLATION`` (how a whole test run is forced into process mode)."""
    wanted = os.environ.get(ISOLATION_ENV, "auto").strip().lower() or "auto"
    for choice in ISOLATION_CHOICES:
        if wanted == choice:
            return choice
    raise ValueError(f"{ISOLATION_ENV} must be one of auto, bwrap, process (got {wanted!r})")


@dataclass
class LocalConfig:
    host: str = "127.0.0.1"
    port: int = 0
    data_dir: Path = field(default_factory=default_data_dir)
    token: str | None = None
    isolation: IsolationChoice = field(default_factory=default_isolation)
    # A bwrap to try before the system's and the bundled one (also $CELESTO_BWRAP).
    bwrap: str | None = None
    faults: FaultSpec = field(default_factory=FaultSpec)
    terminal_token_ttl: float = TOKEN_TTL_SECONDS
    bundle_limits: BundleLimits = field(default_factory=BundleLimits)
    # Egress of "open" computers: host loopback ports reachable as host.celesto.internal,
    # and allow/deny lists of host names and CIDRs.
    host_ports: list[int] = field(default_factory=list)
    egress_allow: list[str] = field(default_factory=list)
    egress_deny: list[str] = field(default_factory=list)


class LocalBackend:
    def __init__(self, config: LocalConfig) -> None:
        self.config = config
        self.api_key = config.token or new_api_key()
        self.data_dir = config.data_dir.expanduser().resolve()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        os.chmod(self.data_dir, 0o700)
        self._announced = False
        self._lock_file = self._lock_data_dir()
        self.runtime_dir = Path(tempfile.mkdtemp(prefix="celesto-"))
        self.driver = make_driver(config.isolation, self.runtime_dir, config.bwrap)
        self.store = Store(self.data_dir / "state.db")
        self.metrics = MetricsSampler()
        self.faults = FaultInjector(config.faults)
        self.bridge = PortBridge(self._route_sandbox, self._route_name, config.host)
        self.egress = EgressHub(
            EgressPolicy(
                allow=Rules.parse(config.egress_allow),
                deny=Rules.parse(config.egress_deny),
                host_ports=frozenset(config.host_ports),
                own_ports=self._own_ports,
            )
        )
        self.computers = ComputerService(
            self.store, self.driver, self.data_dir, self.metrics, self.egress
        )
        self.deployments = DeploymentService(
            self.store,
            self.driver,
            self.data_dir,
            self.bridge,
            self.egress,
            config.bundle_limits,
        )
        self.ports = PublishedPorts(self.store, self.computers, self.bridge)
        self.terminals = TerminalService(self.computers, config.terminal_token_ttl)
        self.base_url = ""

    @property
    def isolation(self) -> str:
        return self.driver.capability.level

    def _own_ports(self) -> set[int]:
        ports = self.bridge.host_ports()
        if self.base_url:
            ports.add(int(self.base_url.rsplit(":", 1)[1]))
        return ports

    @property
    def capability(self) -> Capability:
        return self.driver.capability

    def _route_sandbox(self, key: str) -> Sandbox | None:
        if key.startswith(ROUTE_PREFIX):
            return self.deployments.sandbox_for_route(key)
        return self.computers.sandbox(key)

    def _route_name(self, key: str) -> str:
        if key.startswith(ROUTE_PREFIX):
            return f"deployment {key.removeprefix(ROUTE_PREFIX)}"
        row = self.store.get_computer(key)
        return f"computer {row['name']}" if row else key

    def _lock_data_dir(self) -> int:
        fd = os.open(self.data_dir / ".lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise DataDirBusyError(self.data_dir, self._announced_elsewhere()) from None
        return fd

    def _announced_elsewhere(self) -> RunningServer | None:
        """The lock holder's address; one that just took the lock writes it when it listens."""
        deadline = time.monotonic() + ANNOUNCE_WAIT_S
        while (running := read_running_server(self.data_dir)) is None:
            if time.monotonic() > deadline:
                return None
            time.sleep(ANNOUNCE_POLL_S)
        return running

    def announce(self, base_url: str) -> None:
        """Listening at ``base_url``: say so in ``server.json`` (0600, in the 0700 data dir),
        so ``--local`` commands on this data dir reach this server instead of failing."""
        self.base_url = base_url
        record = {"base_url": base_url, "api_key": self.api_key, "pid": os.getpid()}
        path = self.data_dir / SERVER_FILE
        partial = path.with_name(f".{SERVER_FILE}.{os.getpid()}")
        with contextlib.suppress(FileNotFoundError):
            partial.unlink()
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as file:
            json.dump(record, file)
        os.replace(partial, path)
        self._announced = True

    async def startup(self) -> None:
        self.computers.recover()
        await self.ports.restore()
        self.deployments.restore()
        self.metrics.start()

    async def shutdown(self) -> None:
        await self.terminals.shutdown()
        await self.deployments.shutdown()
        await self.computers.shutdown()
        await self.bridge.shutdown()
        await self.egress.shutdown()
        await self.metrics.stop()
        self.store.close()
        if self._announced:
            with contextlib.suppress(FileNotFoundError):
                (self.data_dir / SERVER_FILE).unlink()
        fcntl.flock(self._lock_file, fcntl.LOCK_UN)
        os.close(self._lock_file)
        shutil.rmtree(self.runtime_dir, ignore_errors=True)
