"""The computers view: the live table, and Overview / Exec / Ports / Activity panes for the
selection."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from textual import on
from textual.app import ComposeResult
from textual.widgets import DataTable, TabbedContent, TabPane

from celesto_api import Computer, limits

from ...model.activity import ActivityLog
from ...model.clock import Clock
from ...model.computers_table import COMPUTERS, SHELL_MARK
from ...model.ui_state import ViewState
from ..bindings import bindings
from ..intents import CreateRequested, LifecycleRequested, PublishRequested, TerminalRequested
from .activity_pane import ActivityPane
from .exec_pane import ExecPane
from .overview_pane import OverviewPane
from .ports_pane import PortsPane
from .table_view import TableView

PANES = ("overview", "exec", "ports", "activity")


class ComputersView(TableView[Computer]):
    DEFAULT_CSS = """
    ComputersView #detail { height: 45%; min-height: 12; }
    ComputersView #detail:focus-within { height: 65%; }
    ComputersView #detail TabPane { padding: 0; }
    ComputersView.-zoom-table #detail { display: none; }
    ComputersView.-zoom-detail #detail { height: 1fr; }
    """
    TITLE = "Computers"
    SCOPE = "computers"
    BINDINGS = bindings("computers")

    def __init__(
        self,
        state: ViewState,
        *,
        clock: Clock | None = None,
        exec_history: Mapping[str, list[str]] | None = None,
        create_hint: str = "",
        activity: ActivityLog | None = None,
        covered_at_start: bool = False,
    ) -> None:
        super().__init__(COMPUTERS, state, markable=True, id="computers", clock=clock)
        self.create_hint = create_hint  # " Press n to create one." unless read-only
        self.overview = OverviewPane()
        self.exec_pane = ExecPane(exec_history)
        self.ports_pane = PortsPane(self.clock)
        self.activity_pane = ActivityPane(activity or ActivityLog(), self.clock)
        self._shown_key: str | None = None
        self.shells: frozenset[str] = frozenset()
        # Covered by its loading indicator in the first frame (the embedded backend is
        # starting): the detail panes are then mounted right after it, with the others.
        self._detail_later = covered_at_start

    def compose(self) -> ComposeResult:
        yield from super().compose()
        if not self._detail_later:
            with TabbedContent(id="detail", initial="pane-overview"):
                yield from self._detail_panes()

    def _detail_panes(self) -> list[TabPane]:
        # The Exec, Ports and Activity panes are empty at first: mount_hidden_panes fills them.
        return [
            TabPane("Overview", self.overview, id="pane-overview"),
            TabPane("Exec", id="pane-exec"),
            TabPane("Ports", id="pane-ports"),
            TabPane("Activity", id="pane-activity"),
        ]

    async def mount_hidden_panes(self) -> None:
        """Mount what the first frame did not show: the detail panes when they came later,
        then the Exec, Ports and Activity panes (once, however often called)."""
        if self._detail_later:
            self._detail_later = False
            detail = TabbedContent(id="detail")  # the first pane added is the one shown
            await self.mount(detail)
            for tab_pane in self._detail_panes():
                await detail.add_pane(tab_pane)
        for pane, tab in (
            (self.exec_pane, "#pane-exec"),
            (self.ports_pane, "#pane-ports"),
            (self.activity_pane, "#pane-activity"),
        ):
            if pane.parent is None:
                await self.query_one(tab, TabPane).mount(pane)

    # --- selection -----------------------------------------------------------------------

    def rows_applied(self) -> None:
        self._mark_shells()
        self.show_selected(force=True)

    @on(DataTable.RowHighlighted)
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.data_table is self.table:
            self.show_selected()

    @on(DataTable.RowSelected)
    def _row_selected(self, event: DataTable.RowSelected) -> None:
        """Enter on a computer goes into the pane shown below the table."""
        if event.data_table is not self.table:
            return
        event.stop()
        if self.zoom == "table":
            self.set_zoom("")
        self.focus_detail()

    def show_selected(self, force: bool = False) -> None:
        key = self.table.selected_key()
        if key == self._shown_key and not force:
            return
        self._shown_key = key
        computer = self.items.get(key) if key is not None else None
        self.overview.show_computer(computer, self._empty_text())
        self.exec_pane.show_computer(computer)
        self.ports_pane.show_computer(computer)
        self.activity_pane.show_computer(computer)

    def _empty_text(self) -> str:
        """What the overview says when no computer is selected."""
        if not self.table.loaded:
            return "Loading the computers…"
        if not self.items:
            return f"No computers yet.{self.create_hint}"
        if not self.table.row_count:
            return (
                f'No computer matches the filter "{self.params.filter.text}" '
                "(/ edits it; Esc in the filter bar clears it)."
            )
        return "Select a computer."

    def targets(self) -> list[Computer]:
        """Marked computers, else the selected one."""
        if self.table.marks:
            return [self.items[key] for key in sorted(self.table.marks) if key in self.items]
        selected = self.selected()
        return [selected] if selected is not None else []

    def _targets_or_warn(self) -> list[Computer]:
        targets = self.targets()
        if not targets:
            self.app.notify("No computer selected.", severity="warning")
        return targets

    def _selected_or_warn(self) -> Computer | None:
        computer = self.selected()
        if computer is None:
            self.app.notify("No computer selected.", severity="warning")
        return computer

    def extra_title(self) -> list[str | tuple[str, str]]:
        parts: list[str | tuple[str, str]] = []
        if len(self.items) >= limits.LIST_LIMIT_MAX:
            # The API lists at most this many and has no paging: say so, not "200 computers".
            parts += [" │ ", (f"the first {limits.LIST_LIMIT_MAX} (the API's limit)", "$warning")]
        if self.table.marks:
            parts += [" │ ", (f"{len(self.table.marks)} marked", "bold $accent")]
        return parts

    def show_shells(self, computer_ids: Iterable[str]) -> None:
        """Mark the computers that have a shell opened here (`SHELL_MARK`)."""
        self.shells = frozenset(computer_ids)
        self._mark_shells()

    @property
    def live_shells(self) -> frozenset[str]:
        """The computers marked with `SHELL_MARK`: a shell opened here runs on them."""
        return frozenset(self.table.badges)

    def _mark_shells(self) -> None:
        # A stop ends a computer's shells, those of closed tabs too (nothing tells those
        # apart from their computer's status until they are opened again).
        running = (
            key
            for key in self.shells
            if (computer := self.items.get(key)) is not None and computer.get("status") == "running"
        )
        self.table.set_badges(dict.fromkeys(running, SHELL_MARK))

    # --- panes ---------------------------------------------------------------------------

    def _show_detail(self) -> None:
        if self.zoom == "table":
            self.set_zoom("")

    def action_pane(self, name: str) -> None:
        self._show_detail()
        self.query_one("#detail", TabbedContent).active = f"pane-{name}"
        if name == "ports":
            self.ports_pane.table.focus()
            self.ports_pane.show_computer(self.selected())
            self.call_after_refresh(self.ports_pane.probe_unprobed)
        elif name == "overview":
            self.overview.focus()
        elif name == "activity":
            self.activity_pane.table.focus()

    @on(TabbedContent.TabActivated)
    def _pane_activated(self, event: TabbedContent.TabActivated) -> None:
        if event.tabbed_content.id == "detail" and event.pane.id == "pane-activity":
            self.activity_pane.fetch(shown=True)

    def activity_changed(self) -> None:
        """The activity log changed (a poll saw a transition, an action moved on)."""
        self.activity_pane.show_rows()
        self.activity_pane.fetch()

    def focus_detail(self) -> None:
        active = self.query_one("#detail", TabbedContent).active.removeprefix("pane-")
        if active == "exec":
            self.exec_pane.focus_prompt()
        else:
            self.action_pane(active or "overview")

    def action_cycle_pane(self, step: int) -> None:
        detail = self.query_one("#detail", TabbedContent)
        current = detail.active.removeprefix("pane-")
        index = PANES.index(current) if current in PANES else 0
        detail.active = f"pane-{PANES[(index + step) % len(PANES)]}"

    # --- actions -------------------------------------------------------------------------

    def action_create(self) -> None:
        self.post_message(CreateRequested())

    def action_start(self) -> None:
        if targets := self._targets_or_warn():
            self.post_message(LifecycleRequested("start", targets))

    def action_stop(self) -> None:
        if targets := self._targets_or_warn():
            self.post_message(LifecycleRequested("stop", targets))

    def action_delete(self) -> None:
        if targets := self._targets_or_warn():
            self.post_message(LifecycleRequested("delete", targets))

    def action_exec(self) -> None:
        self.show_exec(self.selected())

    def show_exec(self, computer: Computer | None) -> None:
        """The exec pane of ``computer``, its prompt focused."""
        self._show_detail()
        self.query_one("#detail", TabbedContent).active = "pane-exec"
        self.exec_pane.show_computer(computer)
        self.exec_pane.focus_prompt()

    def show_ports(self) -> None:
        """The ports pane, where a publish or unpublish shows (the table keeps the focus)."""
        self._show_detail()
        self.query_one("#detail", TabbedContent).active = "pane-ports"

    def action_publish(self) -> None:
        if computer := self._selected_or_warn():
            self.show_ports()
            self.post_message(PublishRequested(computer))

    def action_terminal(self) -> None:
        if computer := self._selected_or_warn():
            self.post_message(TerminalRequested(computer))

    def action_copy_id(self) -> None:
        if computer := self._selected_or_warn():
            self.app.copy_to_clipboard(computer["id"])
            self.app.notify(f"Copied {computer['id']}")

    def action_mark(self) -> None:
        key = self.table.selected_key()
        if key is None:
            return
        self.table.set_marked(key, key not in self.table.marks)
        self.update_title()
        if self.table.cursor_row < self.table.row_count - 1:
            self.table.move_cursor(row=self.table.cursor_row + 1)

    def action_mark_all(self) -> None:
        with self.app.batch_update():
            for key in self.table.keys_in_order():
                self.table.set_marked(key, True)
        self.update_title()

    def action_clear_marks(self) -> None:
        self.table.clear_marks()
        self.update_title()
