"""Pop-out in a real terminal (tmux): the app hands the terminal to the CLI's raw attach on
the same shell, and the pane reattaches when the user detaches with the leave key (Ctrl+],
or the one the user chose)."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Any

import pytest

from celesto_api.local import LocalServer
from tests.waiting import await_until

from .golden import TMUX, Tmux

pytestmark = pytest.mark.skipif(
    TMUX is None, reason="tmux is not installed (apt-get install -y tmux)"
)

APP = Path(__file__).with_name("assets") / "terminals_app.py"


@pytest.mark.parametrize(("leave_key", "tmux_key"), [(None, "C-]"), ("ctrl+b", "C-b")])
async def test_pop_out_hands_the_terminal_over_and_comes_back(
    running_computer: dict[str, Any],
    local_server: LocalServer,
    leave_key: str | None,
    tmux_key: str,
) -> None:
    tmux = Tmux(100, 30)
    try:
        tmux.start(
            [
                sys.executable,
                str(APP),
                running_computer["id"],
                running_computer["name"],
                *filter(None, [leave_key]),
            ],
            {"CELESTO_BASE_URL": local_server.base_url, "CELESTO_API_KEY": local_server.api_key},
        )
        await tmux.wait_for("connected")
        tmux.send("echo in-the-pane-$((1+1))")
        await tmux.wait_for("in-the-pane-2")

        tmux.keys("C-F11")  # pop out: the app steps aside, the raw attach takes the terminal
        await await_until(
            lambda: "Pop out" not in "\n".join(tmux.text()),
            what="the app to step aside",
            timeout=15,
        )
        await tmux.wait_for("$")
        tmux.send("echo popped-out-$((2+2))")
        screen = "\n".join(await tmux.wait_for("popped-out-4"))
        assert "Pop out" not in screen  # the app's footer is gone: this is the raw attach
        assert "│" not in screen  # and so is the pane's border

        if leave_key:
            tmux.keys("C-]")  # not the leave key here: it goes to the shell
            await asyncio.sleep(0.3)
            assert "Pop out" not in "\n".join(tmux.text())
        tmux.keys(tmux_key)  # detach: the app comes back and reattaches the pane
        screen = "\n".join(await tmux.wait_for("Pop out"))
        await tmux.wait_for("● connected")
        screen = "\n".join(await tmux.wait_for("popped-out-4"))  # replayed into the pane
        assert "in-the-pane-2" in screen
        tmux.send("echo back-in-the-pane")
        await tmux.wait_for("back-in-the-pane")
    finally:
        tmux.close()
