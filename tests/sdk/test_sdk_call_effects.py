"""A call as the effects it needs (send, discard, wait), stepped by hand without a socket:
the retry loop and the plan stepping both clients share. The live tests (test_errors_live.py)
prove the same through the real server's fault switch."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from celesto_api import CelestoNetworkError, CelestoNotFoundError, CelestoServerError
from celesto_api._transport import (
    Discard,
    Effects,
    Outcome,
    Plan,
    Read,
    RequestSpec,
    Send,
    SyncTransport,
    Wait,
    get,
)
from celesto_api.config import ClientConfig


@pytest.fixture
def transport() -> Iterator[SyncTransport]:
    made = SyncTransport(ClientConfig(api_key="k", base_url="http://127.0.0.1:9"), max_retries=2)
    try:
        yield made
    finally:
        made.close()


def step(effects: Effects[Any], outcomes: list[Outcome]) -> tuple[list[object], Any]:
    """Answer each effect with the next outcome (None for discard and wait); the effects seen
    and the call's value."""
    seen: list[object] = []
    answer: Outcome = None
    try:
        while True:
            effect = effects.send(answer)
            seen.append(effect)
            answer = outcomes.pop(0) if isinstance(effect, Send) else None
    except StopIteration as done:
        return seen, done.value


def test_a_safe_call_answered_503_is_discarded_waited_on_and_sent_again(
    transport: SyncTransport,
) -> None:
    busy = httpx.Response(503, headers={"retry-after": "1"})
    seen, value = step(transport._result(get("/v1/x")), [busy, httpx.Response(200, json=[1])])
    assert [type(effect) for effect in seen] == [Send, Discard, Wait, Send]
    assert seen[1] == Discard(busy) and seen[2] == Wait(1.0)
    assert value == [1]


def test_an_unsafe_call_is_not_retried(transport: SyncTransport) -> None:
    effects = transport._result(RequestSpec("POST", "/v1/x"))
    with pytest.raises(CelestoServerError):
        step(effects, [httpx.Response(503)])


def test_connection_errors_give_up_after_the_last_retry(transport: SyncTransport) -> None:
    refused = httpx.ConnectError("refused")
    effects = transport._result(get("/v1/x"))
    with pytest.raises(CelestoNetworkError, match="Failed to connect"):
        step(effects, [refused, refused, refused])


def _lookup_then_fallback() -> Plan[str]:
    try:
        yield get("/v1/first")
    except CelestoNotFoundError:
        found = yield get("/v1/second")
        return str(found["name"])
    return "first"


def test_a_plan_handles_the_error_thrown_into_it(transport: SyncTransport) -> None:
    missing = httpx.Response(404, json={"detail": "no such thing"})
    seen, value = step(
        transport._plan_results(_lookup_then_fallback()),
        [missing, httpx.Response(200, json={"name": "second"})],
    )
    assert [effect.spec.path for effect in seen if isinstance(effect, Send)] == [
        "/v1/first",
        "/v1/second",
    ]
    assert value == "second"


def test_an_error_the_plan_does_not_handle_goes_on_up(transport: SyncTransport) -> None:
    def plan() -> Plan[None]:
        yield get("/v1/first")

    with pytest.raises(CelestoNotFoundError):
        step(transport._plan_results(plan()), [httpx.Response(404)])


def test_a_streamed_error_is_read_then_raised(transport: SyncTransport) -> None:
    missing = httpx.Response(404, json={"detail": "no such computer"})
    effects = transport._check_streamed(get("/v1/x"), missing)
    assert effects.send(None) == Read(missing)
    with pytest.raises(CelestoNotFoundError, match="no such computer"):
        effects.send(None)
    assert step(transport._check_streamed(get("/v1/x"), httpx.Response(200)), []) == ([], None)
