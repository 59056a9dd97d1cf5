"""The real dashboard in a real terminal (tmux), typed into at tmux speed: every key of a
burst lands where it was aimed, none goes to the previous field or to the table."""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

import pytest

from celesto_api import AsyncCelesto, limits
from celesto_api.local import LocalServer
from tests.terminal_pane.golden import TMUX, Tmux
from tests.waiting import await_until

pytestmark = pytest.mark.skipif(
    TMUX is None, reason="tmux is not installed (apt-get install -y tmux)"
)


async def test_a_create_burst_from_the_table_lands_in_its_fields(
    running_computer: dict[str, Any],
    local_server: LocalServer,
    async_sdk: AsyncCelesto,
    tmp_path: Path,
) -> None:
    before = {
        c["id"] for c in (await async_sdk.computers.list(limit=limits.LIST_LIMIT_MAX))["computers"]
    }
    tmux = Tmux(120, 40)
    created: list[str] = []
    try:
        tmux.start(
            [sys.executable, "-m", "celesto_tui", "--base-url", local_server.base_url],
            {"CELESTO_API_KEY": local_server.api_key, "CELESTO_STATE_DIR": str(tmp_path)},
        )
        await tmux.wait_for(running_computer["name"])
        # One send-keys: the whole burst reaches the app in one read, as tmux delivers it.
        tmux.keys("n", "Tab", "2", "0", "4", "8", "Tab", "4", "g", "b")
        # (the disk placeholder says "e.g. 4096 or 4gb": wait for the field's own value)
        rows = await await_until(
            tmux.text,
            lambda rows: any(re.search(r"Disk\s+4gb\s", row) for row in rows),
            what="4gb in the disk field",
        )
        memory = next(row for row in rows if "Memory (MB)" in row)
        assert re.search(r"Memory \(MB\)\s+2048\s", memory), "\n".join(rows)
        cpus = next(row for row in rows if re.search(r"CPUs\s", row) and "default" in row)
        assert "1 (default" in cpus  # blank: nothing typed went there
        tmux.keys("Enter")

        async def new_ids() -> list[str]:
            listing = await async_sdk.computers.list(limit=limits.LIST_LIMIT_MAX)
            return [str(c["id"]) for c in listing["computers"] if c["id"] not in before]

        created = await await_until(new_ids, what="the new computer")
        assert len(created) == 1
        new = await async_sdk.computers.get(created[0])
        assert (new["ram_mb"], new["disk_size_mb"]) == (2048, 4096)
    finally:
        tmux.close()
        for computer_id in created:
            await async_sdk.computers.delete(computer_id)
