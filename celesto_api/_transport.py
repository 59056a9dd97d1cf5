"""The one HTTP layer under both clients.

Everything that decides *what* happens is pure and shared: :class:`RequestSpec` describes a
call, :class:`RetryPolicy` says whether and when to try again, :func:`decode_response` turns
a response into a value or an exception, and each call (its retries, a multi-step
:data:`Plan`, a streamed response's error) is a generator of effects (send, read, discard,
wait). :class:`SyncTransport` and :class:`AsyncTransport` only carry those effects out,
blocking or with ``await``.
"""

from __future__ import annotations

import asyncio
import email.utils
import functools
import json
import logging
import random
import time
from collections.abc import AsyncIterator, Callable, Generator, Iterator, Mapping
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from datetime import UTC
from typing import Any, Final, TypeVar

from . import limits
from ._bootstrap import httpx
from .config import ClientConfig
from .exceptions import (
    CelestoAuthenticationError,
    CelestoConflictError,
    CelestoError,
    CelestoNetworkError,
    CelestoNotFoundError,
    CelestoPaymentRequiredError,
    CelestoRateLimitError,
    CelestoServerError,
    CelestoValidationError,
    scrub_secrets,
)

logger = logging.getLogger("celesto_api")

DEFAULT_TIMEOUT: Final = httpx.Timeout(connect=10.0, read=120.0, write=10.0, pool=10.0)
DEFAULT_MAX_RETRIES: Final = 2
SUCCESS_STATUSES: Final = frozenset({200, 201, 204})
RETRYABLE_STATUSES: Final = frozenset({429, 502, 503, 504})
MAX_ERROR_TEXT: Final = 500

TimeoutLike = float | httpx.Timeout | None
FileField = tuple[str, bytes, str]
T = TypeVar("T")


@dataclass(frozen=True)
class RequestSpec:
    """One API call, independent of how it is sent."""

    method: str
    path: str
    params: Mapping[str, str | int] | None = None
    json: Any = None
    data: Mapping[str, str] | None = None
    files: Mapping[str, FileField] | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    # Only calls that cannot do harm when repeated may be retried: reads, and create
    # because it carries an Idempotency-Key.
    retry_safe: bool = False
    # Lower bound for the read timeout (exec waits for the command to finish).
    read_timeout: float | None = None


# A multi-step call written once for both clients: it yields the requests it needs and
# receives their decoded results, or has their CelestoError raised at the yield; the
# transport's `run` drives it.
Plan = Generator[RequestSpec, Any, T]


@dataclass(frozen=True)
class Send:
    """Effect: send ``spec``; answered with the response or the transport error."""

    spec: RequestSpec
    stream: bool = False


@dataclass(frozen=True)
class Discard:
    """Effect: close a response that is not kept (it is about to be retried)."""

    response: httpx.Response


@dataclass(frozen=True)
class Read:
    """Effect: read the rest of a streamed response's body; answered with the transport
    error if that failed, else None."""

    response: httpx.Response


@dataclass(frozen=True)
class Wait:
    """Effect: wait ``seconds`` before the next attempt."""

    seconds: float


Effect = Send | Discard | Read | Wait
Outcome = httpx.Response | httpx.TransportError | None
# A call written once for both clients, as the effects it needs (see `_TransportBase`).
Effects = Generator[Effect, Outcome, T]


def get(path: str, params: Mapping[str, str | int] | None = None) -> RequestSpec:
    return RequestSpec("GET", path, params=params, retry_safe=True)


# --- retries -----------------------------------------------------------------------------


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds from a ``Retry-After`` header (delta-seconds or HTTP date)."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        current = now if now is not None else time.time()
        seconds = when.timestamp() - current
    if seconds != seconds or seconds in (float("inf"), float("-inf")):
        return None
    return max(0.0, seconds)


@dataclass
class RetryPolicy:
    """Exponential backoff with full jitter; a server's ``Retry-After`` wins (capped)."""

    max_retries: int = DEFAULT_MAX_RETRIES
    initial_delay: float = 0.5
    max_delay: float = 8.0
    max_retry_after: float = 30.0
    rng: random.Random = field(default_factory=random.Random)

    def next_delay(
        self,
        spec: RequestSpec,
        attempt: int,
        *,
        status: int | None = None,
        retry_after: float | None = None,
    ) -> float | None:
        """Seconds to wait before retry number ``attempt + 1``, or None to stop.

        ``status`` is None when the request failed at the connection level.
        """
        if not spec.retry_safe or attempt >= self.max_retries:
            return None
        if status is not None and status not in RETRYABLE_STATUSES:
            return None
        if retry_after is not None:
            return min(retry_after, self.max_retry_after)
        ceiling = min(self.max_delay, self.initial_delay * (2**attempt))
        return self.rng.uniform(0.0, ceiling)

    def delay_after_response(
        self, spec: RequestSpec, attempt: int, response: httpx.Response
    ) -> float | None:
        if response.status_code in SUCCESS_STATUSES:
            return None
        return self.next_delay(
            spec,
            attempt,
            status=response.status_code,
            retry_after=parse_retry_after(response.headers.get("retry-after")),
        )


# --- decoding ----------------------------------------------------------------------------


def _text(value: object) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None


def _parse_body(content: bytes) -> Any:
    if not content.strip():
        return None
    try:
        return json.loads(content)
    except (ValueError, UnicodeDecodeError):
        return content.decode("utf-8", errors="replace")


def decode_success(response: httpx.Response) -> Any:
    body = _parse_body(response.content)
    if body is None:
        return {}
    if isinstance(body, str):
        return {"raw_response": body}
    return body


@dataclass
class _ErrorInfo:
    message: str
    code: str | None = None
    field: str | None = None


_RANGE_ERROR_TYPES = frozenset(
    {
        "greater_than",
        "greater_than_equal",
        "less_than",
        "less_than_equal",
        "int_parsing",
        "int_type",
        "int_from_float",
    }
)
_NOT_AN_INTEGER = frozenset({"int_parsing", "int_type", "int_from_float"})
_LENGTH_ERROR_TYPES = frozenset({"string_too_long", "string_too_short"})
_ITEM_COUNT_ERROR_TYPES = frozenset({"too_long", "too_short"})


def _describe_validation_item(item: Mapping[str, Any]) -> tuple[str | None, str]:
    loc = item.get("loc")
    names = [part for part in loc if isinstance(part, str)] if isinstance(loc, list) else []
    names = [name for name in names if name not in ("body", "query", "path", "header")]
    # A nested field is named by its path, e.g. "network_policy.mode".
    field = ".".join(names) if names else None
    name = names[-1] if names else None
    kind = item.get("type")
    got = f" (got {item['input']!r})" if "input" in item else ""
    if field != name:
        message = _text(item.get("msg")) or str(kind or "invalid value")
        return field, f"{field}: {message}{got}"
    if name in limits.NUMERIC_RANGES and kind in _RANGE_ERROR_TYPES:
        low, high = limits.NUMERIC_RANGES[name]
        whole = " an integer" if kind in _NOT_AN_INTEGER else ""
        return name, f"{name} must be{whole} between {low} and {high}{got}"
    if name in limits.LENGTH_RANGES and kind in _LENGTH_ERROR_TYPES:
        low, high = limits.LENGTH_RANGES[name]
        length = item.get("input")
        got = f" (got {len(length)})" if isinstance(length, str) else ""
        return name, f"{name} must be {low} to {high} characters long{got}"
    if name in limits.ITEM_COUNT_RANGES and kind in _ITEM_COUNT_ERROR_TYPES:
        low, high = limits.ITEM_COUNT_RANGES[name]
        items = item.get("input")
        got = f" (got {len(items)})" if isinstance(items, list) else ""
        return name, f"{name} must hold between {low} and {high} items{got}"
    if kind == "missing" and name:
        return name, f"{name} is required"
    message = _text(item.get("msg")) or str(kind or "invalid value")
    return name, f"{name}: {message}" if name else message


def _from_validation_items(items: list[Any], code: str | None) -> _ErrorInfo:
    described = [_describe_validation_item(item) for item in items if isinstance(item, Mapping)]
    if not described:
        return _ErrorInfo(json.dumps(items)[:MAX_ERROR_TEXT], code)
    fields = [name for name, _ in described if name]
    return _ErrorInfo("; ".join(text for _, text in described), code, fields[0] if fields else None)


def _from_detail_object(detail: Mapping[str, Any]) -> _ErrorInfo:
    code = _text(detail.get("error_code")) or _text(detail.get("code"))
    message = _text(detail.get("message")) or _text(detail.get("detail"))
    if message is None:
        extras = [
            f"{key}={value}"
            for key, value in detail.items()
            if key not in ("error_code", "code") and isinstance(value, str | int | float)
        ]
        message = ", ".join([code or "error", *extras]) if extras else code
    return _ErrorInfo(message or json.dumps(detail)[:MAX_ERROR_TEXT], code)


def describe_error_body(body: Any, default: str) -> _ErrorInfo:
    """Pull message, error code and offending field out of every body shape of contract §6."""
    if isinstance(body, Mapping):
        code = _text(body.get("error_code")) or _text(body.get("code"))
        detail = body.get("detail")
        errors = body.get("errors")
        if isinstance(errors, list) and errors:
            return _from_validation_items(errors, code)
        if isinstance(detail, list) and detail:
            return _from_validation_items(detail, code)
        if isinstance(detail, Mapping):
            return _from_detail_object(detail)
        for key in ("detail", "error", "message"):
            text = _text(body.get(key))
            if text:
                return _ErrorInfo(text[:MAX_ERROR_TEXT], code)
        return _ErrorInfo(json.dumps(body)[:MAX_ERROR_TEXT] if body else default, code)
    text = _text(body)
    return _ErrorInfo(text[:MAX_ERROR_TEXT] if text else default)


def error_from_response(
    response: httpx.Response, secrets: tuple[str | None, ...] = (), *, context: str = ""
) -> CelestoError:
    """The SDK exception for a non-success response (its body must have been read).

    ``context`` is prepended to the message, e.g. "Could not attach to the terminal: ".
    """
    status = response.status_code
    body = _parse_body(response.content)
    info = describe_error_body(body, response.reason_phrase or f"HTTP {status}")
    text = scrub_secrets(info.message, secrets)
    common: dict[str, Any] = {
        "status_code": status,
        "code": info.code,
        "request_id": response.headers.get("x-request-id"),
        "response": body,
    }
    if status in (400, 422):
        return CelestoValidationError(
            f"{context}Validation error: {text}", field=info.field, **common
        )
    if status in (401, 403):
        return CelestoAuthenticationError(f"{context}Authentication failed: {text}", **common)
    if status == 402:
        return CelestoPaymentRequiredError(f"{context}Payment required: {text}", **common)
    if status == 404:
        return CelestoNotFoundError(f"{context}Resource not found: {text}", **common)
    if status == 409:
        return CelestoConflictError(f"{context}Conflict: {text}", **common)
    if status == 429:
        retry_after = parse_retry_after(response.headers.get("retry-after"))
        return CelestoRateLimitError(
            f"{context}Rate limit exceeded: {text}", retry_after=retry_after, **common
        )
    if status >= 500:
        return CelestoServerError(f"{context}Server error ({status}): {text}", **common)
    return CelestoServerError(f"{context}Unexpected response ({status}): {text}", **common)


def decode_response(response: httpx.Response, secrets: tuple[str | None, ...] = ()) -> Any:
    """The JSON value of a 200/201/204 response (``{}`` when empty); raise otherwise."""
    if response.status_code in SUCCESS_STATUSES:
        return decode_success(response)
    raise error_from_response(response, secrets)


def network_error(
    spec: RequestSpec, exc: Exception, secrets: tuple[str | None, ...] = ()
) -> CelestoNetworkError:
    where = f"{spec.method} {spec.path}"
    if isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout):
        message = f"Failed to connect to the Celesto API ({where}): {exc}"
    elif isinstance(exc, httpx.TimeoutException):
        message = f"Request timed out ({where}): {type(exc).__name__}"
    else:
        message = f"Network error ({where}): {type(exc).__name__}: {exc}"
    return CelestoNetworkError(scrub_secrets(message, secrets))


# --- transports --------------------------------------------------------------------------


def as_timeout(value: TimeoutLike) -> httpx.Timeout:
    if value is None:
        return DEFAULT_TIMEOUT
    if isinstance(value, httpx.Timeout):
        return value
    return httpx.Timeout(float(value))


class _TransportBase:
    def __init__(
        self,
        config: ClientConfig,
        *,
        timeout: httpx.Timeout,
        max_retries: int,
    ) -> None:
        self.config = config
        self.timeout = timeout
        self.retry = RetryPolicy(max_retries=max(0, max_retries))
        self.secrets: tuple[str | None, ...] = (config.api_key,)
        auth = {"Authorization": f"Bearer {config.api_key}"}
        if config.organization_id:
            auth["X-Current-Organization"] = config.organization_id
        self._auth_headers = auth
        self._headers = {**auth, "Accept": "application/json"}

    @property
    def auth_headers(self) -> dict[str, str]:
        """Credentials every call carries (also the legacy terminal handshake's headers)."""
        return dict(self._auth_headers)

    def _timeout_for(self, spec: RequestSpec) -> httpx.Timeout:
        read = self.timeout.read
        if spec.read_timeout is None or read is None or read >= spec.read_timeout:
            return self.timeout
        return httpx.Timeout(
            connect=self.timeout.connect,
            read=spec.read_timeout,
            write=self.timeout.write,
            pool=self.timeout.pool,
        )

    def _request_args(self, spec: RequestSpec) -> dict[str, Any]:
        headers = {**self._headers, **spec.headers} if spec.headers else self._headers
        return {
            "method": spec.method,
            "url": self.config.base_url + spec.path,
            "params": spec.params,
            "json": spec.json,
            "data": spec.data,
            "files": spec.files,
            "headers": headers,
            "timeout": self._timeout_for(spec),
        }

    def _log_retry(self, spec: RequestSpec, attempt: int, delay: float, why: str) -> None:
        logger.info(
            "retrying %s %s in %.2fs (attempt %d, %s)",
            spec.method,
            spec.path,
            delay,
            attempt + 1,
            why,
        )

    def _network_error(self, spec: RequestSpec, exc: Exception) -> CelestoNetworkError:
        return network_error(spec, exc, self.secrets)

    # --- the calls, without their I/O ---------------------------------------------------
    # Each is a generator of `Effect`s (send this request, discard that response, wait);
    # `SyncTransport._perform` and `AsyncTransport._perform` carry them out and send back
    # what came of them. Everything else, retries, decoding and plan stepping, is here once.

    def _attempts(self, spec: RequestSpec, *, stream: bool = False) -> Effects[httpx.Response]:
        """Send ``spec`` until a response is kept (success, or an error not worth retrying);
        raise the network error once the connection keeps failing."""
        attempt = 0
        while True:
            outcome = yield Send(spec, stream)
            assert outcome is not None  # a Send always has an outcome
            if isinstance(outcome, httpx.TransportError):
                delay = self.retry.next_delay(spec, attempt)
                if delay is None:
                    raise self._network_error(spec, outcome) from outcome
                why = type(outcome).__name__
            else:
                delay = self.retry.delay_after_response(spec, attempt, outcome)
                if delay is None:
                    return outcome
                why = f"HTTP {outcome.status_code}"
                yield Discard(outcome)
            self._log_retry(spec, attempt, delay, why)
            yield Wait(delay)
            attempt += 1

    def _result(self, spec: RequestSpec) -> Effects[Any]:
        """The decoded value of one call (its CelestoError raised)."""
        response = yield from self._attempts(spec)
        return decode_response(response, self.secrets)

    def _check_streamed(self, spec: RequestSpec, response: httpx.Response) -> Effects[None]:
        """Nothing for a successful streamed response; else its body is read and its error
        raised (the response stays the driver's to close)."""
        if response.status_code in SUCCESS_STATUSES:
            return
        failed = yield Read(response)
        if isinstance(failed, httpx.TransportError):
            raise self._network_error(spec, failed) from failed
        raise error_from_response(response, self.secrets)

    def _plan_results(self, plan: Plan[T]) -> Effects[T]:
        """Each request of ``plan`` in turn; a failed one's CelestoError is thrown into the
        plan, which may handle it (else it goes on up)."""
        step: Callable[[], RequestSpec] = plan.__next__
        while True:
            try:
                spec = step()
            except StopIteration as done:
                return done.value  # type: ignore[no-any-return]
            try:
                result = yield from self._result(spec)
            except CelestoError as exc:
                step = functools.partial(plan.throw, exc)
            else:
                step = functools.partial(plan.send, result)


class SyncTransport(_TransportBase):
    """Blocking driver: carries out the calls' effects with ``httpx.Client``."""

    def __init__(
        self,
        config: ClientConfig,
        *,
        timeout: TimeoutLike = None,
        max_retries: int = DEFAULT_MAX_RETRIES,
        http_client: httpx.Client | None = None,
    ) -> None:
        resolved = as_timeout(timeout)
        super().__init__(config, timeout=resolved, max_retries=max_retries)
        self._owns_http = http_client is None
        self.http = http_client or httpx.Client(timeout=resolved, follow_redirects=False)

    def _perform(self, effect: Effect) -> Outcome:
        if isinstance(effect, Send):
            request = self.http.build_request(**self._request_args(effect.spec))
            try:
                return self.http.send(request, stream=effect.stream)
            except httpx.TransportError as exc:
                return exc
        if isinstance(effect, Read):
            try:
                effect.response.read()
            except httpx.TransportError as exc:
                return exc
        elif isinstance(effect, Discard):
            effect.response.close()
        else:
            time.sleep(effect.seconds)
        return None

    def _drive(self, effects: Effects[T]) -> T:
        outcome: Outcome = None
        try:
            while True:
                outcome = self._perform(effects.send(outcome))
        except StopIteration as done:
            return done.value  # type: ignore[no-any-return]

    def request(self, spec: RequestSpec) -> Any:
        return self._drive(self._result(spec))

    def run(self, plan: Plan[T]) -> T:
        return self._drive(self._plan_results(plan))

    @contextmanager
    def stream(self, spec: RequestSpec) -> Iterator[LineStream]:
        """A successful streamed response as lines; errors are raised before yielding."""
        response = self._drive(self._attempts(spec, stream=True))
        try:
            self._drive(self._check_streamed(spec, response))
            yield LineStream(response, lambda exc: self._network_error(spec, exc))
        finally:
            response.close()

    def close(self) -> None:
        if self._owns_http:
            self.http.close()


class AsyncTransport(_TransportBase):
    """asyncio driver: carries out the calls' effects with ``httpx.AsyncClient``."""

    def __init__(
        self,
        config: ClientConfig,
        *,
        timeout: TimeoutLike = None,
        max_retries: int = DEFAULT_MAX_RETRIES,
        http_client: httpx.AsyncClient | None = None,
    ) -> None:
        resolved = as_timeout(timeout)
        super().__init__(config, timeout=resolved, max_retries=max_retries)
        self._owns_http = http_client is None
        self.http = http_client or httpx.AsyncClient(timeout=resolved, follow_redirects=False)

    async def _perform(self, effect: Effect) -> Outcome:
        if isinstance(effect, Send):
            request = self.http.build_request(**self._request_args(effect.spec))
            try:
                return await self.http.send(request, stream=effect.stream)
            except httpx.TransportError as exc:
                return exc
        if isinstance(effect, Read):
            try:
                await effect.response.aread()
            except httpx.TransportError as exc:
                return exc
        elif isinstance(effect, Discard):
            await effect.response.aclose()
        else:
            await asyncio.sleep(effect.seconds)
        return None

    async def _drive(self, effects: Effects[T]) -> T:
        outcome: Outcome = None
        try:
            while True:
                outcome = await self._perform(effects.send(outcome))
        except StopIteration as done:
            return done.value  # type: ignore[no-any-return]

    async def request(self, spec: RequestSpec) -> Any:
        return await self._drive(self._result(spec))

    async def run(self, plan: Plan[T]) -> T:
        return await self._drive(self._plan_results(plan))

    @asynccontextmanager
    async def stream(self, spec: RequestSpec) -> AsyncIterator[AsyncLineStream]:
        """A successful streamed response as lines; errors are raised before yielding."""
        response = await self._drive(self._attempts(spec, stream=True))
        try:
            await self._drive(self._check_streamed(spec, response))
            yield AsyncLineStream(response, lambda exc: self._network_error(spec, exc))
        finally:
            await response.aclose()

    async def aclose(self) -> None:
        if self._owns_http:
            await self.http.aclose()


class _LineStreamBase:
    def __init__(
        self, response: httpx.Response, to_error: Callable[[Exception], CelestoNetworkError]
    ) -> None:
        self.response = response
        self._to_error = to_error

    @property
    def headers(self) -> httpx.Headers:
        return self.response.headers


class LineStream(_LineStreamBase):
    def __iter__(self) -> Iterator[str]:
        try:
            yield from self.response.iter_lines()
        except httpx.TransportError as exc:
            raise self._to_error(exc) from exc


class AsyncLineStream(_LineStreamBase):
    async def __aiter__(self) -> AsyncIterator[str]:
        try:
            async for line in self.response.aiter_lines():
                yield line
        except httpx.TransportError as exc:
            raise self._to_error(exc) from exc
