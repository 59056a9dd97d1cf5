"""The computers table: columns, cells and sort keys of a computer."""

from __future__ import annotations

from datetime import datetime

from celesto_api import Computer, PublishedPort
from celesto_api.types import ComputerMetrics

from .format import (
    STATUS_RANK,
    age,
    megabytes,
    parse_time,
    percent,
    status_category,
    status_text,
)
from .table_rows import Cells, Column, TableSpec

# Before a computer's name: it has a shell this dashboard opened that is still alive (a
# terminal tab, in front or not, or a tab closed with its shell left running).
SHELL_MARK = "⌁"


def _metrics(item: Computer) -> ComputerMetrics:
    metrics = item.get("metrics")
    return metrics if isinstance(metrics, dict) else {}


def _created(item: Computer) -> float | None:
    # Youngest first when sorting by age ascending.
    then = parse_time(item.get("created_at"))
    return None if then is None else -then.timestamp()


def _status_key(item: Computer) -> tuple[int, str]:
    status = str(item.get("status", ""))
    return (STATUS_RANK[status_category(status)], status)


def _ports(item: Computer) -> list[PublishedPort]:
    ports = item.get("published_ports")
    return ports if isinstance(ports, list) else []


def computer_cells(item: Computer, now: datetime) -> Cells:
    metrics = _metrics(item)
    ram_used = metrics.get("ram_used_mb")
    return (
        str(item.get("name", "")),
        str(item.get("id", "")),
        status_text(str(item.get("status", ""))),
        str(item.get("vcpus", "-")),
        megabytes(item.get("ram_mb")),
        megabytes(item.get("disk_size_mb")),
        str(item.get("template_id") or "-"),
        str(len(_ports(item))),
        percent(metrics.get("cpu_used_percent")),
        megabytes(ram_used) if isinstance(ram_used, int) else "-",
        age(item.get("created_at"), now),
    )


COMPUTERS: TableSpec[Computer] = TableSpec(
    kind="computers",
    columns=(
        Column("name", "Name", lambda c: c.get("name")),
        Column("id", "ID", lambda c: c.get("id")),
        Column("status", "Status", _status_key, width=12),
        Column("cpus", "CPUs", lambda c: c.get("vcpus"), width=4),
        Column("memory", "Memory", lambda c: c.get("ram_mb"), width=7),
        Column("disk", "Disk", lambda c: c.get("disk_size_mb"), width=7),
        Column("template", "Template", lambda c: c.get("template_id")),
        Column("ports", "Ports", lambda c: len(_ports(c)), width=5),
        Column(
            "cpu", "CPU%", lambda c: _metrics(c).get("cpu_used_percent"), width=5, volatile=True
        ),
        Column("ram", "RAM used", lambda c: _metrics(c).get("ram_used_mb"), width=8, volatile=True),
        Column("age", "Age", _created, width=5, volatile=True),
    ),
    key_column="id",
    status_column="status",
    cells=computer_cells,
    default_sort="name",
)
