"""The Activity pane: what happened to the selected computer, oldest first (newest at the
bottom, as in the Events section of ``kubectl describe`` that k9s shows for one object: a
log read top to bottom, that keeps to its end while new rows arrive).

Rows come from the `ActivityLog` the app hands in (status transitions its polls saw, the
actions it took, the API's command history). The history is fetched by the controller: the
pane asks (`ActivityRequested`) when it is shown, when the selection changes and on each
refresh, and redraws when `ActivityFetched` comes back. ``/`` or ctrl+f searches; Esc clears
the search, then leaves.
"""

from __future__ import annotations

from datetime import datetime

from rich.style import Style
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import DataTable, Input, Label, Static

from celesto_api import Computer

from ...model.activity import ActivityLog, ActivityRow
from ...model.clock import Clock, SystemClock
from ..bindings import bindings
from ..intents import ActivityRequested, FocusTableRequested
from ..messages import ActivityFetched
from .resource_table import status_styles

EMPTY = (
    "Nothing yet. Status changes this dashboard sees, actions you take (s, x, e, t, P…) "
    "and commands from the API's history appear here, newest at the bottom."
)


def when(at: datetime, now: datetime) -> str:
    """Local wall-clock time; the date too when it is not today."""
    local = at.astimezone()
    if local.date() == now.astimezone().date():
        return local.strftime("%H:%M:%S")
    return local.strftime("%b %d %H:%M:%S")


KIND_WIDTH = 6
MIN_WHAT_WIDTH = 20
VERTICAL_SCROLLBAR = 2


class ActivityTable(DataTable[str | Text]):
    BINDINGS = bindings("table")

    def __init__(self) -> None:
        super().__init__(id="activity-table", cursor_type="row", zebra_stripes=False)


class ActivityPane(Vertical):
    DEFAULT_CSS = """
    ActivityPane { height: 1fr; }
    ActivityPane #activity-hint { height: 1; padding: 0 1; color: $text-muted; }
    ActivityPane #activity-error { height: auto; padding: 0 1; color: $error; display: none; }
    ActivityPane #activity-error.shown { display: block; }
    ActivityPane #activity-search { display: none; }
    ActivityPane #activity-search.shown { display: block; }
    ActivityPane #activity-empty { padding: 0 1; color: $text-muted; display: none; }
    ActivityPane #activity-empty.shown { display: block; }
    ActivityPane ActivityTable { height: 1fr; }
    """
    BINDINGS = bindings("activity")

    def __init__(self, activity: ActivityLog, clock: Clock | None = None) -> None:
        super().__init__(id="activity-pane")
        self.activity = activity
        self.clock = clock or SystemClock()
        self.computer: Computer | None = None
        self.shown_rows: list[ActivityRow] = []
        self.table = ActivityTable()

    def compose(self) -> ComposeResult:
        yield Static("Select a computer.", id="activity-hint", markup=False)
        yield Label("", id="activity-error", markup=False)
        yield Input(
            placeholder="search the activity (Enter: back to the list, Esc: clear)",
            id="activity-search",
            compact=True,
        )
        yield Static(EMPTY, id="activity-empty", markup=False)
        yield self.table

    def on_mount(self) -> None:
        self._add_columns(8)

    def _add_columns(self, time_width: int) -> None:
        # "What" takes the width that is left, cut with an ellipsis: a long command would
        # otherwise widen the table past the pane and bring in a horizontal scrollbar.
        table = self.table
        padding = 2 * table.cell_padding * 3 + VERTICAL_SCROLLBAR
        what_width = max(MIN_WHAT_WIDTH, table.size.width - time_width - KIND_WIDTH - padding)
        table.add_column("Time", key="time", width=time_width)
        table.add_column("Kind", key="kind", width=KIND_WIDTH)
        table.add_column("What", key="what", width=what_width)

    def on_resize(self) -> None:
        self._fill(self.shown_rows)

    @property
    def search(self) -> Input:
        return self.query_one("#activity-search", Input)

    @property
    def computer_id(self) -> str | None:
        return self.computer["id"] if self.computer else None

    # --- data in -------------------------------------------------------------------------

    def show_computer(self, computer: Computer | None) -> None:
        previous = self.computer_id
        self.computer = computer
        if self.computer_id != previous:
            self.show_rows(follow=True)
            self.fetch()
        else:
            self.show_rows()

    def fetch(self, shown: bool = False) -> None:
        """Ask for the command history again (only while the pane is on screen, or
        ``shown``: about to be)."""
        if self.computer_id is not None and (shown or self.is_on_screen):
            # Sent by the pane even when a parent's handler calls this: a message whose
            # sender is a parent stops bubbling at that parent, short of the app.
            request = ActivityRequested(self, self.computer_id).set_sender(self)
            self.post_message(request)

    def on_activity_fetched(self, message: ActivityFetched) -> None:
        message.stop()
        if message.computer_id == self.computer_id:
            self.show_rows()

    def show_rows(self, follow: bool = False) -> None:
        """Draw the selected computer's rows; the cursor stays at the end if it was there."""
        table = self.table
        computer_id = self.computer_id
        query = self.search.value
        rows = self.activity.rows(computer_id, query) if computer_id else []
        cursor = table.cursor_row
        at_end = follow or cursor >= table.row_count - 1
        if rows != self.shown_rows or not table.row_count:
            self.shown_rows = rows
            self._fill(rows)
            if rows:  # at the end it keeps to the end; scrolled up, it stays put
                row = len(rows) - 1 if at_end else min(cursor, len(rows) - 1)
                table.move_cursor(row=row, animate=False)
        error = self.activity.history_error(computer_id) if computer_id else ""
        label = self.query_one("#activity-error", Label)
        label.update(f"✗ Could not fetch the command history: {error}" if error else "")
        label.set_class(bool(error), "shown")
        self._hint(len(self.activity.rows(computer_id)) if computer_id else 0, query)

    def _fill(self, rows: list[ActivityRow]) -> None:
        styles = status_styles(self.app.get_css_variables())
        now = self.clock.now()
        table = self.table
        times = [when(row.at, now) for row in rows]
        with self.app.batch_update():
            table.clear(columns=True)
            self._add_columns(max(map(len, times), default=8))
            for index, (row, at) in enumerate(zip(rows, times, strict=True)):
                style = styles.get(row.tone, Style()) if row.tone != "plain" else Style()
                text = Text(row.text, style=style, no_wrap=True, overflow="ellipsis")
                table.add_row(at, row.kind, text, key=str(index))
        empty = self.query_one("#activity-empty", Static)
        empty.set_class(not rows and self.computer is not None and not self.search.value, "shown")

    def _hint(self, total: int, query: str) -> None:
        hint = self.query_one("#activity-hint", Static)
        if self.computer is None:
            hint.update("Select a computer.")
            return
        name = self.computer.get("name", "")
        count = f"{total} event{'s' if total != 1 else ''}"
        if query.strip():
            count = f"{len(self.shown_rows)} of {total} events match “{query.strip()}”"
        hint.update(f"Activity of {name} · {count} · / search · Esc back")

    # --- search ----------------------------------------------------------------------------

    def action_search(self) -> None:
        self.search.add_class("shown")
        self.search.focus()

    @on(Input.Changed, "#activity-search")
    def _search_changed(self, event: Input.Changed) -> None:
        event.stop()
        self.show_rows(follow=True)

    @on(Input.Submitted, "#activity-search")
    def _search_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.table.focus()

    def action_leave(self) -> None:
        """Esc: clear the search first, then back to the computers table."""
        search = self.search
        if search.value or search.has_class("shown"):
            search.value = ""
            search.remove_class("shown")
            self.table.focus()
            return
        self.post_message(FocusTableRequested())
