"""Overview of the selected computer: every field, or its raw JSON (`j`), plus live metrics
from the observability endpoint while the computer runs."""

from __future__ import annotations

import json
from typing import Any

from rich.json import JSON
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.reactive import reactive
from textual.widgets import Static

from celesto_api import Computer, Observability
from celesto_api.types import ComputerMetrics

from ...model.format import flatten, megabytes, percent, redacted
from ..bindings import allowed, bindings
from ..intents import FocusTableRequested, MetricsRequested
from ..messages import MetricsFetched
from .cpu_chart import CpuChart

METRICS_EVERY_S = 10.0


def fields_table(computer: Computer) -> Table:
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold", no_wrap=True)
    table.add_column(overflow="fold")
    for key, value in flatten(computer):
        table.add_row(Text(key), Text(value))  # values are the API's: never markup
    return table


def metrics_text(latest: ComputerMetrics) -> str:
    parts = [f"CPU {percent(latest.get('cpu_used_percent'))}"]
    used, total = latest.get("ram_used_mb"), latest.get("ram_total_mb")
    if used is not None:
        parts.append(f"RAM {megabytes(used)}" + (f" of {megabytes(total)}" if total else ""))
    disk = latest.get("disk_used_mb")
    if disk is not None:
        parts.append(f"disk {megabytes(disk)} used")
    uptime = latest.get("uptime_seconds")
    if isinstance(uptime, int):
        parts.append(f"up {uptime // 3600}h{uptime % 3600 // 60:02d}m")
    if latest.get("stale"):
        parts.append("(stale sample)")
    return " · ".join(parts)


def byte_size(value: Any) -> str:
    amount = float(value) if isinstance(value, int | float) else 0.0
    for unit in ("B", "KB", "MB", "GB"):
        if amount < 1024 or unit == "GB":
            return f"{amount:.0f} {unit}" if unit == "B" else f"{amount:.1f} {unit}"
        amount /= 1024
    return f"{amount:.1f} GB"


def egress_text(computer: Computer, refusals: int = 3) -> str:
    """How the computer reaches the network (the local backend's ``local.egress``), with
    its counters and last refusals; empty when the backend does not say."""
    local = computer.get("local")
    egress = local.get("egress") if isinstance(local, dict) else None
    if not isinstance(egress, dict):
        return ""
    mode = egress.get("mode")
    if mode == "off":
        return "network: off (nothing leaves the computer)"
    if mode == "host":
        return "network: the host's own (process isolation: no egress policy)"
    if "connections_allowed" not in egress:
        return "network: through the egress proxy"
    lines = [
        "network: through the egress proxy · "
        f"{egress.get('connections_allowed', 0)} allowed · "
        f"{egress.get('connections_refused', 0)} refused · "
        f"in {byte_size(egress.get('bytes_in'))} · out {byte_size(egress.get('bytes_out'))}"
    ]
    last = egress.get("last_refusals")
    for refusal in (last if isinstance(last, list) else [])[-refusals:]:
        if isinstance(refusal, dict):
            lines.append(f"  refused {refusal.get('destination')}: {refusal.get('reason')}")
    return "\n".join(lines)


class OverviewPane(VerticalScroll):
    DEFAULT_CSS = """
    OverviewPane { height: 1fr; padding: 0 1; }
    OverviewPane #overview-metrics { color: $text-muted; height: auto; }
    OverviewPane #overview-egress { color: $text-muted; height: auto; }
    OverviewPane CpuChart { margin-bottom: 1; display: none; }
    OverviewPane CpuChart.shown { display: block; }
    """
    BINDINGS = bindings("overview")

    raw = reactive(False)

    def __init__(self) -> None:
        super().__init__(id="overview-pane")
        self.computer: Computer | None = None
        self._metrics_for: str | None = None
        self._empty = "Select a computer."

    def compose(self) -> ComposeResult:
        yield Static("", id="overview-metrics", markup=False)
        yield CpuChart(id="overview-cpu")
        yield Static("", id="overview-egress", markup=False)
        yield Static("Select a computer.", id="overview-fields", markup=False)

    def on_mount(self) -> None:
        self.set_interval(METRICS_EVERY_S, self._refresh_metrics)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return allowed(self, "overview", action)

    def show_computer(self, computer: Computer | None, empty: str = "Select a computer.") -> None:
        previous = self.computer
        self.computer = computer
        self._empty = empty
        self._render_fields()
        if computer is None:
            self._show_metrics(None)
            return
        changed = previous is None or previous.get("id") != computer.get("id")
        if changed or computer.get("status") != "running":
            self._show_metrics(None)  # a stopped computer has no live metrics to show
        if changed or (previous is not None and previous.get("status") != "running"):
            self._refresh_metrics()

    def watch_raw(self) -> None:
        self._render_fields()

    def _render_fields(self) -> None:
        egress = egress_text(self.computer) if self.computer is not None else ""
        self.query_one("#overview-egress", Static).update(egress)
        fields = self.query_one("#overview-fields", Static)
        if self.computer is None:
            fields.update(self._empty)
        elif self.raw:
            fields.update(JSON(json.dumps(redacted(self.computer), default=str)))
        else:
            fields.update(fields_table(redacted(self.computer)))

    def action_toggle_json(self) -> None:
        self.raw = not self.raw

    def action_leave(self) -> None:
        self.post_message(FocusTableRequested())

    # --- live metrics ------------------------------------------------------------------

    def _refresh_metrics(self) -> None:
        computer = self.computer
        if computer is None or computer.get("status") != "running" or not self.is_on_screen:
            return
        self.post_message(MetricsRequested(self, computer["id"]))

    def on_metrics_fetched(self, message: MetricsFetched) -> None:
        computer = self.computer
        if computer is None or computer.get("id") != message.computer_id:
            return
        if computer.get("status") != "running":
            return  # it stopped while the request was out
        self._show_metrics(message.observability, message.error)

    def _show_metrics(self, data: Observability | None, error: str = "") -> None:
        label = self.query_one("#overview-metrics", Static)
        spark = self.query_one(CpuChart)
        latest = data.get("latest") if data else None
        if error:
            label.update(f"live metrics unavailable: {error}")
        elif isinstance(latest, dict):
            label.update("live: " + metrics_text(latest))
        else:
            label.update("")
        samples = [
            float(cpu)
            for sample in (data.get("samples") if data else None) or []
            if isinstance(sample, dict)
            and (cpu := sample.get("guest_cpu_used_percent")) is not None
        ]
        spark.samples = samples[-120:]
        spark.set_class(len(samples) > 1, "shown")
