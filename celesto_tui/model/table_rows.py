"""From polled API objects to the rows a table shows: cells, filter and sort.

Pure functions over plain data, so they can run in a thread (5,000 computers take tens of
milliseconds to format) and be tested without Textual. The table widget only applies the
difference between two `Rows`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Generic, TypeVar

from .filtering import Filter
from .format import TRANSITIONAL, status_of_text

# What a table shows one row of: a computer, a deployment, a published port (the SDK's types).
ItemT = TypeVar("ItemT", bound=Mapping[str, Any])
Cells = tuple[str, ...]


@dataclass(frozen=True)
class Column(Generic[ItemT]):
    key: str
    label: str
    sort_key: Callable[[ItemT], Any]
    # Fixed width for columns whose content changes every poll, so a narrower value never
    # makes the table re-measure the whole column.
    width: int | None = None
    # Changes in volatile columns (live metrics, ages) do not flash the row.
    volatile: bool = False


@dataclass(frozen=True)
class TableSpec(Generic[ItemT]):
    kind: str
    columns: tuple[Column[ItemT], ...]
    key_column: str  # the column whose cell is the row key (used to re-sort in place)
    status_column: str
    cells: Callable[[ItemT, datetime], Cells]
    default_sort: str

    @property
    def column_keys(self) -> tuple[str, ...]:
        return tuple(column.key for column in self.columns)

    def column(self, key: str) -> Column[ItemT]:
        for column in self.columns:
            if column.key == key:
                return column
        raise KeyError(key)

    def index(self, key: str) -> int:
        return self.column_keys.index(key)

    def key_of(self, item: ItemT) -> str:
        return str(item.get("id") if self.key_column == "id" else item.get(self.key_column))


SORT_ASCENDING, SORT_DESCENDING = "▲", "▼"


def sort_arrow(reverse: bool) -> str:
    """What the sorted column's header (and the sort picker) shows next to its label."""
    return SORT_DESCENDING if reverse else SORT_ASCENDING


@dataclass(frozen=True)
class ViewParams:
    filter: Filter = field(default_factory=Filter)
    sort: str = ""
    reverse: bool = False


@dataclass
class Rows:
    """What a table should show for one snapshot under one set of `ViewParams`."""

    params: ViewParams
    cells: dict[str, Cells]  # visible rows only
    order: list[str]
    total: int
    by_status: Counter[str]
    busy: bool  # something is in a transitional status


def sort_value(value: Any) -> tuple[int, int, Any]:
    """Missing values sort last whatever the direction of the rest. Numbers come before
    text, and anything else the API might send by its text, so that values of mixed types
    (a server sending "2" where 2 was expected) never fail to compare."""
    if value is None or value == "":
        return (1, 0, "")
    if isinstance(value, int | float) and not isinstance(value, bool):
        return (0, 0, value)
    if isinstance(value, str):
        return (0, 1, value.lower())
    if isinstance(value, tuple):  # a column's own composite key, e.g. (rank, status)
        return (0, 2, value)
    return (0, 3, str(value))


def build_rows(
    spec: TableSpec[ItemT], items: Sequence[ItemT], params: ViewParams, now: datetime
) -> Rows:
    keys = spec.column_keys
    status_index = keys.index(spec.status_column)
    by_status: Counter[str] = Counter()
    cells: dict[str, Cells] = {}
    visible: list[ItemT] = []
    busy = False
    for item in items:
        row = spec.cells(item, now)
        status = status_of_text(row[status_index])
        by_status[status] += 1
        busy = busy or status in TRANSITIONAL
        if params.filter and not params.filter.matches(
            {key: value.lower() for key, value in zip(keys, row, strict=True)}
        ):
            continue
        cells[spec.key_of(item)] = row
        visible.append(item)
    try:
        column = spec.column(params.sort or spec.default_sort)
    except KeyError:
        column = spec.column(spec.default_sort)
    name = spec.columns[0].sort_key
    visible.sort(key=lambda item: (sort_value(column.sort_key(item)), sort_value(name(item))))
    order = [spec.key_of(item) for item in visible]
    if params.reverse:
        order.reverse()
    return Rows(params, cells, order, len(items), by_status, busy)
