"""Published ports of the selected computer: URL and status, a health probe (HTTP status and
latency) per URL, publish / unpublish, copy the URL, open it in the browser."""

from __future__ import annotations

from datetime import datetime
from typing import Final

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Static

from celesto_api import Computer, PublishedPort

from ...model.clock import Clock, SystemClock
from ...model.format import age, status_text
from ...model.table_rows import Cells, Column, TableSpec, ViewParams, build_rows
from ..bindings import allowed, bindings
from ..browser import open_url
from ..intents import FocusTableRequested, ProbeRequested, UnpublishRequested
from ..messages import Probed
from ..probe import ProbeResult
from .resource_table import ResourceTable

HEALTH_FIELD: Final = "_health"
# Shown URLs are probed again this often, so a health result on screen is never older.
PROBE_EVERY_S = 15.0


class PortRow(PublishedPort, total=False):
    """A published port as its row shows it: with the last probe of its URL."""

    _health: str | None  # None: not probed yet


def port_cells(item: PortRow, now: datetime) -> Cells:
    return (
        str(item.get("port", "")),
        status_text(str(item.get("status", ""))),
        str(item.get("url") or "-"),
        str(item.get(HEALTH_FIELD) or "not probed (h)"),
        age(item.get("created_at"), now),
    )


PORTS: TableSpec[PortRow] = TableSpec(
    kind="ports",
    columns=(
        Column("port", "Port", lambda p: p.get("port"), width=6),
        Column("status", "Status", lambda p: p.get("status"), width=14),
        Column("url", "URL", lambda p: p.get("url")),
        # Probes refresh it every PROBE_EVERY_S: a new result is not a change of the port.
        Column("health", "Health", lambda p: p.get(HEALTH_FIELD), volatile=True),
        Column("age", "Age", lambda p: p.get("created_at"), width=5, volatile=True),
    ),
    key_column="port",
    status_column="status",
    cells=port_cells,
    default_sort="port",
)


class PortsPane(Vertical):
    DEFAULT_CSS = """
    PortsPane { height: 1fr; }
    PortsPane ResourceTable { height: 1fr; border: round $primary 50%; }
    PortsPane ResourceTable:focus { border: round $primary; }
    PortsPane #ports-hint { height: 1; padding: 0 1; color: $text-muted; }
    """
    BINDINGS = bindings("ports")

    def __init__(self, clock: Clock | None = None) -> None:
        super().__init__(id="ports-pane")
        self.clock = clock or SystemClock()
        self.computer: Computer | None = None
        self.ports: list[PublishedPort] = []
        self.health: dict[str, ProbeResult] = {}
        self._probing: set[str] = set()
        self.table = ResourceTable(PORTS, id="ports-table")

    def compose(self) -> ComposeResult:
        yield Static("", id="ports-hint", markup=False)
        yield self.table

    def on_mount(self) -> None:
        self.set_interval(PROBE_EVERY_S, self.probe_again)

    def probe_again(self) -> None:
        """Probe every URL shown again (only while the pane is on screen)."""
        if not self.is_on_screen:
            return
        for port in self.ports:
            url = port.get("url")
            if url and str(url) not in self._probing:
                self._probing.add(str(url))
                self._probe(str(url))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return allowed(self, "ports", action)

    def show_computer(self, computer: Computer | None) -> None:
        self.computer = computer
        ports = computer.get("published_ports") if computer else None
        self.show_ports(list(ports) if isinstance(ports, list) else [])

    def show_ports(self, ports: list[PublishedPort]) -> None:
        self.ports = ports
        self._show_rows()
        name = self.computer.get("name", "") if self.computer else ""
        hint = (
            f"{len(ports)} published port{'s' if len(ports) != 1 else ''} of {name} · "
            "P publish · U unpublish · h probe · y copy URL · b browser"
            if self.computer
            else "Select a computer."
        )
        self.query_one("#ports-hint", Static).update(hint)
        if self.is_on_screen:
            self.probe_unprobed()

    def probe_unprobed(self) -> None:
        """Probe every URL shown that has not been probed yet."""
        for port in self.ports:
            url = port.get("url")
            if url and url not in self.health and url not in self._probing:
                self._probing.add(str(url))
                self._probe(str(url))

    def _show_rows(self) -> None:
        items: list[PortRow] = []
        for port in self.ports:
            result = self.health.get(str(port.get("url")))
            items.append({**port, HEALTH_FIELD: result.text() if result is not None else None})
        rows = build_rows(PORTS, items, ViewParams(), self.clock.now())
        self.table.apply(rows)

    def selected_port(self) -> PublishedPort | None:
        key = self.table.selected_key()
        for port in self.ports:
            if str(port.get("port")) == key:
                return port
        return None

    def _selected_url(self) -> str | None:
        port = self.selected_port()
        url = port.get("url") if port else None
        if not url:
            self.app.notify("Select a published port with a URL first.", severity="warning")
            return None
        return str(url)

    def _probe(self, url: str) -> None:
        self.post_message(ProbeRequested(self, url))

    def on_probed(self, message: Probed) -> None:
        message.stop()
        self.health[message.result.url] = message.result
        self._probing.discard(message.result.url)
        self._show_rows()

    # --- actions ---------------------------------------------------------------------------

    def action_probe(self) -> None:
        if url := self._selected_url():
            self._probe(url)

    def action_copy_url(self) -> None:
        if url := self._selected_url():
            self.app.copy_to_clipboard(url)
            self.app.notify(f"Copied {url}")

    def action_open_url(self) -> None:
        if url := self._selected_url():
            open_url(self.app, url)

    def action_unpublish(self) -> None:
        port = self.selected_port()
        if self.computer is None or port is None:
            self.app.notify("Select a published port first.", severity="warning")
            return
        self.post_message(UnpublishRequested(self.computer, int(port["port"])))

    def action_leave(self) -> None:
        self.post_message(FocusTableRequested())
