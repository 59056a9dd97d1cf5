"""Error mapping of every body shape of contract §6 and the retry policy (pure functions)."""

from __future__ import annotations

import email.utils
import random
from typing import Any

import httpx
import pytest

from celesto_api import (
    CelestoAuthenticationError,
    CelestoConflictError,
    CelestoError,
    CelestoNotFoundError,
    CelestoPaymentRequiredError,
    CelestoRateLimitError,
    CelestoServerError,
    CelestoValidationError,
)
from celesto_api._transport import (
    RequestSpec,
    RetryPolicy,
    decode_response,
    error_from_response,
    get,
    parse_retry_after,
)


def response(
    status: int, body: Any = None, *, text: str | None = None, **headers: str
) -> httpx.Response:
    if text is not None:
        return httpx.Response(status, text=text, headers=headers)
    if body is None:
        return httpx.Response(status, headers=headers)
    return httpx.Response(status, json=body, headers=headers)


@pytest.mark.parametrize(
    ("status", "cls", "prefix"),
    [
        (400, CelestoValidationError, "Validation error: "),
        (401, CelestoAuthenticationError, "Authentication failed: "),
        (402, CelestoPaymentRequiredError, "Payment required: "),
        (403, CelestoAuthenticationError, "Authentication failed: "),
        (404, CelestoNotFoundError, "Resource not found: "),
        (409, CelestoConflictError, "Conflict: "),
        (422, CelestoValidationError, "Validation error: "),
        (429, CelestoRateLimitError, "Rate limit exceeded: "),
        (500, CelestoServerError, "Server error (500): "),
        (503, CelestoServerError, "Server error (503): "),
        (202, CelestoServerError, "Unexpected response (202): "),
        (418, CelestoServerError, "Unexpected response (418): "),
    ],
)
def test_status_classes(status: int, cls: type[CelestoError], prefix: str) -> None:
    error = error_from_response(response(status, {"detail": "nope"}, **{"x-request-id": "req-1"}))
    assert type(error) is cls
    assert error.message == f"{prefix}nope"
    assert error.status_code == status
    assert error.request_id == "req-1"
    assert error.response == {"detail": "nope"}
    assert str(error) == f"{prefix}nope (request id: req-1)"


def test_all_errors_share_the_base_class() -> None:
    for cls in (
        CelestoAuthenticationError,
        CelestoValidationError,
        CelestoNotFoundError,
        CelestoRateLimitError,
        CelestoServerError,
        CelestoConflictError,
        CelestoPaymentRequiredError,
    ):
        assert issubclass(cls, CelestoError)


def test_error_code_object() -> None:
    error = error_from_response(
        response(429, {"detail": {"error_code": "concurrency_limit_reached", "running_limit": 3}})
    )
    assert isinstance(error, CelestoRateLimitError)
    assert error.code == "concurrency_limit_reached"
    assert "running_limit=3" in error.message


def test_code_and_message_object() -> None:
    error = error_from_response(
        response(409, {"detail": {"code": "idempotency_conflict", "message": "Key reused"}})
    )
    assert error.code == "idempotency_conflict"
    assert error.message == "Conflict: Key reused"


def test_computer_validation_envelope_names_field_and_range() -> None:
    body = {
        "detail": "Validation error",
        "errors": [
            {
                "loc": ["body", "vcpus"],
                "msg": "Input should be less than or equal to 16",
                "type": "less_than_equal",
                "input": 17,
                "ctx": {"le": 16},
            }
        ],
        "status_code": 422,
    }
    error = error_from_response(response(422, body))
    assert isinstance(error, CelestoValidationError)
    assert error.field == "vcpus"
    assert error.message == "Validation error: vcpus must be between 1 and 16 (got 17)"


@pytest.mark.parametrize(
    ("entry", "field", "message"),
    [
        (
            {
                "loc": ["body", "network_policy", "mode"],
                "msg": "Input should be 'open' or 'off'",
                "type": "literal_error",
                "input": "x",
            },
            "network_policy.mode",
            "network_policy.mode: Input should be 'open' or 'off' (got 'x')",
        ),
        (
            {
                "loc": ["body", "disk_size_mb"],
                "msg": "Input should be a valid integer",
                "type": "int_parsing",
                "input": "2gb",
            },
            "disk_size_mb",
            "disk_size_mb must be an integer between 512 and 20480 (got '2gb')",
        ),
        (
            {
                "loc": ["body", "computer_ids"],
                "msg": "List should have at least 1 item",
                "type": "too_short",
                "input": [],
            },
            "computer_ids",
            "computer_ids must hold between 1 and 100 items (got 0)",
        ),
        (
            {
                "loc": ["body", "computer_ids", 3],
                "msg": "Input should be a valid string",
                "type": "string_type",
                "input": 5,
            },
            "computer_ids",
            "computer_ids: Input should be a valid string",
        ),
    ],
)
def test_validation_entries_are_worded_by_field(
    entry: dict[str, object], field: str, message: str
) -> None:
    body = {"detail": "Validation error", "errors": [entry], "status_code": 422}
    error = error_from_response(response(422, body))
    assert isinstance(error, CelestoValidationError)
    assert (error.field, error.message) == (field, f"Validation error: {message}")


def test_fastapi_validation_list() -> None:
    body = {
        "detail": [
            {
                "loc": ["body", "command"],
                "msg": "String too long",
                "type": "string_too_long",
                "input": "x" * 10_001,
            },
            {"loc": ["body", "name"], "msg": "Field required", "type": "missing"},
            {
                "loc": ["query", "window"],
                "msg": "String should match pattern",
                "type": "string_pattern_mismatch",
            },
        ]
    }
    error = error_from_response(response(422, body))
    assert isinstance(error, CelestoValidationError)
    assert error.field == "command"
    assert error.message == (
        "Validation error: command must be 1 to 10000 characters long (got 10001); "
        "name is required; window: String should match pattern"
    )


@pytest.mark.parametrize(
    ("body", "text", "expected"),
    [
        ({"error": "bad thing"}, None, "bad thing"),
        ({"message": "other thing"}, None, "other thing"),
        (
            {"detail": "Account suspended. Contact support."},
            None,
            "Account suspended. Contact support.",
        ),
        (None, "<html>Bad Gateway</html>", "<html>Bad Gateway</html>"),
        (None, None, "Bad Gateway"),
    ],
)
def test_fallback_shapes(body: Any, text: str | None, expected: str) -> None:
    error = error_from_response(response(502, body, text=text))
    assert error.message == f"Server error (502): {expected}"


def test_non_json_error_text_is_truncated() -> None:
    error = error_from_response(response(500, text="x" * 5000))
    assert len(error.message) < 600


def test_rate_limit_retry_after() -> None:
    error = error_from_response(response(429, {"detail": "slow down"}, **{"retry-after": "7"}))
    assert isinstance(error, CelestoRateLimitError)
    assert error.retry_after == 7


def test_secret_in_error_body_is_scrubbed() -> None:
    error = error_from_response(
        response(401, {"detail": "key sk-live-123456 is revoked"}), ("sk-live-123456",)
    )
    assert "sk-live-123456" not in error.message
    assert "sk-live-123456" not in repr(error)
    assert "***" in error.message


@pytest.mark.parametrize(
    ("status", "body", "text", "expected"),
    [
        (200, {"a": 1}, None, {"a": 1}),
        (201, [1, 2], None, [1, 2]),
        (204, None, None, {}),
        (200, None, "plain", {"raw_response": "plain"}),
        (200, None, "", {}),
    ],
)
def test_success_decoding(status: int, body: Any, text: str | None, expected: Any) -> None:
    assert decode_response(response(status, body, text=text)) == expected


# --- retry policy ----------------------------------------------------------------------------

POST = RequestSpec("POST", "/v1/computers/cmp_x/exec", json={"command": "true"})
CREATE = RequestSpec("POST", "/v1/computers", json={}, retry_safe=True)
GET = get("/v1/computers")


def policy(max_retries: int = 2) -> RetryPolicy:
    return RetryPolicy(max_retries=max_retries, rng=random.Random(7))


@pytest.mark.parametrize("status", [429, 502, 503, 504])
def test_safe_requests_retry_on_retryable_statuses(status: int) -> None:
    for spec in (GET, CREATE):
        delay = policy().next_delay(spec, 0, status=status)
        assert delay is not None and 0 <= delay <= 0.5


@pytest.mark.parametrize("status", [400, 401, 404, 409, 422, 500, 501])
def test_no_retry_on_other_statuses(status: int) -> None:
    assert policy().next_delay(GET, 0, status=status) is None


def test_unsafe_requests_are_never_retried() -> None:
    for status in (None, 429, 503):
        assert policy().next_delay(POST, 0, status=status) is None


def test_connection_errors_retry_safe_requests() -> None:
    assert policy().next_delay(GET, 0) is not None
    assert policy().next_delay(POST, 0) is None


def test_backoff_grows_and_stops_after_max_retries() -> None:
    retry = RetryPolicy(max_retries=5, rng=random.Random(1))
    for attempt, ceiling in enumerate([0.5, 1.0, 2.0, 4.0, 8.0]):
        delays = [retry.next_delay(GET, attempt, status=503) for _ in range(200)]
        assert all(d is not None and 0 <= d <= ceiling for d in delays)
        assert max(d for d in delays if d is not None) > ceiling / 2  # full jitter spreads
    assert retry.next_delay(GET, 5, status=503) is None
    assert RetryPolicy(max_retries=0).next_delay(GET, 0, status=503) is None


def test_retry_after_wins_and_is_capped() -> None:
    assert policy().next_delay(GET, 0, status=429, retry_after=3) == 3
    assert policy().next_delay(GET, 1, status=503, retry_after=0) == 0
    assert policy().next_delay(GET, 0, status=429, retry_after=3600) == 30


def test_parse_retry_after() -> None:
    assert parse_retry_after("5") == 5
    assert parse_retry_after(" 1.5 ") == 1.5
    assert parse_retry_after("-3") == 0
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None
    assert parse_retry_after("nan") is None
    now = 1_700_000_000.0
    date = email.utils.formatdate(now + 12, usegmt=True)
    assert parse_retry_after(date, now=now) == pytest.approx(12, abs=1)
