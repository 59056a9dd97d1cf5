"""The deployments table: columns, cells and sort keys of a deployment."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from celesto_api import Deployment

from .format import STATUS_RANK, age, one_line, parse_time, status_category, status_text
from .table_rows import Cells, Column, TableSpec

# Deployment statuses, in the order a deployment goes through them.
LIFECYCLE = ("PENDING", "ENQUEUED", "BUILDING", "READY", "FAILED", "STOPPED")


def _time(field: str) -> Callable[[Deployment], float | None]:
    def key(item: Deployment) -> float | None:
        then = parse_time(item.get(field))
        return None if then is None else -then.timestamp()

    return key


def deployment_cells(item: Deployment, now: datetime) -> Cells:
    return (
        str(item.get("name", "")),
        status_text(str(item.get("status", ""))),
        one_line(item.get("description"), 40),
        age(item.get("created_at"), now),
        age(item.get("updated_at"), now),
        one_line(item.get("last_error"), 60),
    )


def _status_key(item: Deployment) -> tuple[int, str]:
    status = str(item.get("status", ""))
    return (STATUS_RANK[status_category(status)], status)


DEPLOYMENTS: TableSpec[Deployment] = TableSpec(
    kind="deployments",
    columns=(
        Column("name", "Name", lambda d: d.get("name")),
        Column("status", "Status", _status_key, width=11),
        Column("description", "Description", lambda d: d.get("description")),
        Column("created", "Created", _time("created_at"), width=7, volatile=True),
        Column("updated", "Updated", _time("updated_at"), width=7, volatile=True),
        Column("error", "Last error", lambda d: d.get("last_error")),
    ),
    key_column="name",
    status_column="status",
    cells=deployment_cells,
    default_sort="name",
)
