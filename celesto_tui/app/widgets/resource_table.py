"""A DataTable that applies each poll as a keyed diff.

Only changed cells are updated (inside ``batch_update``), so the cursor stays on the same
row key, marks survive, the scroll position holds and nothing flickers. Rows whose
non-volatile cells changed are tinted for a moment. Filtering and sorting happen on the
model (`model.table_rows.build_rows`); the widget re-sorts in place only when the order changed.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any, ClassVar

from rich.cells import cell_len
from rich.style import Style
from rich.text import Text
from textual.color import Color
from textual.coordinate import Coordinate
from textual.widgets import DataTable
from textual.widgets.data_table import Column, ColumnKey

from ...model.format import Category, status_category, status_of_text
from ...model.table_rows import Cells, Rows, TableSpec, sort_arrow
from ..bindings import bindings

FLASH_SECONDS = 1.5
# Removing a row re-indexes the whole table, so past this many removals it is cheaper to
# clear and re-add (the cursor is put back on its key either way).
REBUILD_AFTER_REMOVALS = 64
MARK_COLUMN = "mark"
MARK = "✓"
# Which columns a narrow table folds away, first to last.
NARROW_HIDE_ORDER: dict[str, tuple[str, ...]] = {
    "computers": ("id", "template", "disk", "ports", "memory", "cpus"),
    "deployments": ("description", "updated", "error"),
}

Cell = str | Text


def status_styles(variables: dict[str, str]) -> dict[Category, Style]:
    """Status colours from the current theme (success / warning / error)."""

    def color(name: str) -> Style:
        try:
            return Style(color=Color.parse(variables[name]).rich_color)
        except (KeyError, ValueError):
            return Style()

    return {
        "ok": color("success"),
        "busy": color("warning"),
        "bad": color("error") + Style(bold=True),
        "idle": Style(dim=True),
        "unknown": Style(),
    }


class ResourceTable(DataTable[Cell]):
    BINDINGS = bindings("table")
    DEFAULT_CSS = """
    ResourceTable > .resource-table--changed { background: $warning 25%; }
    ResourceTable > .resource-table--marked { background: $accent 20%; text-style: bold; }
    """
    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "resource-table--changed",
        "resource-table--marked",
    }

    def __init__(
        self, spec: TableSpec[Any], *, markable: bool = False, id: str | None = None
    ) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)
        self.spec = spec
        self.markable = markable
        self.marks: set[str] = set()
        self._cells: dict[str, Cells] = {}
        self._order: list[str] = []
        self._flash: dict[str, float] = {}
        self._styles: dict[Category, Style] = {}
        self._status_index = spec.index(spec.status_column)
        self._volatile = frozenset(i for i, c in enumerate(spec.columns) if c.volatile)
        self._fixed = frozenset(i for i, c in enumerate(spec.columns) if c.width is not None)
        self.loaded = False
        self.hidden_columns: tuple[str, ...] = ()
        """Columns folded away because the table is too narrow (see `NARROW_HIDE_ORDER`)."""
        self.badges: dict[str, str] = {}
        """Row key -> a glyph shown before the row's first cell (e.g. a computer's shell)."""
        self.sorted_by: tuple[str, bool] | None = None
        """The column the user sorts by, and whether reversed: its header shows ▲/▼ (None:
        a table whose order is fixed, no arrow)."""

    def on_mount(self) -> None:
        self._styles = status_styles(self.app.get_css_variables())
        if self.markable:
            self.add_column(" ", key=MARK_COLUMN, width=1)
        for column in self.spec.columns:
            self.add_column(column.label, key=column.key, width=column.width)
        if self.sorted_by is not None:
            self.show_sort(*self.sorted_by)

    # --- the sorted column's header -----------------------------------------------------

    def header_label(self, key: str) -> str:
        label = self.spec.column(key).label
        if self.sorted_by is None or key != self.sorted_by[0]:
            return label
        return f"{label} {sort_arrow(self.sorted_by[1])}"

    def _fixed_width(self, key: str) -> int | None:
        """A fixed column's width, widened to show its header's arrow when sorted."""
        fixed = self.spec.column(key).width
        return None if fixed is None else max(fixed, cell_len(self.header_label(key)))

    def show_sort(self, key: str, reverse: bool) -> None:
        """Put ▲ (or ▼ when reversed) after the sorted column's header label."""
        if key not in self.spec.column_keys:
            key = self.spec.default_sort
        self.sorted_by = (key, reverse)
        if not self.columns:
            return  # not mounted yet: on_mount shows it
        for spec_column in self.spec.columns:
            column = self.columns.get(ColumnKey(spec_column.key))
            if column is None:
                continue
            label = Text(self.header_label(spec_column.key))
            column.label = label
            if spec_column.key in self.hidden_columns:
                continue
            fixed = self._fixed_width(spec_column.key)
            if fixed is None:
                column.content_width = max(column.content_width, label.cell_len)
            else:
                column.width = fixed
        self._update_dimensions([])
        self._clear_caches()
        self.refresh()

    # --- narrow layouts ---------------------------------------------------------------

    def on_resize(self) -> None:
        self.fit_columns()

    def fit_columns(self) -> None:
        """Hide columns, in `NARROW_HIDE_ORDER`, until the rest fit the width (an 80-column
        terminal keeps CPU%, RAM and age on screen rather than a 24-character id)."""
        available = self.scrollable_content_region.width
        if available <= 0:
            return
        columns = {str(key.value): column for key, column in self.columns.items()}
        padding = 2 * self.cell_padding
        widths = {
            key: padding + self._natural_width(key, column) for key, column in columns.items()
        }
        total = sum(widths.values())
        hidden: list[str] = []
        for key in NARROW_HIDE_ORDER.get(self.spec.kind, ()):
            if total <= available:
                break
            if key in columns:
                hidden.append(key)
                total -= widths[key] - padding
        if tuple(hidden) == self.hidden_columns:
            return
        self.hidden_columns = tuple(hidden)
        for key, column in columns.items():
            if key in hidden:
                column.auto_width, column.width = False, 0
            elif key in self.spec.column_keys:
                fixed = self._fixed_width(key)
                column.auto_width, column.width = fixed is None, fixed or 0
        self._update_dimensions([])
        self._clear_caches()
        self.refresh()

    def _natural_width(self, key: str, column: Column) -> int:
        if key in self.spec.column_keys:
            fixed = self._fixed_width(key)
            return fixed if fixed is not None else int(column.content_width)
        return int(column.width)

    # --- rendering -------------------------------------------------------------------

    def _cell(self, index: int, value: str) -> Cell:
        # Always Text: DataTable parses a str cell as markup, so "[/x]" in a description
        # would raise (and end the app) and "[b]" would vanish.
        if index == self._status_index:
            style = self._styles.get(status_category(status_of_text(value)), Style())
            return Text(value, style=style)
        return Text(value)

    def _first_cell(self, key: str, value: str) -> Cell:
        badge = self.badges.get(key)
        return self._cell(0, f"{badge} {value}" if badge else value)

    def _row_cells(self, key: str, cells: Cells) -> list[Cell]:
        rendered = [self._cell(i, value) for i, value in enumerate(cells)]
        rendered[0] = self._first_cell(key, cells[0])
        if self.markable:
            rendered.insert(0, MARK if key in self.marks else "")
        return rendered

    def restyle(self) -> None:
        """Re-colour the status cells after a theme change."""
        self._styles = status_styles(self.app.get_css_variables())
        column, index = self.spec.column_keys[self._status_index], self._status_index
        with self.app.batch_update():
            for key, cells in self._cells.items():
                self.update_cell(key, column, self._cell(index, cells[index]))

    def _get_row_style(self, row_index: int, base_style: Style) -> Style:
        style = super()._get_row_style(row_index, base_style)
        if 0 <= row_index < len(self._order) and (self._flash or self.marks):
            key = self._order[row_index]
            if key in self.marks:
                style += self.get_component_rich_style("resource-table--marked", partial=True)
            elif key in self._flash:
                style += self.get_component_rich_style("resource-table--changed", partial=True)
        return style

    # --- applying a snapshot -----------------------------------------------------------

    def apply(self, rows: Rows) -> list[str]:
        """Show ``rows``; return the keys that changed (and are flashed)."""
        new, old = rows.cells, self._cells
        cursor_key = self.selected_key()
        removed = [key for key in old if key not in new]
        flash = self.loaded
        changed: list[str] = []
        with self.app.batch_update():
            if len(removed) > REBUILD_AFTER_REMOVALS and len(removed) * 4 > len(old):
                self._rebuild(rows)
            else:
                for key in removed:
                    self.remove_row(key)
                    self._flash.pop(key, None)
                added: list[str] = []
                for key, cells in new.items():
                    before = old.get(key)
                    if before is None:
                        self.add_row(*self._row_cells(key, cells), key=key)
                        added.append(key)
                    elif before != cells and self._update_row(key, before, cells):
                        changed.append(key)
                if flash:
                    changed.extend(added)
                gone = set(removed)
                order = [key for key in self._order if key not in gone] + added
                if order != rows.order:
                    rank = {key: index for index, key in enumerate(rows.order)}
                    self.sort(self.spec.key_column, key=lambda value: rank[str(value)])
                self._cells = dict(new)
                self._order = list(rows.order)
            self._restore_cursor(cursor_key)
            if changed:
                self._start_flash(changed)
        self.loaded = True
        self.call_after_refresh(self.fit_columns)  # once the new rows' widths are measured
        return changed

    def _update_row(self, key: str, before: Cells, cells: Cells) -> bool:
        significant = False
        for index, (was, now) in enumerate(zip(before, cells, strict=True)):
            if was == now:
                continue
            column_key = self.spec.columns[index].key
            column = self.columns.get(ColumnKey(column_key))
            cell = self._first_cell(key, now) if index == 0 else self._cell(index, now)
            wider = index not in self._fixed and (
                column is None or cell_len(str(cell)) > column.content_width
            )
            self.update_cell(key, column_key, cell, update_width=wider)
            significant = significant or index not in self._volatile
        return significant

    def _rebuild(self, rows: Rows) -> None:
        """Clear the table and add every row again, in order."""
        self.clear()
        self._flash.clear()
        for key in rows.order:
            self.add_row(*self._row_cells(key, rows.cells[key]), key=key)
        self._cells = dict(rows.cells)
        self._order = list(rows.order)

    def replace_all(self, rows: Rows) -> None:
        """The naive alternative to `apply` (the benchmark's baseline)."""
        cursor_key = self.selected_key()
        with self.app.batch_update():
            self._rebuild(rows)
            self._restore_cursor(cursor_key)
        self.loaded = True

    def _restore_cursor(self, key: str | None) -> None:
        if key is None or key not in self.rows:
            return
        index = self.get_row_index(key)
        if index != self.cursor_row:
            self.move_cursor(row=index, scroll=False)

    # --- flashing changed rows ---------------------------------------------------------

    def _start_flash(self, keys: Iterable[str]) -> None:
        until = time.monotonic() + FLASH_SECONDS
        for key in keys:
            self._flash[key] = until
        self.notify_style_update()
        self.set_timer(FLASH_SECONDS + 0.05, self._end_flash)

    def _end_flash(self) -> None:
        now = time.monotonic()
        expired = [key for key, until in self._flash.items() if until <= now]
        for key in expired:
            del self._flash[key]
        if expired:
            self.notify_style_update()

    @property
    def flashing(self) -> frozenset[str]:
        return frozenset(self._flash)

    def set_badges(self, badges: dict[str, str]) -> None:
        """Show ``badges`` (row key -> glyph) before the first cell of their rows."""
        if badges == self.badges:
            return
        changed = {
            key
            for key in self.badges.keys() | badges.keys()
            if self.badges.get(key) != badges.get(key)
        }
        self.badges = dict(badges)
        column_key = self.spec.columns[0].key
        with self.app.batch_update():
            for key in changed:
                cells = self._cells.get(key)
                if cells is not None and key in self.rows:
                    cell = self._first_cell(key, cells[0])
                    self.update_cell(key, column_key, cell, update_width=True)

    # --- selection and marks -------------------------------------------------------------

    def selected_key(self) -> str | None:
        if not self.row_count:
            return None
        try:
            key = self.coordinate_to_cell_key(Coordinate(self.cursor_row, 0)).row_key.value
        except Exception:  # the cursor can briefly point past the last row
            return None
        return key

    def select_key(self, key: str) -> bool:
        if key not in self.rows:
            return False
        self.move_cursor(row=self.get_row_index(key))
        return True

    def keys_in_order(self) -> list[str]:
        return list(self._order)

    def set_marked(self, key: str, marked: bool) -> None:
        if not self.markable or key not in self.rows:
            return
        if marked:
            self.marks.add(key)
        else:
            self.marks.discard(key)
        self.update_cell(key, MARK_COLUMN, MARK if marked else "")
        self.notify_style_update()

    def prune_marks(self, existing: Iterable[str]) -> None:
        """Forget marks of rows that no longer exist (marks of filtered-out rows stay)."""
        self.marks &= set(existing)

    def clear_marks(self) -> None:
        with self.app.batch_update():
            for key in list(self.marks):
                if key in self.rows:
                    self.update_cell(key, MARK_COLUMN, "")
            self.marks.clear()
            self.notify_style_update()
