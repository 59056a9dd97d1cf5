"""Import-time preparation that has to happen before the SDK's own modules load."""

from __future__ import annotations

import sys


def import_httpx_without_its_cli() -> None:
    """Load httpx without its optional command-line client.

    httpx imports ``httpx._main`` (click, rich, pygments) whenever those happen to be
    installed. The SDK must not pull in rich and has no use for that CLI, so the module is
    hidden while httpx first loads: ``httpx.main`` becomes httpx's own "install httpx[cli]"
    stub, and an explicit ``import httpx._main`` still works afterwards.
    """
    if "httpx" in sys.modules or "httpx._main" in sys.modules:
        return
    sys.modules["httpx._main"] = None  # type: ignore[assignment]
    try:
        import httpx  # noqa: F401
    finally:
        if sys.modules.get("httpx._main", 0) is None:
            del sys.modules["httpx._main"]


import_httpx_without_its_cli()
