"""API calls declared once, for both clients.

A resource lists its calls as class attributes::

    class _ComputerCalls:
        get = Call(_get_spec, Computer)

where ``_get_spec(computer_id)`` builds (and validates) the request and carries the call's
signature and docstring. On a `SyncResource` the attribute is a method returning the decoded
result; on an `AsyncResource` the same attribute is a coroutine method. `PlanCall` does the
same for a multi-step `Plan` (a call that needs several requests, or the transport's config).
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Coroutine
from typing import Any, Concatenate, Generic, ParamSpec, TypeVar, overload

from ._transport import AsyncTransport, Plan, RequestSpec, SyncTransport

P = ParamSpec("P")
R = TypeVar("R")
Transport = SyncTransport | AsyncTransport


class SyncResource:
    """A resource of the blocking client: its calls return results."""

    def __init__(self, transport: SyncTransport) -> None:
        self._transport = transport


class AsyncResource:
    """A resource of the asyncio client: its calls return coroutines."""

    def __init__(self, transport: AsyncTransport) -> None:
        self._transport = transport


def _named(
    method: Callable[..., Any], build: Callable[..., Any], name: str, drop_first: bool = False
) -> None:
    """Give ``method`` the name, docstring and signature of the call it makes, returning what
    the call returns (not the request, nor the plan)."""
    functools.update_wrapper(method, build)
    method.__name__ = method.__qualname__ = name
    signature = inspect.signature(build)
    parameters = list(signature.parameters.values())[1 if drop_first else 0 :]
    returns = signature.return_annotation
    if isinstance(returns, str) and returns.startswith("Plan["):
        returns = returns.removeprefix("Plan[").removesuffix("]")
    elif returns in ("RequestSpec", RequestSpec):
        returns = inspect.Signature.empty
    shown = signature.replace(parameters=parameters, return_annotation=returns)
    setattr(method, "__signature__", shown)  # noqa: B010


class Call(Generic[P, R]):
    """One request: ``build(*args, **kwargs)`` makes it, the transport sends it; ``returns``
    is the type of the decoded body (for the type checker only)."""

    def __init__(self, build: Callable[P, RequestSpec], returns: Callable[..., R]) -> None:
        self.build = build
        self.name = build.__name__
        self.__doc__ = build.__doc__

    def __set_name__(self, owner: type[Any], name: str) -> None:
        self.name = name

    @overload
    def __get__(self, resource: None, owner: type[Any]) -> Call[P, R]: ...

    @overload
    def __get__(self, resource: SyncResource, owner: type[Any]) -> Callable[P, R]: ...

    @overload
    def __get__(
        self, resource: AsyncResource, owner: type[Any]
    ) -> Callable[P, Coroutine[Any, Any, R]]: ...

    def __get__(self, resource: SyncResource | AsyncResource | None, owner: type[Any]) -> Any:
        if resource is None:
            return self
        build = self.build
        method: Callable[..., Any]
        if isinstance(resource, AsyncResource):
            async_transport = resource._transport

            async def async_method(*args: P.args, **kwargs: P.kwargs) -> Any:
                return await async_transport.request(build(*args, **kwargs))

            method = async_method
        else:
            sync_transport = resource._transport

            def sync_method(*args: P.args, **kwargs: P.kwargs) -> Any:
                return sync_transport.request(build(*args, **kwargs))

            method = sync_method
        _named(method, build, self.name)
        return method


class PlanCall(Generic[P, R]):
    """A call of several requests: ``plan(transport, *args, **kwargs)`` yields them."""

    def __init__(self, plan: Callable[Concatenate[Transport, P], Plan[R]]) -> None:
        self.plan = plan
        self.name = plan.__name__
        self.__doc__ = plan.__doc__

    def __set_name__(self, owner: type[Any], name: str) -> None:
        self.name = name

    @overload
    def __get__(self, resource: None, owner: type[Any]) -> PlanCall[P, R]: ...

    @overload
    def __get__(self, resource: SyncResource, owner: type[Any]) -> Callable[P, R]: ...

    @overload
    def __get__(
        self, resource: AsyncResource, owner: type[Any]
    ) -> Callable[P, Coroutine[Any, Any, R]]: ...

    def __get__(self, resource: SyncResource | AsyncResource | None, owner: type[Any]) -> Any:
        if resource is None:
            return self
        plan = self.plan
        method: Callable[..., Any]
        if isinstance(resource, AsyncResource):
            async_transport = resource._transport

            async def async_method(*args: P.args, **kwargs: P.kwargs) -> R:
                return await async_transport.run(plan(async_transport, *args, **kwargs))

            method = async_method
        else:
            sync_transport = resource._transport

            def sync_method(*args: P.args, **kwargs: P.kwargs) -> R:
                return sync_transport.run(plan(sync_transport, *args, **kwargs))

            method = sync_method
        _named(method, plan, self.name, drop_first=True)
        return method
