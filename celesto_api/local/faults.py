"""Fault injection: the switch that makes the local server misbehave on purpose.

A spec is a comma-separated list of ``key=value`` pairs, e.g.
``error_rate=0.2,rate_limit=0.05,retry_after=2,latency_ms=50-500,ws_drop=0.01``.
``lost_response=P`` lets the request do its work and then answers ``error_status``
instead of its response (a proxy timing out after the backend acted), which is what
makes a client's retry of a create replay its ``Idempotency-Key``.
``error_status`` is a 5xx, or 402 for a billing refusal (``{"detail": {"error_code":
"trial_expired", ...}}``, the shape the cloud's billing errors have).
``count=N`` limits the faults to the next N eligible requests, which makes
tests deterministic; ``seed=N`` fixes the random draws.
"""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass, replace

ENV_VAR = "CELESTO_LOCAL_FAULTS"
# Statuses `error_status` may take besides 500-599.
OTHER_ERROR_STATUSES = (402,)


class FaultSpecError(ValueError):
    pass


@dataclass(frozen=True)
class FaultSpec:
    error_rate: float = 0.0
    error_status: int = 503
    rate_limit: float = 0.0
    lost_response: float = 0.0
    retry_after: int = 1
    latency_min_ms: int = 0
    latency_max_ms: int = 0
    ws_drop: float = 0.0
    count: int | None = None
    seed: int | None = None

    @property
    def active(self) -> bool:
        busy = self.error_rate or self.rate_limit or self.lost_response
        return bool(busy or self.latency_max_ms or self.ws_drop) and (
            self.count is None or self.count > 0
        )

    def describe(self) -> str:
        parts = []
        for name in ("error_rate", "rate_limit", "lost_response", "ws_drop"):
            value = getattr(self, name)
            if value:
                parts.append(f"{name}={value:g}")
        if self.error_rate or self.lost_response:
            parts.append(f"error_status={self.error_status}")
        if self.rate_limit:
            parts.append(f"retry_after={self.retry_after}")
        if self.latency_max_ms:
            parts.append(f"latency_ms={self.latency_min_ms}-{self.latency_max_ms}")
        if self.count is not None:
            parts.append(f"count={self.count}")
        return ",".join(parts) or "none"


def _probability(key: str, raw: str) -> float:
    try:
        value = float(raw)
    except ValueError:
        raise FaultSpecError(f"{key} must be a number between 0 and 1 (got {raw!r})") from None
    if not 0.0 <= value <= 1.0:
        raise FaultSpecError(f"{key} must be between 0 and 1 (got {raw})")
    return value


def _whole(key: str, raw: str, low: int, high: int) -> int:
    try:
        value = int(raw)
    except ValueError:
        raise FaultSpecError(f"{key} must be a whole number (got {raw!r})") from None
    if not low <= value <= high:
        raise FaultSpecError(f"{key} must be between {low} and {high} (got {value})")
    return value


def _error_status(raw: str) -> int:
    try:
        value = int(raw)
    except ValueError:
        value = -1
    if value in OTHER_ERROR_STATUSES or 500 <= value <= 599:
        return value
    raise FaultSpecError(f"error_status must be 402 or between 500 and 599 (got {raw!r})")


def parse_fault_spec(text: str | None) -> FaultSpec:
    spec = FaultSpec()
    if not text or not text.strip() or text.strip() == "none":
        return spec
    for item in text.split(","):
        item = item.strip()
        if not item:
            continue
        key, sep, raw = item.partition("=")
        key, raw = key.strip(), raw.strip()
        if not sep:
            raise FaultSpecError(f"fault {key!r} needs a value, e.g. {key}=0.1")
        if key == "error_rate":
            spec = replace(spec, error_rate=_probability(key, raw))
        elif key == "rate_limit":
            spec = replace(spec, rate_limit=_probability(key, raw))
        elif key == "lost_response":
            spec = replace(spec, lost_response=_probability(key, raw))
        elif key == "ws_drop":
            spec = replace(spec, ws_drop=_probability(key, raw))
        elif key == "error_status":
            spec = replace(spec, error_status=_error_status(raw))
        elif key == "retry_after":
            spec = replace(spec, retry_after=_whole(key, raw, 0, 3600))
        elif key == "latency_ms":
            low_raw, _, high_raw = raw.partition("-")
            low = _whole(key, low_raw, 0, 60_000)
            high = _whole(key, high_raw, 0, 60_000) if high_raw else low
            if high < low:
                raise FaultSpecError(f"latency_ms range is reversed ({raw})")
            spec = replace(spec, latency_min_ms=low, latency_max_ms=high)
        elif key == "count":
            spec = replace(spec, count=_whole(key, raw, 0, 1_000_000))
        elif key == "seed":
            spec = replace(spec, seed=_whole(key, raw, 0, 2**31))
        else:
            raise FaultSpecError(
                f"unknown fault {key!r}; known: error_rate, error_status, rate_limit, "
                "lost_response, retry_after, latency_ms, ws_drop, count, seed"
            )
    return spec


@dataclass(frozen=True)
class FaultDecision:
    latency_s: float = 0.0
    error_status: int | None = None
    retry_after: int | None = None
    # The request runs; its response is replaced by ``error_status``.
    after_handling: bool = False


class FaultInjector:
    """Thread-safe holder of the current spec; draws one decision per request."""

    def __init__(self, spec: FaultSpec | None = None) -> None:
        self._lock = threading.Lock()
        self._spec = spec or FaultSpec()
        self._random = random.Random(self._spec.seed)

    @property
    def spec(self) -> FaultSpec:
        return self._spec

    def set(self, spec: FaultSpec) -> None:
        with self._lock:
            self._spec = spec
            self._random = random.Random(spec.seed)

    def _consume(self) -> FaultSpec | None:
        spec = self._spec
        if not spec.active:
            return None
        if spec.count is not None:
            self._spec = replace(spec, count=spec.count - 1)
        return spec

    def draw_http(self) -> FaultDecision:
        with self._lock:
            spec = self._consume()
            if spec is None:
                return FaultDecision()
            latency = 0.0
            if spec.latency_max_ms:
                latency = self._random.uniform(spec.latency_min_ms, spec.latency_max_ms) / 1000
            roll = self._random.random()
            if roll < spec.rate_limit:
                return FaultDecision(latency, 429, spec.retry_after)
            if roll < spec.rate_limit + spec.error_rate:
                return FaultDecision(latency, spec.error_status)
            if roll < spec.rate_limit + spec.error_rate + spec.lost_response:
                return FaultDecision(latency, spec.error_status, after_handling=True)
            return FaultDecision(latency)

    def draw_ws_drop(self) -> bool:
        """One draw per WebSocket frame sent to a client."""
        with self._lock:
            spec = self._spec
            if not spec.ws_drop or (spec.count is not None and spec.count <= 0):
                return False
            if self._random.random() >= spec.ws_drop:
                return False
            if spec.count is not None:
                self._spec = replace(spec, count=spec.count - 1)
            return True
