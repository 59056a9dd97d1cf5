"""The computers table: applies each poll as a keyed diff so the cursor, scroll
position and marks survive refreshes."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.widgets import DataTable

from ..format import COMPUTER_COLUMNS, STATUS_STYLES, computer_cells
from ..table_diff import diff_rows

STATUS_COLUMN = 2


class ComputersTable(DataTable[Any]):
    def on_mount(self) -> None:
        self.cursor_type = "row"
        self.zebra_stripes = True
        for label in COMPUTER_COLUMNS:
            self.add_column(label, key=label.lower())
        self._cells: dict[str, tuple[str, ...]] = {}
        self.computers: dict[str, dict[str, Any]] = {}

    def _styled_cell(self, index: int, value: str) -> str | Text:
        if index == STATUS_COLUMN:
            status = value.split(" ", 1)[-1]
            return Text(value, style=STATUS_STYLES.get(status, ""))
        return value

    def apply(self, computers: list[dict[str, Any]]) -> None:
        new_cells = {str(c["id"]): computer_cells(c) for c in computers}
        diff = diff_rows(self._cells, new_cells)
        self.computers = {str(c["id"]): c for c in computers}
        if diff.empty:
            return
        with self.app.batch_update():
            for key in diff.removed:
                self.remove_row(key)
            for key, indexes in diff.changed.items():
                for index in indexes:
                    self.update_cell(
                        key,
                        COMPUTER_COLUMNS[index].lower(),
                        self._styled_cell(index, new_cells[key][index]),
                        update_width=True,
                    )
            for key in diff.added:
                cells = new_cells[key]
                self.add_row(*(self._styled_cell(i, v) for i, v in enumerate(cells)), key=key)
        self._cells = new_cells

    def selected(self) -> dict[str, Any] | None:
        if not self.row_count:
            return None
        key = self.coordinate_to_cell_key(self.cursor_coordinate).row_key.value
        return self.computers.get(str(key)) if key is not None else None
