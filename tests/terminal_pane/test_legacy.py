"""A backend without the gateway endpoint: the pane falls back to the legacy direct socket."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any, cast

import pytest

from celesto_api import AsyncCelesto, TerminalSessionInfo
from celesto_api._transport import RequestSpec
from celesto_api.computers import AsyncComputers
from celesto_api.local import LocalServer

from .conftest import PaneApp, type_line, wait_for_text, wait_prompt


class OldServerComputers(AsyncComputers):
    """Asks for terminals where a server predating the gateway flow has no such route, so the
    (real) server answers 404 just as that older server would."""

    async def terminal(
        self, computer_id: str, terminal_id: str | None = None
    ) -> TerminalSessionInfo:
        spec = RequestSpec("POST", f"/v1/computers/{computer_id}/terminal", json={})
        return cast(TerminalSessionInfo, await self._transport.request(spec))


@pytest.fixture
async def old_api(local_server: LocalServer) -> AsyncIterator[AsyncCelesto]:
    async with AsyncCelesto(api_key=local_server.api_key, base_url=local_server.base_url) as api:
        api.computers = OldServerComputers(api._transport)
        yield api


async def test_without_the_gateway_the_legacy_socket_is_used(
    old_api: AsyncCelesto, running_computer: dict[str, Any]
) -> None:
    app = PaneApp(old_api, running_computer["id"], running_computer["name"])
    async with app.run_test(size=(80, 20)) as pilot:
        await wait_prompt(pilot, app.pane)
        assert app.pane.status.legacy
        assert app.pane.terminal_id is None
        assert "legacy socket" in str(app.pane.border_subtitle)
        await type_line(pilot, "echo legacy-$((1+1))")
        await wait_for_text(pilot, app.pane.view, "legacy-2")
