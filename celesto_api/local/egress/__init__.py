"""Egress of computers and deployments: a proxy on each sandbox's own loopback, with the
policy applied on the host (see policy.py, proxy.py, socks.py)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Protocol

from .policy import HOST_ALIAS, EgressPolicy, EgressPolicyError, EgressRefused, Rules
from .proxy import EgressProxy, EgressStats

__all__ = [
    "HOST_ALIAS",
    "PROXY_PORT",
    "EgressHub",
    "EgressPolicy",
    "EgressPolicyError",
    "EgressProxy",
    "EgressRefused",
    "EgressStats",
    "Rules",
    "proxy_env",
]

log = logging.getLogger("celesto_api.local.egress")

# Inside a computer's own network namespace, so every computer can use the same one.
PROXY_PORT = 3128


class Listenable(Protocol):
    async def listen(self, port: int) -> Any: ...


def proxy_env(port: int = PROXY_PORT) -> dict[str, str]:
    """What programs inside read to find the proxy (curl, pip, git, npm, Python, wget).

    ALL_PROXY names the HTTP side too, not ``socks5h://`` (the same port speaks SOCKS5 for
    clients told so): httpx builds a transport for every proxy variable when a client is
    made, and a SOCKS one needs the optional ``socksio``, so plain ``httpx`` (and the SDKs
    built on it) would fail even for http:// URLs."""
    http = f"http://127.0.0.1:{port}"
    env = {
        "HTTP_PROXY": http,
        "HTTPS_PROXY": http,
        "ALL_PROXY": http,
        "NO_PROXY": "localhost,127.0.0.1,::1",
    }
    env.update({key.lower(): value for key, value in env.items()})
    return env


class EgressHub:
    """The running proxies, one per sandbox key (computer id or deployment build)."""

    def __init__(self, policy: EgressPolicy) -> None:
        self.policy = policy
        self._proxies: dict[str, EgressProxy] = {}

    async def attach(self, key: str, sandbox: Listenable, log_path: Path) -> EgressProxy:
        await self.detach(key)
        listener = await sandbox.listen(PROXY_PORT)
        proxy = EgressProxy(listener, self.policy, log_path)
        try:
            await proxy.start()
        except BaseException:
            listener.close()
            raise
        self._proxies[key] = proxy
        return proxy

    async def detach(self, key: str) -> None:
        proxy = self._proxies.pop(key, None)
        if proxy is not None:
            await proxy.close()

    def stats(self, key: str) -> EgressStats | None:
        proxy = self._proxies.get(key)
        return proxy.stats if proxy is not None else None

    async def shutdown(self) -> None:
        for key in list(self._proxies):
            await self.detach(key)
