"""The two clients: :class:`Celesto` (blocking) and :class:`AsyncCelesto` (asyncio)."""

from __future__ import annotations

from collections.abc import Mapping
from types import TracebackType
from typing import Any

from ._bootstrap import httpx
from ._calls import AsyncResource, Call, SyncResource
from ._transport import (
    DEFAULT_MAX_RETRIES,
    AsyncTransport,
    RequestSpec,
    SyncTransport,
    TimeoutLike,
)
from .computers import AsyncComputers, Computers
from .config import ClientConfig, resolve_config
from .deployments import AsyncDeployments, AsyncProjects, Deployments, Projects
from .exceptions import CelestoValidationError

__all__ = ["AsyncCelesto", "Celesto"]

_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def _request(
    method: str,
    path: str,
    *,
    params: Mapping[str, str | int] | None = None,
    json: Any = None,
    headers: Mapping[str, str] | None = None,
) -> RequestSpec:
    """Call any endpoint (``path`` starts with ``/v1``) with the client's auth, retries
    and error mapping; returns the decoded JSON."""
    if not path.startswith("/"):
        raise CelestoValidationError(
            f"path must start with '/', e.g. '/v1/computers' (got {path!r})", field="path"
        )
    method = method.upper()
    return RequestSpec(
        method,
        path,
        params=params,
        json=json,
        headers=dict(headers or {}),
        retry_safe=method in _SAFE_METHODS,
    )


def _decoded_json(value: Any) -> Any:
    return value


class _ClientInfo:
    _config: ClientConfig

    @property
    def base_url(self) -> str:
        return self._config.base_url

    @property
    def organization_id(self) -> str | None:
        return self._config.organization_id

    @property
    def profile(self) -> str | None:
        """The config-file profile that supplied settings, if any."""
        return self._config.profile

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(base_url={self.base_url!r}, "
            f"organization_id={self.organization_id!r})"
        )


class _ClientCalls:
    request = Call(_request, _decoded_json)


class Celesto(_ClientInfo, _ClientCalls, SyncResource):
    """Blocking Celesto client.

    ``api_key``, ``base_url`` and ``organization_id`` default to ``CELESTO_API_KEY``,
    ``CELESTO_BASE_URL`` and ``CELESTO_ORGANIZATION_ID``, then to the active profile of the
    config file. ``timeout`` is seconds or an ``httpx.Timeout`` (default: connect 10 s,
    read 120 s); safe requests are retried up to ``max_retries`` times.
    """

    def __init__(
        self,
        api_key: str | None = None,
        base_url: str | None = None,
        organization_id: str | None = None,
        timeout: TimeoutLike = None,
        max_retries: int = DEFAULT_MAX_RETRIES,
        http_client: httpx.Client | None = None,
        *,
        profile: str | None = None,
    ) -> None:
        self._config = resolve_config(api_key, base_url, organization_id, profile)
        self._transport = SyncTransport(
            self._config, timeout=timeout, max_retries=max_retries, http_client=http_client
        )
        self.computers = Computers(self._transport)
        self.deployment = Deployments(self._transport)
        self.deployments = self.deployment
        self.projects = Projects(self._transport)

    def close(self) -> None:
        self._transport.close()

    def __enter__(self) -> Celesto:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


class AsyncCelesto(_ClientInfo, _ClientCalls, AsyncResource):
    """asyncio Celesto client with the same surface as :class:`Celesto`."""

    def __init__(
        self,
        api_key: str | None = None,
        base_url: str | None = None,
        organization_id: str | None = None,
        timeout: TimeoutLike = None,
        max_retries: int = DEFAULT_MAX_RETRIES,
        http_client: httpx.AsyncClient | None = None,
        *,
        profile: str | None = None,
    ) -> None:
        self._config = resolve_config(api_key, base_url, organization_id, profile)
        self._transport = AsyncTransport(
            self._config, timeout=timeout, max_retries=max_retries, http_client=http_client
        )
        self.computers = AsyncComputers(self._transport)
        self.deployment = AsyncDeployments(self._transport)
        self.deployments = self.deployment
        self.projects = AsyncProjects(self._transport)

    async def aclose(self) -> None:
        await self._transport.aclose()

    close = aclose

    async def __aenter__(self) -> AsyncCelesto:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()
