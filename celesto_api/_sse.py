"""Decoder for the ``exec/stream`` body (contract §2.9).

The wire format is SSE with one JSON object per ``data:`` line, but the official clients
tolerate more and so do we: ``[DONE]``, ``:`` comments, missing blank lines between events,
bare NDJSON lines, older event shapes (``{"stdout": …}``, ``{"stream": "stderr", …}``,
``exit_code`` as a numeric string) and non-JSON lines, which become stdout text.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, cast

from . import limits
from .exceptions import CelestoConflictError, CelestoNetworkError, CelestoServerError
from .types import ExecEvent

_INVALID = object()
_SSE_FIELDS = ("event", "id", "retry")


def _loads(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return _INVALID


def _as_exit_code(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value.strip())
    return None


class ExecStreamDecoder:
    """Feed it the body line by line; it returns the events each line completes."""

    def __init__(self, command_id: str | None = None) -> None:
        self._command_id = command_id  # from the x-celesto-command-id header
        self._pending: list[str] = []
        self._pending_chars = 0
        self.finished = False  # the exit event was seen

    def feed(self, line: str) -> list[ExecEvent]:
        if self.finished:
            return []
        line = line.rstrip("\r")
        if not line:
            return self._flush()
        if line.startswith(":"):
            return []
        name, separator, value = line.partition(":")
        if separator and name == "data":
            return self._data_line(value.removeprefix(" "))
        if separator and name in _SSE_FIELDS:
            return []
        # Not SSE at all: a bare NDJSON line or plain text.
        return self._flush() + self._payload(line)

    def close(self) -> list[ExecEvent]:
        """End of body: flush what is pending and insist that the exit event arrived."""
        events = self._flush()
        if not self.finished:
            raise CelestoNetworkError("The exec stream ended before the command's exit event")
        return events

    def _data_line(self, value: str) -> list[ExecEvent]:
        if value.strip() == "[DONE]":
            return self._flush()
        if not self._pending:
            parsed = _loads(value)
            if isinstance(parsed, Mapping):
                return self._events(parsed)
        self._pending.append(value)
        self._pending_chars += len(value)
        if self._pending_chars > limits.EXEC_STREAM_MAX_EVENT_BYTES:
            raise CelestoServerError("An exec stream event is larger than 1 MiB")
        parsed = _loads("\n".join(self._pending))
        if isinstance(parsed, Mapping):
            self._reset()
            return self._events(parsed)
        return []

    def _flush(self) -> list[ExecEvent]:
        if not self._pending:
            return []
        text = "\n".join(self._pending)
        self._reset()
        return self._payload(text)

    def _reset(self) -> None:
        self._pending = []
        self._pending_chars = 0

    def _payload(self, text: str) -> list[ExecEvent]:
        parsed = _loads(text)
        if isinstance(parsed, Mapping):
            return self._events(parsed)
        return [{"type": "stdout", "data": text + "\n"}] if text.strip() else []

    def _events(self, obj: Mapping[str, Any]) -> list[ExecEvent]:
        if self.finished:
            return []
        kind = obj.get("type")
        if kind == "error":
            message = obj.get("message") or obj.get("detail") or obj.get("error") or "error"
            if obj.get("status_code") == 409:
                # The computer failed under the command (the local backend says why).
                raise CelestoConflictError(str(message), status_code=409)
            raise CelestoServerError(f"The exec stream failed: {message}")
        if kind in ("stdout", "stderr"):
            return [{"type": kind, "data": str(obj.get("data") or "")}]
        if kind == "exit":
            return [self._exit(obj)]
        if kind is not None:
            return [cast(ExecEvent, dict(obj))]  # "started" and event types we do not know yet
        return self._legacy_events(obj)

    def _legacy_events(self, obj: Mapping[str, Any]) -> list[ExecEvent]:
        events: list[ExecEvent] = []
        stream = obj.get("stream")
        if stream in ("stdout", "stderr"):
            events.append({"type": stream, "data": str(obj.get("data") or "")})
        for name in ("stdout", "stderr"):
            text = obj.get(name)
            if isinstance(text, str) and text:
                events.append({"type": name, "data": text})
        if "exit_code" in obj:
            events.append(self._exit(obj))
        return events

    def _exit(self, obj: Mapping[str, Any]) -> ExecEvent:
        event = {key: value for key, value in obj.items() if key not in ("stdout", "stderr")}
        event["type"] = "exit"
        code = _as_exit_code(obj.get("exit_code"))
        event["exit_code"] = code if code is not None else -1
        if not event.get("command_id") and self._command_id:
            event["command_id"] = self._command_id
        self.finished = True
        return cast(ExecEvent, event)
