"""The Ports pane: publish prompt, URL and status, health probe, copy/open, unpublish."""

from __future__ import annotations

from typing import Any

from textual.geometry import Region
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Button, Input, Label, Static

from celesto_api import Celesto, limits
from celesto_api.local import LocalServer
from celesto_tui.app.screens.confirm import ConfirmScreen
from celesto_tui.app.screens.prompt import PromptScreen

from .conftest import AppFactory, computers_view, loaded, next_poll, select, wait_for

PORT = 8000


async def test_publish_probe_copy_open_and_unpublish(
    make_app: AppFactory, sdk: Celesto, running_computer: dict[str, Any], local_server: LocalServer
) -> None:
    sdk.computers.exec(
        running_computer["id"],
        f"(python3 -m http.server {PORT} --bind 127.0.0.1 >/dev/null 2>&1 &)",
    )
    app = make_app()
    async with app.run_test(size=(160, 48)) as pilot:
        await loaded(pilot)
        await select(pilot, running_computer["id"])
        await pilot.press("P")
        await wait_for(pilot, lambda: isinstance(app.screen, PromptScreen))
        prompt = app.screen
        prompt.query_one(Input).value = "80"
        await pilot.pause()
        assert "port must be between 1024 and 65535 (got 80)" in str(
            prompt.query_one("#prompt-error", Static).render()
        )
        assert prompt.query_one("#ok", Button).disabled
        prompt.query_one(Input).value = str(PORT)
        local_server.set_faults("latency_ms=400")  # a slow API: the row must not wait for it
        await pilot.press("enter")
        pane = computers_view(app).ports_pane
        await pilot.pause()
        assert [(p["port"], p["status"]) for p in pane.ports] == [(PORT, "publishing")]
        local_server.set_faults(None)

        await wait_for(pilot, lambda: pane.ports and pane.ports[0].get("url"), what="the port")
        url = str(pane.ports[0]["url"])
        assert url.startswith("http://127.0.0.1:")
        assert app.command_log.entries[-1].line == (
            f"celesto-tui computer port publish {running_computer['name']} --port {PORT} --local"
        )
        await pilot.press("p")  # focus the ports table
        assert pane.table.has_focus
        await pilot.press("h")
        await wait_for(pilot, lambda: url in pane.health, what="the probe")
        result = pane.health[url]
        assert result.status == 200 and result.latency_ms >= 0
        row = [str(cell) for cell in pane.table.get_row(str(PORT))]
        assert row[3].startswith("● 200 OK ·") and row[3].endswith(" ms")

        await pilot.press("y")
        assert app.clipboard == url
        await pilot.press("b")  # a graphical browser opens it; with none, it is copied
        await wait_for(
            pilot,
            lambda: any(
                url in n.message and ("Opened" in n.message or "copied" in n.message)
                for n in app._notifications
            ),
            what="the browser toast",
        )
        assert app.clipboard == url

        await pilot.press("U")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        assert app.screen.focused is not None and app.screen.focused.id == "cancel"
        await pilot.press("escape")
        await next_poll(pilot)
        assert pane.ports
        await pilot.press("U")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.click("#confirm")
        await wait_for(pilot, lambda: not pane.ports, what="unpublished")
        assert app.command_log.entries[-1].line == (
            f"celesto-tui computer port unpublish {running_computer['name']} --port {PORT} --local"
        )
    assert sdk.computers.list_published_ports(running_computer["id"]) == []


def shown_text(label: Label) -> str:
    """What the label paints, its lines joined with single spaces."""
    lines = label.render_lines(Region(0, 0, label.size.width, label.size.height))
    return " ".join(" ".join(strip.text for strip in lines).split())


def assert_sentences_whole(screen: Screen[Any]) -> None:
    for label in screen.query(Label):
        if label.id != "prompt-error":
            written = " ".join(str(label.render()).split())
            assert shown_text(label) == written, f"cut off: {written!r}"
            dialog = label.parent
            assert isinstance(dialog, Widget)
            inside = dialog.content_region.intersection(screen.region)
            assert inside.contains_region(label.region), f"cut off: {written!r}"


async def test_port_dialogs_fit_80x24_and_a_blank_port_is_the_default(
    make_app: AppFactory, sdk: Celesto, running_computer: dict[str, Any]
) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(pilot)
        await select(pilot, running_computer["id"])
        await pilot.press("P")
        await wait_for(pilot, lambda: isinstance(app.screen, PromptScreen))
        prompt = app.screen
        field = prompt.query_one(Input)
        assert field.value == "" and field.placeholder == f"{limits.PORT_DEFAULT} (default)"
        assert "blank publishes the default" in shown_text(prompt.query(Label)[1])
        assert_sentences_whole(prompt)
        assert not prompt.query_one("#ok", Button).disabled
        await pilot.press("enter")  # blank: the contract's default port, as create's defaults
        pane = computers_view(app).ports_pane
        await wait_for(pilot, lambda: pane.ports and pane.ports[0].get("url"), what="the port")
        assert pane.ports[0]["port"] == limits.PORT_DEFAULT

        await pilot.press("p", "U")  # the ports table, unpublish
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        shown = [shown_text(label) for label in app.screen.query(Label)]
        assert any(text.endswith("the server inside the computer keeps running.") for text in shown)
        assert_sentences_whole(app.screen)
        await pilot.click("#confirm")
        await wait_for(pilot, lambda: not pane.ports, what="unpublished")
    assert sdk.computers.list_published_ports(running_computer["id"]) == []
