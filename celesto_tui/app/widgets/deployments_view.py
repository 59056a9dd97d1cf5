"""The deployments view: the live table and the selected deployment's details."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.content import Content
from textual.widgets import DataTable, Static

from celesto_api import Deployment

from ...model.clock import Clock
from ...model.deployments_table import DEPLOYMENTS
from ...model.format import one_line, status_text
from ...model.ui_state import ViewState
from ..bindings import bindings
from ..browser import open_url
from ..intents import (
    DeploymentChangeRequested,
    DeploymentLogsRequested,
    DeployRequested,
    ProbeRequested,
)
from ..messages import Probed
from ..probe import ProbeResult
from .table_view import TableView

DETAIL_FIELDS = (
    "name",
    "id",
    "status",
    "description",
    "url",
    "created_at",
    "updated_at",
    "deployed_at",
    "last_error",
)


def deployment_url(deployment: Deployment) -> str | None:
    url = deployment.get("url")
    return str(url) if isinstance(url, str) and url else None


class DeploymentsView(TableView[Deployment]):
    DEFAULT_CSS = """
    DeploymentsView #deployment-detail {
        height: 40%; min-height: 8; border: round $primary 50%; padding: 0 1;
    }
    DeploymentsView #deployment-detail:focus { border: round $primary; }
    DeploymentsView.-zoom-table #deployment-detail { display: none; }
    DeploymentsView.-zoom-detail #deployment-detail { height: 1fr; }
    """
    TITLE = "Deployments"
    SCOPE = "deployments"
    BINDINGS = bindings("deployments")

    def __init__(self, state: ViewState, *, clock: Clock | None = None) -> None:
        super().__init__(DEPLOYMENTS, state, markable=False, id="deployments", clock=clock)
        self.health: dict[str, ProbeResult] = {}
        self._shown: str | None = None

    def compose(self) -> ComposeResult:
        yield from super().compose()
        with VerticalScroll(id="deployment-detail"):
            yield Static(
                "Select a deployment. n deploys a folder.", id="deployment-fields", markup=False
            )

    def rows_applied(self) -> None:
        self.show_selected()

    @on(DataTable.RowHighlighted)
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.data_table is self.table:
            self.show_selected()

    def show_selected(self) -> None:
        deployment = self.selected()
        fields = self.query_one("#deployment-fields", Static)
        detail = self.query_one("#deployment-detail", VerticalScroll)
        if deployment is None:
            detail.border_title = ""
            fields.update("No deployment selected. n deploys a folder.")
            return
        detail.border_title = Content(f" {deployment.get('name')} ")
        table = Table.grid(padding=(0, 2))
        table.add_column(style="bold", no_wrap=True)
        table.add_column(overflow="fold")
        for name in DETAIL_FIELDS:
            value = deployment.get(name)
            if name == "status":
                value = status_text(str(value))
            table.add_row(Text(name), Text(one_line(value, 400)))
        url = deployment_url(deployment)
        if url:
            result = self.health.get(url)
            table.add_row(Text("health"), Text(result.text() if result else "not probed (h)"))
        fields.update(table)
        key = str(deployment.get("name"))
        if url and key != self._shown and url not in self.health and self.is_on_screen:
            self._probe(url)
        self._shown = key

    def focus_detail(self) -> None:
        self.query_one("#deployment-detail", VerticalScroll).focus()

    def _selected_or_warn(self) -> Deployment | None:
        deployment = self.selected()
        if deployment is None:
            self.app.notify("No deployment selected.", severity="warning")
        return deployment

    def _url_or_warn(self) -> str | None:
        deployment = self._selected_or_warn()
        if deployment is None:
            return None
        url = deployment_url(deployment)
        if url is None:
            self.app.notify(
                f"{deployment.get('name')} has no URL yet ({deployment.get('status')}).",
                severity="warning",
            )
        return url

    def _probe(self, url: str) -> None:
        self.post_message(ProbeRequested(self, url))

    def on_probed(self, message: Probed) -> None:
        message.stop()
        self.health[message.result.url] = message.result
        self.show_selected()

    def action_deploy(self) -> None:
        self.post_message(DeployRequested())

    def action_logs(self) -> None:
        if deployment := self._selected_or_warn():
            self.post_message(DeploymentLogsRequested(deployment))

    def action_stop(self) -> None:
        if deployment := self._selected_or_warn():
            self.post_message(DeploymentChangeRequested("stop", deployment))

    def action_delete(self) -> None:
        if deployment := self._selected_or_warn():
            self.post_message(DeploymentChangeRequested("delete", deployment))

    def action_copy_url(self) -> None:
        if url := self._url_or_warn():
            self.app.copy_to_clipboard(url)
            self.app.notify(f"Copied {url}")

    def action_open_url(self) -> None:
        if url := self._url_or_warn():
            open_url(self.app, url)

    def action_probe(self) -> None:
        if url := self._url_or_warn():
            self._probe(url)
