"""A live resource table with its filter bar, title and stale dimming.

The view owns the *view state* (filter, sort) and turns polled items into rows for its
`ResourceTable`. Rebuilding rows after a filter or sort change runs in a thread and comes
back as a `RowsBuilt` message; rows built for other parameters are dropped.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Generic, TypeVar

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.content import Content
from textual.widgets import DataTable, Input

from ...model.clock import Clock, SystemClock
from ...model.filtering import Filter
from ...model.format import STATUS_GLYPHS
from ...model.items import Item
from ...model.polling import Freshness, State, human_seconds
from ...model.table_rows import Rows, TableSpec, ViewParams, build_rows, sort_arrow
from ...model.ui_state import ViewState
from ..bindings import Scope, allowed, bindings
from ..messages import OpenScreen, RowsBuilt
from .resource_table import ResourceTable

ZOOMS = ("", "table", "detail")
AGE_TICK_S = 1.0
ItemT = TypeVar("ItemT", bound=Item)


class FilterBar(Input):
    """``/`` opens it; typing filters live; Enter keeps the filter, Escape clears it."""

    DEFAULT_CSS = """
    FilterBar { display: none; border: tall $accent; height: 3; }
    FilterBar.shown { display: block; }
    """

    BINDINGS = bindings("filter")

    def action_clear_filter(self) -> None:
        self.value = ""
        self.post_message(self.Submitted(self, self.value))


class TableView(Vertical, Generic[ItemT]):
    """Base of the computers and deployments views (of ``ItemT``s)."""

    DEFAULT_CSS = """
    TableView { height: 1fr; }
    TableView ResourceTable { height: 1fr; border: round $primary 60%; }
    TableView ResourceTable:focus { border: round $primary; }
    TableView.stale ResourceTable { opacity: 55%; }
    TableView.-zoom-detail > ResourceTable, TableView.-zoom-detail > FilterBar {
        display: none;
    }
    """
    TITLE = ""
    SCOPE: Scope = "computers"

    def __init__(
        self,
        spec: TableSpec[ItemT],
        state: ViewState,
        *,
        markable: bool,
        id: str,
        clock: Clock | None = None,
    ) -> None:
        super().__init__(id=id)
        self.clock = clock or SystemClock()
        self.spec = spec
        self.state = state
        self.params = ViewParams(Filter.parse(state.filter), state.sort, state.reverse)
        self.items: dict[str, ItemT] = {}
        self.rows: Rows | None = None
        self.freshness = Freshness()
        self._applied_at = self.clock.monotonic()
        self.table = ResourceTable(spec, markable=markable, id=f"{id}-table")
        self.table.sorted_by = (self.params.sort or spec.default_sort, self.params.reverse)
        # The saved filter goes in on mount: an Input given a value needs a running app.
        self.filter_bar = FilterBar(
            placeholder="filter: words, status:running, !word",
            id=f"{id}-filter",
        )
        self.on_state_changed: Callable[[], None] = lambda: None
        self._pending_key: str | None = None  # a row to select once a poll brings it

    def compose(self) -> ComposeResult:
        yield self.filter_bar
        yield self.table

    def on_mount(self) -> None:
        if self.state.filter:
            self.filter_bar.value = self.state.filter
            self.filter_bar.add_class("shown")
        self.update_title()
        self.set_interval(AGE_TICK_S, self._tick_ages)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return allowed(self, self.SCOPE, action)

    # --- data ------------------------------------------------------------------------

    def apply_items(self, items: Sequence[ItemT], rows: Rows) -> None:
        """A poll's (or an action's) items and the rows built for them."""
        self.items = {self.spec.key_of(item): item for item in items}
        self.table.prune_marks(self.items)
        if rows.params != self.params:
            self.rebuild()
            return
        self._apply_rows(rows)

    def _apply_rows(self, rows: Rows) -> None:
        self._applied_at = self.clock.monotonic()
        self.rows = rows
        self.table.apply(rows)
        self.update_title()
        if self._pending_key is not None and self.table.select_key(self._pending_key):
            self._pending_key = None
        self.rows_applied()

    def go_to(self, key: str) -> None:
        """Put the cursor on a row, now or when the rows next bring it (a poll answered
        before the item existed), clearing a filter that hides it."""
        self.table.focus()
        if self.table.select_key(key):
            self._pending_key = None
            return
        self._pending_key = key
        if self.params.filter:
            self.filter_bar.value = ""

    def _tick_ages(self) -> None:
        # Ages are computed from the clock when rows are built: without polls (offline, or
        # manual refresh) nothing rebuilds them, and the Age column would freeze.
        stale = self.clock.monotonic() - self._applied_at >= AGE_TICK_S
        if stale and self.items and self.is_on_screen:
            self.rebuild()

    def rows_applied(self) -> None:
        """Hook: the table shows new rows."""

    @work(thread=True, exclusive=True, group="rebuild", exit_on_error=False)
    def rebuild(self) -> None:
        rows = build_rows(self.spec, list(self.items.values()), self.params, self.clock.now())
        self.post_message(RowsBuilt(self.spec.kind, rows))

    def on_rows_built(self, message: RowsBuilt) -> None:
        message.stop()
        if message.rows.params == self.params:
            self._apply_rows(message.rows)

    def set_params(self, params: ViewParams) -> None:
        if params == self.params:
            return
        self.params = params
        self.state.filter = params.filter.text
        self.state.sort, self.state.reverse = params.sort, params.reverse
        self.on_state_changed()
        self.table.show_sort(params.sort or self.spec.default_sort, params.reverse)
        self.update_title()
        self.rebuild()

    # --- freshness ---------------------------------------------------------------------

    def show_freshness(self, freshness: Freshness, now: float) -> None:
        self.freshness = freshness
        state = freshness.shown(now)
        self.set_class(state in (State.STALE, State.OFFLINE), "stale")
        subtitle = ""
        if state in (State.STALE, State.OFFLINE):
            age = freshness.age(now)
            subtitle = f"{state.value} · " + (
                "no data yet" if age is None else f"data {human_seconds(age)} old"
            )
        self.table.border_subtitle = subtitle

    # --- title ---------------------------------------------------------------------------

    def update_title(self) -> None:
        parts: list[str | tuple[str, str]] = [(f" {self.TITLE} ", "bold")]
        rows = self.rows
        if rows is not None:
            parts.append(f"{rows.total}")
            for status, count in sorted(rows.by_status.items()):
                parts.append(f" · {STATUS_GLYPHS.get(status, '?')} {count} {status}")
        if self.params.filter:
            shown = f" ({len(rows.order)} shown)" if rows is not None else ""
            parts += [
                " │ ",
                ("filter ", "bold"),
                (f'"{self.params.filter.text}"', "$accent"),
                shown,
            ]
        column = self.spec.column(self.params.sort or self.spec.default_sort)
        parts += [" │ ", ("sort ", "bold"), f"{column.label} {sort_arrow(self.params.reverse)}"]
        parts += self.extra_title()
        parts.append(" ")
        self.table.border_title = Content.assemble(*parts)

    def extra_title(self) -> list[str | tuple[str, str]]:
        return []

    # --- actions ---------------------------------------------------------------------------

    def action_filter(self) -> None:
        if self.zoom == "detail":
            self.set_zoom("")  # the filter bar sits with the table
        self.filter_bar.add_class("shown")
        self.filter_bar.focus()

    @on(Input.Changed)
    def _filter_changed(self, event: Input.Changed) -> None:
        if event.input is not self.filter_bar:
            return
        event.stop()
        self.set_params(
            ViewParams(Filter.parse(event.value), self.params.sort, self.params.reverse)
        )

    @on(Input.Submitted)
    def _filter_submitted(self, event: Input.Submitted) -> None:
        if event.input is not self.filter_bar:
            return
        event.stop()
        if not event.value.strip():
            self.filter_bar.remove_class("shown")
        self.table.focus()

    def action_sort(self) -> None:
        keys = self.spec.column_keys
        current = self.params.sort or self.spec.default_sort
        following = keys[(keys.index(current) + 1) % len(keys)]
        self.set_params(ViewParams(self.params.filter, following, False))

    def action_sort_reverse(self) -> None:
        self.set_params(ViewParams(self.params.filter, self.params.sort, not self.params.reverse))

    def action_pick_sort(self) -> None:
        """A list of the columns on screen to sort by (`SortPickerScreen`)."""
        # Imported when first opened: its OptionList is not worth loading before the first frame.
        from ..screens.sort_picker import SortPickerScreen

        hidden = set(self.table.hidden_columns)
        columns = [(c.key, c.label) for c in self.spec.columns if c.key not in hidden]
        picker = SortPickerScreen(
            columns,
            self.params.sort or self.spec.default_sort,
            self.params.reverse,
            f"Sort the {self.TITLE.lower()} by",
        )
        # Through the app, as every dialog: keys typed right behind the key go to it.
        self.post_message(OpenScreen(picker, self.sort_by))

    def sort_by(self, key: str | None) -> None:
        """Sort by column ``key``; the column already sorted by is reversed."""
        if key is None or key not in self.spec.column_keys:
            return
        same = key == (self.params.sort or self.spec.default_sort)
        reverse = not self.params.reverse if same else False
        self.set_params(ViewParams(self.params.filter, key, reverse))

    @on(DataTable.HeaderSelected)
    def _header_selected(self, event: DataTable.HeaderSelected) -> None:
        event.stop()
        self.sort_by(str(event.column_key.value))

    def selected(self) -> ItemT | None:
        key = self.table.selected_key()
        return self.items.get(key) if key is not None else None

    # --- zoom ------------------------------------------------------------------------------

    @property
    def zoom(self) -> str:
        """``""`` (table and detail), ``"table"`` or ``"detail"`` alone."""
        return next((zoom for zoom in ZOOMS if zoom and self.has_class(f"-zoom-{zoom}")), "")

    def action_zoom(self) -> None:
        self.set_zoom(ZOOMS[(ZOOMS.index(self.zoom) + 1) % len(ZOOMS)])

    def set_zoom(self, zoom: str) -> None:
        for name in ZOOMS[1:]:
            self.set_class(zoom == name, f"-zoom-{name}")
        if zoom == "detail":
            self.focus_detail()
        else:
            self.table.focus()

    def focus_detail(self) -> None:
        """Hook: focus the detail shown below the table."""
