"""The command log (every change, as a command line) and the errors view."""

from __future__ import annotations

from datetime import datetime

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.coordinate import Coordinate
from textual.widgets import DataTable, Static

from ...model.command_log import CommandLog, LogEntry
from ...model.errors import ErrorEntry, ErrorLog
from ..bindings import bindings


class LogTable(DataTable[str | Text]):
    """A log's table: rows keyed by their index in the log, the keys of every table."""

    BINDINGS = bindings("table")

    def __init__(self, id: str) -> None:
        super().__init__(id=id, cursor_type="row")


def selected_index(table: LogTable) -> int | None:
    """Rows are keyed by their index in the log."""
    if not table.row_count:
        return None
    key = table.coordinate_to_cell_key(Coordinate(table.cursor_row, 0)).row_key.value
    return int(key) if key is not None else None


def local_time(at: datetime) -> str:
    """The user's wall-clock time (entries are stamped in UTC)."""
    return at.astimezone().strftime("%H:%M:%S")


STATUS_MARKS = {
    "running": "◐ running",
    "ok": "✔ ok",
    "failed": "✖ failed",
    "cancelled": "■ cancelled",
}


class CommandLogView(Vertical):
    DEFAULT_CSS = """
    CommandLogView DataTable { height: 1fr; border: round $primary 60%; }
    CommandLogView #command-detail { height: auto; max-height: 8; padding: 0 1; }
    """
    BINDINGS = bindings("commands")

    def __init__(self, log: CommandLog) -> None:
        super().__init__(id="commands")
        self.entries_log = log
        self.table = LogTable("commands-table")

    def compose(self) -> ComposeResult:
        yield self.table
        yield Static("", id="command-detail", markup=False)

    def on_mount(self) -> None:
        for label, key in (
            ("Time", "time"),
            ("Action", "action"),
            ("On", "on"),
            ("Result", "result"),
            ("Command line", "line"),
        ):
            self.table.add_column(label, key=key)
        self.table.border_title = " Command log · y copies the line "
        self.refresh_entries()

    def refresh_entries(self) -> None:
        table = self.table
        cursor = table.cursor_row
        with self.app.batch_update():
            table.clear()
            for index, entry in enumerate(reversed(self.entries_log.entries)):
                table.add_row(
                    local_time(entry.at),
                    Text(entry.action),
                    Text(entry.subject),
                    STATUS_MARKS.get(entry.status, entry.status),
                    Text(entry.line),
                    key=str(len(self.entries_log.entries) - 1 - index),
                )
            if table.row_count:
                table.move_cursor(row=min(cursor, table.row_count - 1))
        self._show_detail()

    @on(DataTable.RowHighlighted)
    def _show_detail(self) -> None:
        entry = self._selected()
        detail = self.query_one("#command-detail", Static)
        detail.update("" if entry is None else f"{entry.line}\n{entry.detail}".rstrip())

    def _selected(self) -> LogEntry | None:
        index = selected_index(self.table)
        return self.entries_log.entries[index] if index is not None else None

    def action_copy_command(self) -> None:
        entry = self._selected()
        if entry is None:
            self.app.notify("Nothing to copy yet.", severity="warning")
            return
        self.app.copy_to_clipboard(entry.line)
        self.app.notify(f"Copied: {entry.line}")


class ErrorsView(Vertical):
    DEFAULT_CSS = """
    ErrorsView DataTable { height: 50%; border: round $error 60%; }
    ErrorsView #error-detail { height: 1fr; padding: 0 1; border: round $primary 40%; }
    """
    BINDINGS = bindings("errors")

    def __init__(self, log: ErrorLog) -> None:
        super().__init__(id="errors")
        self.entries_log = log
        self.table = LogTable("errors-table")

    def compose(self) -> ComposeResult:
        yield self.table
        with VerticalScroll(id="error-detail"):
            yield Static("No unexpected errors.", id="error-text", markup=False)

    def on_mount(self) -> None:
        for label, key in (("Time", "time"), ("Where", "source"), ("What", "summary")):
            self.table.add_column(label, key=key)
        self.table.border_title = " Errors · y copies · c clears "
        self.refresh_entries()

    def refresh_entries(self) -> None:
        table = self.table
        with self.app.batch_update():
            table.clear()
            for index, entry in enumerate(reversed(self.entries_log.entries)):
                table.add_row(
                    local_time(entry.at),
                    Text(entry.source),
                    Text(entry.summary[:120]),
                    key=str(len(self.entries_log.entries) - 1 - index),
                )
        self._show_detail()

    @on(DataTable.RowHighlighted)
    def _show_detail(self) -> None:
        entry = self._selected()
        text = self.query_one("#error-text", Static)
        text.update("No unexpected errors." if entry is None else entry.details)

    def _selected(self) -> ErrorEntry | None:
        index = selected_index(self.table)
        return self.entries_log.entries[index] if index is not None else None

    def action_copy_error(self) -> None:
        entry = self._selected()
        if entry is not None:
            self.app.copy_to_clipboard(entry.details)
            self.app.notify("Copied the error details.")

    def action_clear_errors(self) -> None:
        self.entries_log.clear()
        self.refresh_entries()
