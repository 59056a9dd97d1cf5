"""Real resource samples of running computers (observability endpoint, list metrics)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from .sandbox import Sandbox

log = logging.getLogger("celesto_api.local")

SAMPLE_INTERVAL_S = 5.0
WINDOW_SECONDS = {"1h": 3600, "24h": 86400}
MAX_SAMPLES = WINDOW_SECONDS["24h"] // int(SAMPLE_INTERVAL_S)


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


@dataclass
class _Tracked:
    sandbox: Sandbox
    vcpus: int
    ram_mb: int
    disk_mb: int
    started: float
    last_cpu: float | None = None
    last_time: float | None = None


class MetricsSampler:
    def __init__(self, interval: float = SAMPLE_INTERVAL_S) -> None:
        self.interval = interval
        self._tracked: dict[str, _Tracked] = {}
        self._samples: dict[str, deque[dict[str, Any]]] = {}
        self._task: asyncio.Task[None] | None = None
        self._first_samples: set[asyncio.Task[None]] = set()

    def track(
        self, computer_id: str, sandbox: Sandbox, vcpus: int, ram_mb: int, disk_mb: int
    ) -> None:
        self._tracked[computer_id] = _Tracked(sandbox, vcpus, ram_mb, disk_mb, time.time())
        self._samples.setdefault(computer_id, deque(maxlen=MAX_SAMPLES))
        # A first sample right away, so a new computer shows numbers within a moment.
        with contextlib.suppress(RuntimeError):
            task = asyncio.get_running_loop().create_task(self._sample_one(computer_id))
            self._first_samples.add(task)
            task.add_done_callback(self._first_samples.discard)

    def untrack(self, computer_id: str) -> None:
        self._tracked.pop(computer_id, None)

    def forget(self, computer_id: str) -> None:
        self._tracked.pop(computer_id, None)
        self._samples.pop(computer_id, None)

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._loop())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            for computer_id in list(self._tracked):
                await self._sample_one(computer_id)

    async def _sample_one(self, computer_id: str) -> None:
        tracked = self._tracked.get(computer_id)
        if tracked is None or not tracked.sandbox.is_alive():
            return
        try:
            stats = await tracked.sandbox.stats()
        except Exception as exc:  # a stopping sandbox may not answer; skip this round
            log.debug("stats of %s failed: %s", computer_id, exc)
            return
        now = time.time()
        cpu_percent = 0.0
        if (
            tracked.last_cpu is not None
            and tracked.last_time is not None
            and now > tracked.last_time
        ):
            used = max(0.0, stats.cpu_seconds - tracked.last_cpu)
            cpu_percent = min(100.0, 100.0 * used / (now - tracked.last_time) / tracked.vcpus)
        tracked.last_cpu, tracked.last_time = stats.cpu_seconds, now
        self._samples.setdefault(computer_id, deque(maxlen=MAX_SAMPLES)).append(
            {
                "observed_at": _iso(now),
                "partial": False,
                "stale": False,
                "guest_metrics_status": "ok",
                "host_metrics_status": "ok",
                "guest_cpu_used_percent": round(cpu_percent, 2),
                "guest_ram_used_mb": stats.rss_bytes // (1024 * 1024),
                "guest_ram_total_mb": tracked.ram_mb,
                "guest_disk_used_mb": stats.home_used_bytes // (1024 * 1024),
                "guest_disk_total_mb": tracked.disk_mb,
                "uptime_seconds": int(now - tracked.started),
                "host_cpu_used_percent": round(cpu_percent, 2),
                "host_memory_rss_mb": stats.rss_bytes // (1024 * 1024),
                "process_count": stats.process_count,
                "_ts": now,
            }
        )

    def _public(self, sample: dict[str, Any]) -> dict[str, Any]:
        return {key: value for key, value in sample.items() if not key.startswith("_")}

    def summary(self, computer_id: str) -> dict[str, Any] | None:
        samples = self._samples.get(computer_id)
        if not samples:
            return None
        latest = samples[-1]
        tracked = self._tracked.get(computer_id)
        stale = tracked is None or time.time() - latest["_ts"] > 3 * self.interval
        return {
            "observed_at": latest["observed_at"],
            "stale": stale,
            "partial": False,
            "uptime_seconds": latest["uptime_seconds"],
            "guest_metrics_status": "ok",
            "host_metrics_status": "ok",
            "cpu_used_percent": latest["guest_cpu_used_percent"],
            "ram_used_mb": latest["guest_ram_used_mb"],
            "ram_total_mb": latest["guest_ram_total_mb"],
            "disk_used_mb": latest["guest_disk_used_mb"],
            "disk_total_mb": latest["guest_disk_total_mb"],
        }

    def observability(self, computer_id: str, window: str) -> dict[str, Any]:
        since = time.time() - WINDOW_SECONDS[window]
        samples = [self._public(s) for s in self._samples.get(computer_id, ()) if s["_ts"] >= since]
        return {"latest": self.summary(computer_id), "samples": samples}
