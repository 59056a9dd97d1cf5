"""The blocking and asyncio clients are made from one declaration per call: same calls, same
signatures, a docstring on every one of both."""

from __future__ import annotations

import inspect

import pytest

from celesto_api import AsyncCelesto, Celesto, SyncTerminalSession, TerminalSession

RESOURCES = ("computers", "deployment", "projects")


async def test_both_clients_have_the_same_request_call() -> None:
    sync_client = Celesto(api_key="k", base_url="http://127.0.0.1:9")
    async_client = AsyncCelesto(api_key="k", base_url="http://127.0.0.1:9")
    try:
        sync_call, async_call = sync_client.request, async_client.request
        assert inspect.signature(sync_call) == inspect.signature(async_call)
        assert inspect.getdoc(sync_call) and inspect.getdoc(async_call)
        assert inspect.iscoroutinefunction(async_call)
    finally:
        sync_client.close()
        await async_client.aclose()


def _calls(resource: object) -> dict[str, inspect.Signature]:
    return {
        name: inspect.signature(getattr(resource, name))
        for name in dir(resource)
        if not name.startswith("_") and callable(getattr(resource, name))
    }


@pytest.mark.parametrize("name", RESOURCES)
async def test_both_clients_have_the_same_documented_calls(name: str) -> None:
    sync_client = Celesto(api_key="k", base_url="http://127.0.0.1:9")
    async_client = AsyncCelesto(api_key="k", base_url="http://127.0.0.1:9")
    try:
        sync_resource, async_resource = getattr(sync_client, name), getattr(async_client, name)
        sync_calls, async_calls = _calls(sync_resource), _calls(async_resource)
        assert sync_calls and sync_calls.keys() == async_calls.keys()
        for call, signature in sync_calls.items():
            assert async_calls[call].parameters == signature.parameters, call
            for resource in (sync_resource, async_resource):
                assert inspect.getdoc(getattr(resource, call)), f"{name}.{call} has no docstring"
            if call not in ("exec_stream", "open_terminal"):  # iterators and sessions differ
                assert inspect.iscoroutinefunction(getattr(async_resource, call)), call
    finally:
        sync_client.close()
        await async_client.aclose()


def test_both_terminal_sessions_have_the_same_documented_calls() -> None:
    """The blocking and asyncio sessions share one declaration of every call but ``recv``
    (which takes a timeout only when blocking) and iteration."""
    sync_calls, async_calls = _calls(SyncTerminalSession), _calls(TerminalSession)
    assert sync_calls.keys() == async_calls.keys()
    assert {"connect", "connect_gateway", "connect_legacy", "send", "resize", "detach"} <= set(
        sync_calls
    )
    for call, signature in sync_calls.items():
        if call != "recv":
            assert async_calls[call].parameters == signature.parameters, call
        for session in (SyncTerminalSession, TerminalSession):
            assert inspect.getdoc(getattr(session, call)), f"{session.__name__}.{call}"
