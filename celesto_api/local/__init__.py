"""The embedded local backend: the Celesto API on 127.0.0.1, where every computer is a
real sandbox on this machine. Start it with ``celesto-tui local serve`` or in process
with :class:`LocalServer`.

The names below are imported on first use: the server pulls in uvicorn, FastAPI and the
sandbox drivers, which the dashboard loads only after painting its first frame.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .backend import DataDirBusyError, LocalBackend, LocalConfig, default_data_dir
    from .faults import FaultSpec, FaultSpecError, parse_fault_spec
    from .server import LocalServer, serve

_HOMES = {
    "DataDirBusyError": "backend",
    "LocalBackend": "backend",
    "LocalConfig": "backend",
    "default_data_dir": "backend",
    "FaultSpec": "faults",
    "FaultSpecError": "faults",
    "parse_fault_spec": "faults",
    "LocalServer": "server",
    "serve": "server",
}

__all__ = [
    "DataDirBusyError",
    "FaultSpec",
    "FaultSpecError",
    "LocalBackend",
    "LocalConfig",
    "LocalServer",
    "default_data_dir",
    "parse_fault_spec",
    "serve",
]


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f".{home}", __name__), name)
