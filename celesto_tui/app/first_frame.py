"""A hook for `benchmarks/startup.py`: note when the first frame was painted, and exit then.

``CELESTO_TUI_STARTUP_PROBE=paint:FILE`` appends ``paint <unix time>`` to FILE after the
first screen refresh and exits; ``live:FILE`` also appends ``live <unix time>`` once the
first poll of computers has answered, and keeps running (the benchmark then presses q).
Unset, nothing happens.
"""

from __future__ import annotations

import os
import time
from typing import NamedTuple

PROBE_ENV = "CELESTO_TUI_STARTUP_PROBE"


class FirstFrameProbe(NamedTuple):  # not a dataclass: ~0.5 ms less before the first frame
    path: str
    exits_at_paint: bool

    @classmethod
    def from_env(cls) -> FirstFrameProbe | None:
        mode, _, path = os.environ.get(PROBE_ENV, "").partition(":")
        if mode not in ("paint", "live") or not path:
            return None
        return cls(path, exits_at_paint=mode == "paint")

    def note(self, event: str) -> None:
        with open(self.path, "a", encoding="utf-8") as out:
            out.write(f"{event} {time.time():.6f}\n")
