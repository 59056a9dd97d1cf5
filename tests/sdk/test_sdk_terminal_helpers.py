"""Terminal URL building and framing, without a socket."""

from __future__ import annotations

import json

import pytest

from celesto_api import CelestoValidationError, TerminalSession
from celesto_api.exceptions import redact_url
from celesto_api.terminal import (
    gateway_socket_url,
    input_frame,
    legacy_socket_url,
    output_bytes,
    resize_frame,
)


@pytest.mark.parametrize(
    ("gateway", "expected"),
    [
        ("wss://gw.celesto.ai/t/term_1", "wss://gw.celesto.ai/t/term_1?token=tok%2F%2B%3D"),
        ("https://gw.celesto.ai/t", "wss://gw.celesto.ai/t?token=tok%2F%2B%3D"),
        ("ws://127.0.0.1:9000/t?token=old&x=1", "ws://127.0.0.1:9000/t?x=1&token=tok%2F%2B%3D"),
        (
            "ws://127.0.0.1:9000/t?token=a&token=b&keep=",
            "ws://127.0.0.1:9000/t?keep=&token=tok%2F%2B%3D",
        ),
    ],
)
def test_gateway_url_carries_exactly_one_token(gateway: str, expected: str) -> None:
    assert gateway_socket_url(gateway, "tok/+=") == expected


def test_gateway_url_rejects_other_schemes_and_empty_token() -> None:
    with pytest.raises(CelestoValidationError) as caught:
        gateway_socket_url("ftp://gw/t", "tok")
    assert caught.value.field == "gateway_url"
    with pytest.raises(CelestoValidationError):
        gateway_socket_url("wss://gw/t", "")


@pytest.mark.parametrize(
    ("base", "expected"),
    [
        ("https://api.celesto.ai", "wss://api.celesto.ai/v1/computers/cmp_a%2Fb/terminal"),
        ("http://127.0.0.1:8000", "ws://127.0.0.1:8000/v1/computers/cmp_a%2Fb/terminal"),
    ],
)
def test_legacy_url(base: str, expected: str) -> None:
    assert legacy_socket_url(base, "cmp_a/b") == expected


def test_resize_frame_is_json_text_clamped_to_one() -> None:
    assert json.loads(resize_frame(120, 40)) == {"type": "resize", "cols": 120, "rows": 40}
    assert json.loads(resize_frame(0, -3)) == {"type": "resize", "cols": 1, "rows": 1}


def test_input_and_output_frames() -> None:
    assert input_frame("é\r") == "é\r".encode()
    assert input_frame(b"\x03") == b"\x03"
    assert input_frame(bytearray(b"ab")) == b"ab"
    with pytest.raises(CelestoValidationError):
        input_frame(3)  # type: ignore[arg-type]
    assert output_bytes("ü") == "ü".encode()
    assert output_bytes(b"\x1b[0m") == b"\x1b[0m"


def test_redact_url_hides_only_the_token() -> None:
    assert redact_url("ws://h:1/t?x=1&token=secret") == "ws://h:1/t?x=1&token=***"
    assert redact_url("ws://h:1/t") == "ws://h:1/t"


class _FakeConnection:
    close_code: int | None = None
    close_reason: str | None = None


def test_session_repr_hides_token() -> None:
    session = TerminalSession(
        _FakeConnection(),
        url="ws://127.0.0.1:1/t?token=supersecret",
        terminal_id="term_x",
        secrets=("supersecret",),
    )
    assert "supersecret" not in repr(session)
    assert "term_x" in repr(session)
    assert session.url == "ws://127.0.0.1:1/t?token=***"
    assert not session.closed
