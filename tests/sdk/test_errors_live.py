"""Every error class, retries and Retry-After, produced by the real local backend."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from celesto_api import (
    AsyncCelesto,
    Celesto,
    CelestoAuthenticationError,
    CelestoConflictError,
    CelestoNetworkError,
    CelestoNotFoundError,
    CelestoPaymentRequiredError,
    CelestoRateLimitError,
    CelestoServerError,
    CelestoValidationError,
)
from tests.waiting import wait_status

from .helpers import closed_loopback_url


def test_not_found(sdk: Celesto) -> None:
    with pytest.raises(CelestoNotFoundError) as caught:
        sdk.computers.get("cmp_does_not_exist")
    error = caught.value
    assert error.status_code == 404
    assert error.request_id
    assert error.message.startswith("Resource not found: ")
    assert "cmp_does_not_exist" in error.message


def test_conflict_on_stopped_computer(sdk: Celesto, running_computer: dict[str, Any]) -> None:
    sdk.computers.stop(running_computer["id"])
    wait_status(sdk, running_computer["id"], "stopped")
    with pytest.raises(CelestoConflictError) as caught:
        sdk.computers.exec(running_computer["name"], "true")
    assert caught.value.status_code == 409
    with pytest.raises(CelestoConflictError):
        sdk.computers.terminal(running_computer["id"])


def test_server_side_validation_envelope(sdk: Celesto) -> None:
    # client.request skips client-side validation, so the server's 422 comes back.
    with pytest.raises(CelestoValidationError) as caught:
        sdk.request("POST", "/v1/computers", json={"vcpus": 17})
    error = caught.value
    assert error.status_code == 422
    assert error.field == "vcpus"
    assert error.message == "Validation error: vcpus must be between 1 and 16 (got 17)"
    assert error.response["detail"] == "Validation error"


def test_server_side_validation_of_exec(sdk: Celesto, running_computer: dict[str, Any]) -> None:
    with pytest.raises(CelestoValidationError) as caught:
        sdk.request(
            "POST",
            f"/v1/computers/{running_computer['id']}/exec",
            json={"command": "x", "timeout": 301},
        )
    assert caught.value.field == "timeout"
    assert "between 1 and 300" in caught.value.message


def test_server_side_validation_of_query(sdk: Celesto) -> None:
    with pytest.raises(CelestoValidationError) as caught:
        sdk.request("GET", "/v1/computers", params={"limit": 0})
    assert caught.value.field == "limit"


def test_wrong_key(local_server: Any) -> None:
    wrong = "definitely-the-wrong-key"
    with (
        Celesto(api_key=wrong, base_url=local_server.base_url) as client,
        pytest.raises(CelestoAuthenticationError) as caught,
    ):
        client.computers.list()
    assert caught.value.status_code == 401
    assert wrong not in str(caught.value) and wrong not in repr(caught.value)


def retries_logged(caplog: pytest.LogCaptureFixture) -> list[str]:
    """The SDK's own account of each retry: "retrying GET /v1/... in 1.00s (...)"."""
    return [
        record.getMessage()
        for record in caplog.records
        if record.name == "celesto_api" and record.getMessage().startswith("retrying ")
    ]


def test_payment_required(sdk: Celesto, local_server: Any) -> None:
    local_server.set_faults("error_rate=1,error_status=402,count=2")
    with pytest.raises(CelestoPaymentRequiredError) as caught:
        sdk.computers.create()
    error = caught.value
    assert (error.status_code, error.code) == (402, "trial_expired")
    assert error.message.startswith("Payment required: ")
    assert "trial has ended" in error.message
    assert error.request_id
    # Not retried: the second fault is still there for the next call.
    with pytest.raises(CelestoPaymentRequiredError):
        sdk.computers.list()
    assert "computers" in sdk.computers.list()


def test_rate_limit_retry_after_is_honoured(
    sdk: Celesto, local_server: Any, caplog: pytest.LogCaptureFixture
) -> None:
    local_server.set_faults("rate_limit=1,retry_after=1,count=1")
    with caplog.at_level(logging.INFO, logger="celesto_api"):
        listing = sdk.computers.list()
    assert "computers" in listing
    assert retries_logged(caplog) == ["retrying GET /v1/computers in 1.00s (attempt 1, HTTP 429)"]


def test_backoff_is_jittered_and_bounded(
    sdk: Celesto, local_server: Any, caplog: pytest.LogCaptureFixture
) -> None:
    local_server.set_faults("error_rate=1,error_status=502,count=2")
    with caplog.at_level(logging.INFO, logger="celesto_api"):
        sdk.computers.list_templates()
    logged = retries_logged(caplog)
    assert len(logged) == 2
    delays = [float(line.split(" in ")[1].split("s ")[0]) for line in logged]
    # Full jitter below an exponential ceiling: 0.5 s, then 1 s.
    assert 0 <= delays[0] <= 0.5 and 0 <= delays[1] <= 1.0


def test_connection_errors_retry_reads_only(caplog: pytest.LogCaptureFixture) -> None:
    with (
        Celesto(api_key="k", base_url=closed_loopback_url(), max_retries=1) as client,
        caplog.at_level(logging.INFO, logger="celesto_api"),
    ):
        with pytest.raises(CelestoNetworkError):
            client.computers.get("cmp_x")
        [line] = retries_logged(caplog)
        assert line.startswith("retrying GET /v1/computers/cmp_x in ")
        assert line.endswith("(attempt 1, ConnectError)")
        caplog.clear()
        for call in (
            lambda: client.computers.exec("cmp_x", "true"),
            lambda: client.computers.stop("cmp_x"),
            lambda: client.computers.delete("cmp_x"),
            lambda: client.computers.publish_port("cmp_x"),
            lambda: client.computers.terminal("cmp_x"),
        ):
            with pytest.raises(CelestoNetworkError):
                call()
        assert retries_logged(caplog) == []


def test_read_timeout_of_a_get_is_retried(
    local_server: Any, caplog: pytest.LogCaptureFixture
) -> None:
    with (
        Celesto(
            api_key=local_server.api_key, base_url=local_server.base_url, timeout=0.5
        ) as client,
        caplog.at_level(logging.INFO, logger="celesto_api"),
    ):
        local_server.set_faults("latency_ms=5000,count=1")
        assert "computers" in client.computers.list()
    [line] = retries_logged(caplog)
    assert line.startswith("retrying GET /v1/computers in ") and "ReadTimeout" in line


def test_rate_limit_error_when_retries_are_off(local_server: Any) -> None:
    with Celesto(
        api_key=local_server.api_key, base_url=local_server.base_url, max_retries=0
    ) as client:
        local_server.set_faults("rate_limit=1,retry_after=2,count=1")
        with pytest.raises(CelestoRateLimitError) as caught:
            client.computers.list()
    assert caught.value.retry_after == 2
    assert caught.value.status_code == 429


def test_get_is_retried_on_503(sdk: Celesto, local_server: Any) -> None:
    local_server.set_faults("error_rate=1,error_status=503,count=2")
    assert "computers" in sdk.computers.list()  # two failures, third attempt succeeds


def test_get_gives_up_after_max_retries(sdk: Celesto, local_server: Any) -> None:
    local_server.set_faults("error_rate=1,error_status=503,count=3")
    with pytest.raises(CelestoServerError) as caught:
        sdk.computers.list()
    assert caught.value.status_code == 503
    assert sdk.computers.list()  # the three faults are used up: exactly 3 attempts


def test_exec_is_never_replayed(
    sdk: Celesto, running_computer: dict[str, Any], local_server: Any
) -> None:
    local_server.set_faults("error_rate=1,error_status=503,count=1")
    with pytest.raises(CelestoServerError):
        # Had the SDK retried, the second attempt would have succeeded.
        sdk.computers.exec(running_computer["id"], "echo ran >> /tmp/runs")
    result = sdk.computers.exec(running_computer["id"], "cat /tmp/runs 2>/dev/null | wc -l")
    assert result["stdout"].strip() == "0"


@pytest.mark.parametrize(
    "call",
    [
        lambda c, cid: c.computers.stop(cid),
        lambda c, cid: c.computers.start(cid),
        lambda c, cid: c.computers.publish_port(cid, 8000),
        lambda c, cid: c.computers.unpublish_port(cid, 8000),
        lambda c, cid: c.computers.bulk_delete([cid]),
        lambda c, cid: c.computers.delete(cid),
        lambda c, cid: c.computers.terminal(cid),
        lambda c, cid: list(c.computers.exec_stream(cid, "echo ran >> /tmp/runs")),
    ],
    ids=[
        "stop",
        "start",
        "publish",
        "unpublish",
        "bulk_delete",
        "delete",
        "terminal",
        "exec_stream",
    ],
)
def test_mutations_are_never_replayed(
    sdk: Celesto,
    running_computer: dict[str, Any],
    local_server: Any,
    call: Any,
    caplog: pytest.LogCaptureFixture,
) -> None:
    local_server.set_faults("error_rate=1,error_status=502,count=1")
    with (
        caplog.at_level(logging.INFO, logger="celesto_api"),
        pytest.raises(CelestoServerError) as caught,
    ):
        call(sdk, running_computer["id"])
    assert caught.value.status_code == 502
    assert retries_logged(caplog) == []
    # Had the call been replayed, the second attempt would have done its work.
    assert sdk.computers.get(running_computer["id"])["status"] == "running"
    assert sdk.computers.list_published_ports(running_computer["id"]) == []
    runs = sdk.computers.exec(running_computer["id"], "cat /tmp/runs 2>/dev/null | wc -l")
    assert runs["stdout"].strip() == "0"
    assert [
        entry["source"]
        for entry in sdk.computers.list_command_history(running_computer["id"])["commands"]
    ] == ["exec"]


def test_create_is_retried_with_its_key(sdk: Celesto, local_server: Any) -> None:
    before = {c["id"] for c in sdk.computers.list(limit=200)["computers"]}
    local_server.set_faults("error_rate=1,error_status=503,count=1")
    created = sdk.computers.create()
    try:
        after = {c["id"] for c in sdk.computers.list(limit=200)["computers"]}
        assert after - before == {created["id"]}
    finally:
        sdk.computers.delete(created["id"])


def test_create_whose_response_was_lost_is_replayed_with_the_same_key(
    sdk: Celesto, local_server: Any
) -> None:
    """The first create does its work and its answer is lost (a 503 after handling): the
    retry must send the same Idempotency-Key, so the server answers with that computer
    instead of making a second one."""
    before = {c["id"] for c in sdk.computers.list(limit=200)["computers"]}
    local_server.set_faults("lost_response=1,error_status=503,count=1")
    created = sdk.computers.create()
    try:
        after = {c["id"] for c in sdk.computers.list(limit=200)["computers"]}
        assert after - before == {created["id"]}
    finally:
        sdk.computers.delete(created["id"])


def test_network_error_on_closed_port() -> None:
    with (
        Celesto(api_key="k", base_url=closed_loopback_url(), max_retries=1) as client,
        pytest.raises(CelestoNetworkError) as caught,
    ):
        client.computers.list()
    assert "Failed to connect" in caught.value.message
    assert caught.value.status_code is None


# --- the same classes through the async client -------------------------------------------


async def test_async_not_found_and_auth(async_sdk: AsyncCelesto, local_server: Any) -> None:
    with pytest.raises(CelestoNotFoundError):
        await async_sdk.computers.get("cmp_nope")
    async with AsyncCelesto(api_key="wrong-key", base_url=local_server.base_url) as bad:
        with pytest.raises(CelestoAuthenticationError):
            await bad.computers.list()


async def test_async_validation_envelope(async_sdk: AsyncCelesto) -> None:
    with pytest.raises(CelestoValidationError) as caught:
        await async_sdk.request("POST", "/v1/computers", json={"ram_mb": 100})
    assert caught.value.field == "ram_mb"
    assert "between 512 and 32768" in caught.value.message


async def test_async_conflict(
    async_sdk: AsyncCelesto, sdk: Celesto, running_computer: dict[str, Any]
) -> None:
    await async_sdk.computers.stop(running_computer["id"])
    wait_status(sdk, running_computer["id"], "stopped")
    with pytest.raises(CelestoConflictError):
        await async_sdk.computers.exec(running_computer["id"], "true")


async def test_async_retries(
    async_sdk: AsyncCelesto, local_server: Any, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="celesto_api"):
        local_server.set_faults("rate_limit=1,retry_after=1,count=1")
        await async_sdk.computers.list_templates()
        assert retries_logged(caplog) == [
            "retrying GET /v1/computers/templates in 1.00s (attempt 1, HTTP 429)"
        ]
        caplog.clear()
        local_server.set_faults("error_rate=1,error_status=504,count=2")
        await async_sdk.computers.list()
        assert len(retries_logged(caplog)) == 2


async def test_async_payment_required(async_sdk: AsyncCelesto, local_server: Any) -> None:
    local_server.set_faults("error_rate=1,error_status=402,count=1")
    with pytest.raises(CelestoPaymentRequiredError) as caught:
        await async_sdk.computers.create()
    assert caught.value.code == "trial_expired"


async def test_async_connection_error_is_retried_for_reads_only(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async with AsyncCelesto(api_key="k", base_url=closed_loopback_url(), max_retries=1) as c:
        with caplog.at_level(logging.INFO, logger="celesto_api"):
            with pytest.raises(CelestoNetworkError):
                await c.computers.list()
            assert len(retries_logged(caplog)) == 1
            caplog.clear()
            with pytest.raises(CelestoNetworkError):
                await c.computers.exec("cmp_x", "true")
            assert retries_logged(caplog) == []


async def test_async_exec_not_replayed(
    async_sdk: AsyncCelesto, running_computer: dict[str, Any], local_server: Any
) -> None:
    local_server.set_faults("error_rate=1,error_status=503,count=1")
    with pytest.raises(CelestoServerError):
        await async_sdk.computers.exec(running_computer["id"], "true")
    with pytest.raises(CelestoServerError):
        local_server.set_faults("error_rate=1,error_status=503,count=1")
        async for _ in async_sdk.computers.exec_stream(running_computer["id"], "true"):
            pass


async def test_async_network_error() -> None:
    async with AsyncCelesto(api_key="k", base_url=closed_loopback_url(), max_retries=0) as c:
        with pytest.raises(CelestoNetworkError):
            await c.computers.list()


def test_no_error_carries_the_key(sdk: Celesto, local_server: Any) -> None:
    """One live error of every class: neither str() nor repr() shows the API key."""
    key = local_server.api_key
    stopped = sdk.computers.create()
    wait_status(sdk, stopped["id"], "running")
    sdk.computers.stop(stopped["id"])
    wait_status(sdk, stopped["id"], "stopped")
    triggers: list[tuple[type[Exception], Any]] = [
        (CelestoValidationError, lambda: sdk.request("GET", "/v1/computers?limit=0")),
        (CelestoNotFoundError, lambda: sdk.computers.get(f"missing-{key}")),
        (CelestoConflictError, lambda: sdk.computers.exec(stopped["id"], "true")),
        (CelestoPaymentRequiredError, lambda: _with_fault("error_rate=1,error_status=402")),
        (CelestoRateLimitError, lambda: _with_fault("rate_limit=1,retry_after=0")),
        (CelestoServerError, lambda: _with_fault("error_rate=1,error_status=500")),
    ]

    def _with_fault(spec: str) -> Any:
        local_server.set_faults(f"{spec},count=1")
        with Celesto(api_key=key, base_url=local_server.base_url, max_retries=0) as once:
            return once.computers.list()

    try:
        for kind, trigger in triggers:
            with pytest.raises(kind) as caught:
                trigger()
            assert key not in str(caught.value) and key not in repr(caught.value), kind
        with (
            Celesto(api_key=key, base_url=closed_loopback_url(), max_retries=0) as offline,
            pytest.raises(CelestoNetworkError) as network,
        ):
            offline.computers.get(f"x-{key}")
        assert key not in str(network.value) and key not in repr(network.value)
    finally:
        sdk.computers.delete(stopped["id"])
