"""httpx, loaded without its optional command-line client.

httpx imports ``httpx._main`` (click, rich, pygments) whenever those happen to be installed.
The SDK must not pull in rich and has no use for that CLI, so the module is hidden while
httpx first loads: ``httpx.main`` becomes httpx's own "install httpx[cli]" stub, and an
explicit ``import httpx._main`` still works afterwards. Every SDK module takes httpx from
here (``from ._bootstrap import httpx``), so whichever of them loads first does this.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def _cli_hidden() -> Iterator[None]:
    if "httpx" in sys.modules or "httpx._main" in sys.modules:
        yield
        return
    sys.modules["httpx._main"] = None  # type: ignore[assignment]
    try:
        yield
    finally:
        if sys.modules.get("httpx._main", 0) is None:
            del sys.modules["httpx._main"]


with _cli_hidden():
    import httpx

__all__ = ["httpx"]
