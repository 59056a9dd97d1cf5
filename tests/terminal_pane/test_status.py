"""The status line and the reconnect schedule, without a server."""

from __future__ import annotations

import random

from celesto_tui.terminal.link import LinkStatus, Phase, backoff_delay
from celesto_tui.terminal.pane import status_text


def test_backoff_grows_caps_and_jitters() -> None:
    rng = random.Random(1)
    schedule = (0.2, 1.0, 5.0)
    for attempt, base in ((1, 0.2), (2, 1.0), (3, 5.0), (9, 5.0)):
        delays = [backoff_delay(attempt, schedule, rng) for _ in range(200)]
        assert base * 0.8 <= min(delays) and max(delays) <= base * 1.2
        assert len(set(delays)) > 1


def test_status_lines() -> None:
    assert status_text(LinkStatus(Phase.CONNECTED)) == "● connected"
    assert status_text(LinkStatus(Phase.CONNECTED, "legacy socket")) == (
        "● connected (legacy socket)"
    )
    reconnecting = LinkStatus(Phase.RECONNECTING, "connection lost (1011)", 2, 0.5)
    assert status_text(reconnecting) == (
        "◌ reconnecting, attempt 2 in 0.5s: connection lost (1011)"
    )
    ended = LinkStatus(Phase.ENDED, "shell exited with status 3", close_code=1000)
    assert status_text(ended) == "✖ ended: shell exited with status 3"  # 1000: WebSocket's
    closed = LinkStatus(Phase.ENDED, "the terminal closed", close_code=4001)
    assert status_text(closed) == "✖ ended: the terminal closed (code 4001)"
    assert status_text(LinkStatus(Phase.STOPPED, "stopping")) == "■ computer stopping"
    assert status_text(LinkStatus(Phase.STARTING, "starting the computer")) == (
        "◌ starting the computer…"
    )
    assert status_text(LinkStatus(Phase.DETACHED, "the shell keeps running")) == (
        "○ detached: the shell keeps running"
    )
