"""The embedded local backend: the Celesto API on 127.0.0.1, where every computer is a
real sandbox on this machine. Start it with ``celesto-tui local serve`` or in process
with :class:`LocalServer`."""

from .backend import (
    DataDirBusyError,
    LocalBackend,
    LocalConfig,
    RunningServer,
    default_data_dir,
)
from .faults import FaultSpec, FaultSpecError, parse_fault_spec
from .server import LocalServer, serve

__all__ = [
    "DataDirBusyError",
    "FaultSpec",
    "FaultSpecError",
    "LocalBackend",
    "LocalConfig",
    "LocalServer",
    "RunningServer",
    "default_data_dir",
    "parse_fault_spec",
    "serve",
]
