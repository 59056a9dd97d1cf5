"""The tolerant exec/stream decoder (contract §2.9)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from celesto_api import CelestoNetworkError, CelestoServerError
from celesto_api._sse import ExecStreamDecoder


def decode(body: str, command_id: str | None = None) -> list[Any]:
    decoder = ExecStreamDecoder(command_id)
    events: list[Any] = []
    for line in body.split("\n"):
        events.extend(decoder.feed(line))
    events.extend(decoder.close())
    return events


def sse(*objects: Any) -> str:
    return "".join(f"data: {json.dumps(obj)}\n\n" for obj in objects)


STARTED = {"type": "started", "command_id": "cmd_1", "started_at_unix_ms": 1, "timeout_seconds": 30}
EXIT = {"type": "exit", "exit_code": 0, "command_id": "cmd_1", "duration_ms": 5}


def test_standard_stream() -> None:
    body = sse(
        STARTED,
        {"type": "stdout", "data": "a\n"},
        {"type": "stderr", "data": "b\n"},
        EXIT,
    )
    assert decode(body) == [
        STARTED,
        {"type": "stdout", "data": "a\n"},
        {"type": "stderr", "data": "b\n"},
        EXIT,
    ]


def test_comments_other_fields_and_done() -> None:
    body = (
        ": keep-alive\n\nevent: message\nid: 3\nretry: 100\n"
        + sse({"type": "stdout", "data": "x"}, EXIT)
        + "data: [DONE]\n\n"
    )
    assert decode(body) == [{"type": "stdout", "data": "x"}, EXIT]


def test_missing_blank_lines() -> None:
    body = "\n".join(f"data: {json.dumps(e)}" for e in ({"type": "stdout", "data": "1"}, EXIT))
    assert decode(body) == [{"type": "stdout", "data": "1"}, EXIT]


def test_json_split_over_data_lines() -> None:
    body = 'data: {"type": "stdout",\ndata: "data": "joined"}\n\n' + sse(EXIT)
    assert decode(body) == [{"type": "stdout", "data": "joined"}, EXIT]


def test_bare_ndjson_and_plain_text() -> None:
    body = '{"type": "stdout", "data": "nd"}\nnot json at all\n' + json.dumps(EXIT) + "\n"
    assert decode(body) == [
        {"type": "stdout", "data": "nd"},
        {"type": "stdout", "data": "not json at all\n"},
        EXIT,
    ]


def test_legacy_shapes() -> None:
    body = sse(
        {"stdout": "out"},
        {"stderr": "err"},
        {"stream": "stderr", "data": "err2"},
        {"exit_code": "3"},
    )
    assert decode(body) == [
        {"type": "stdout", "data": "out"},
        {"type": "stderr", "data": "err"},
        {"type": "stderr", "data": "err2"},
        {"type": "exit", "exit_code": 3},
    ]


def test_exit_gets_command_id_from_header() -> None:
    assert decode(sse({"type": "exit", "exit_code": 1}), command_id="cmd_h") == [
        {"type": "exit", "exit_code": 1, "command_id": "cmd_h"}
    ]


def test_events_after_exit_are_ignored() -> None:
    assert decode(sse(EXIT, {"type": "stdout", "data": "late"})) == [EXIT]


def test_unknown_event_types_are_passed_through() -> None:
    body = sse({"type": "progress", "pct": 50}, EXIT)
    assert decode(body) == [{"type": "progress", "pct": 50}, EXIT]


def test_stream_without_exit_is_a_network_error() -> None:
    with pytest.raises(CelestoNetworkError, match="exit"):
        decode(sse(STARTED, {"type": "stdout", "data": "partial"}))
    with pytest.raises(CelestoNetworkError):
        decode("data: [DONE]\n\n")


def test_error_event_raises() -> None:
    with pytest.raises(CelestoServerError, match="sandbox gone"):
        decode(sse({"type": "error", "message": "sandbox gone"}))


def test_oversized_event_is_rejected() -> None:
    decoder = ExecStreamDecoder()
    decoder.feed('data: {"type": "stdout", "data": "')
    with pytest.raises(CelestoServerError, match="1 MiB"):
        decoder.feed("data: " + "x" * (1024 * 1024 + 1))
