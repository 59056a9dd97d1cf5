"""URL health probe: HTTP status and latency of a published port or deployment."""

from __future__ import annotations

import time
from dataclasses import dataclass

PROBE_TIMEOUT_S = 5.0


@dataclass(frozen=True)
class ProbeResult:
    url: str
    status: int | None
    latency_ms: float
    error: str = ""

    @property
    def healthy(self) -> bool:
        return self.status is not None and self.status < 400

    def text(self) -> str:
        if self.status is None:
            return f"✖ {self.error}"
        glyph = "●" if self.healthy else "✖"
        import httpx  # the probe that made this result loaded it

        reason = httpx.codes.get_reason_phrase(self.status)
        return f"{glyph} {self.status} {reason} · {self.latency_ms:.0f} ms".replace("  ", " ")


async def probe(url: str, timeout: float = PROBE_TIMEOUT_S) -> ProbeResult:
    """GET ``url`` once (no redirects followed, nothing sent but the request)."""
    import httpx  # with the first probe, not before the dashboard's first frame

    started = time.perf_counter()
    try:
        async with httpx.AsyncClient(timeout=timeout, follow_redirects=False) as client:
            response = await client.get(url)
    except httpx.TimeoutException:
        return ProbeResult(url, None, (time.perf_counter() - started) * 1000, "timed out")
    except httpx.HTTPError as exc:
        reason = type(exc).__name__
        if isinstance(exc, httpx.ConnectError):
            reason = "connection refused or unreachable"
        return ProbeResult(url, None, (time.perf_counter() - started) * 1000, reason)
    return ProbeResult(url, response.status_code, (time.perf_counter() - started) * 1000)
