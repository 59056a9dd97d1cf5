"""The local backend's parts wired together, independent of how it is served."""

from __future__ import annotations

import fcntl
import os
import shutil
import tempfile
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


class DataDirBusyError(RuntimeError):
    pass


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
            raise DataDirBusyError(
                f"Another local Celesto server is using {self.data_dir}. "
                "Stop it or pass another --data-dir."
            ) from None
        return fd

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
        fcntl.flock(self._lock_file, fcntl.LOCK_UN)
        os.close(self._lock_file)
        shutil.rmtree(self.runtime_dir, ignore_errors=True)
