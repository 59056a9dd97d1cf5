"""The Activity pane (`a`): status transitions the polls saw, the actions taken, the API's
command history, searchable, following the selection; a failed history fetch is a line in
the pane. The real app against the real embedded backend; faults from the server's switch."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from textual.app import App, ComposeResult
from textual.widgets import Input, Label

from celesto_api import Celesto
from celesto_api.local import LocalServer
from celesto_tui.app.screens.confirm import ConfirmScreen
from celesto_tui.app.widgets.activity_pane import ActivityPane, when
from celesto_tui.model.activity import MAX_EVENTS, ActivityLog
from celesto_tui.model.clock import FrozenClock
from celesto_tui.model.command_log import LogEntry

from .conftest import AppFactory, computers_view, loaded, select, status_of, wait_for

T0 = datetime(2026, 1, 2, 12, 0, tzinfo=UTC)


def pane_of(app: Any) -> ActivityPane:
    return computers_view(app).activity_pane


def texts(pane: ActivityPane) -> list[str]:
    """The What column as drawn, top to bottom."""
    return [str(pane.table.get_row_at(index)[2]) for index in range(pane.table.row_count)]


def shown(pane: ActivityPane, part: str) -> bool:
    return any(part in text for text in texts(pane))


async def test_stop_and_start_show_the_transitions_and_the_actions(
    make_app: AppFactory, running_computer: dict[str, Any]
) -> None:
    app = make_app()
    async with app.run_test(size=(160, 44)) as pilot:
        await loaded(pilot)
        await select(pilot, running_computer["id"])
        await pilot.press("a")
        pane = pane_of(app)
        assert pane.table.has_focus
        await wait_for(pilot, lambda: shown(pane, "status running (first seen)"))

        await pilot.press("x")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.click("#confirm")
        await wait_for(pilot, lambda: status_of(app, running_computer["id"]) == "stopped")
        await wait_for(pilot, lambda: shown(pane, "→ stopped"), what="the transition")
        await wait_for(pilot, lambda: shown(pane, "action stop (by you) ✔ ok"))

        await pilot.press("s")  # a single start does not ask
        await wait_for(
            pilot, lambda: shown(pane, "stopped → starting") or shown(pane, "stopped → running")
        )
        await wait_for(pilot, lambda: shown(pane, "action start (by you) ✔ ok"))
        await wait_for(
            pilot,
            lambda: texts(pane)[-1].endswith("→ running") or shown(pane, "starting → running"),
        )
        rows = texts(pane)
        # Oldest first: the first sighting, the stop, then the start.
        first = rows.index("status running (first seen)")
        stop = rows.index("action stop (by you) ✔ ok")
        start = rows.index("action start (by you) ✔ ok")
        assert first < stop < start
        assert pane.table.cursor_row == pane.table.row_count - 1  # it keeps to the end
        kinds = {str(pane.table.get_row_at(i)[1]) for i in range(pane.table.row_count)}
        assert kinds >= {"status", "action"}


async def test_an_exec_shows_in_the_history_with_its_exit_code(
    make_app: AppFactory, running_computer: dict[str, Any], sdk: Celesto
) -> None:
    # Run elsewhere: the API keeps no command text.
    sdk.computers.exec(running_computer["id"], "true")
    app = make_app()
    async with app.run_test(size=(160, 44)) as pilot:
        await loaded(pilot)
        await select(pilot, running_computer["id"])
        await pilot.press("e")
        exec_pane = computers_view(app).exec_pane
        exec_pane.prompt.value = "echo activity; exit 3"
        await pilot.press("enter")
        await wait_for(pilot, lambda: exec_pane.last_exit == 3, what="the exec")
        await pilot.press("escape", "a")
        pane = pane_of(app)
        await wait_for(pilot, lambda: shown(pane, "exec $ echo activity; exit 3 → exit 3 ("))
        assert shown(pane, "(from exec) → exit 0 ("), texts(pane)
        rows = texts(pane)
        assert rows.index(next(r for r in rows if "(from " in r)) < rows.index(
            next(r for r in rows if "echo activity" in r)
        )


async def test_the_pane_reached_by_bracket_keys_fetches_the_history_without_polls(
    make_app: AppFactory, running_computer: dict[str, Any], sdk: Celesto
) -> None:
    sdk.computers.exec(running_computer["id"], "true")
    app = make_app(refresh=0)  # manual: no poll after the first brings the history
    async with app.run_test(size=(160, 44)) as pilot:
        await loaded(pilot)
        await select(pilot, running_computer["id"])
        pane = pane_of(app)
        await pilot.press("right_square_bracket", "right_square_bracket")
        assert not shown(pane, "(from exec)")
        await pilot.press("right_square_bracket")  # overview → exec → ports → activity
        await wait_for(pilot, lambda: shown(pane, "(from exec) → exit 0 ("), what="history")


async def test_search_filters_the_rows_and_escape_clears_then_leaves(
    make_app: AppFactory, running_computer: dict[str, Any], sdk: Celesto
) -> None:
    sdk.computers.exec(running_computer["id"], "true")
    app = make_app()
    async with app.run_test(size=(160, 44)) as pilot:
        await loaded(pilot)
        await select(pilot, running_computer["id"])
        await pilot.press("a")
        pane = pane_of(app)
        await wait_for(pilot, lambda: shown(pane, "(from exec)") and shown(pane, "first seen"))
        everything = texts(pane)
        await pilot.press("slash")
        search = pane.query_one("#activity-search", Input)
        assert search.has_focus
        await pilot.press(*"from")
        await wait_for(pilot, lambda: texts(pane) and all("(from exec)" in t for t in texts(pane)))
        assert len(texts(pane)) < len(everything)
        hint = str(pane.query_one("#activity-hint").render())
        assert "match “from”" in hint
        await pilot.press("escape")  # clears the search, the list stays
        assert not search.value and pane.table.has_focus
        assert texts(pane) == everything
        await pilot.press("ctrl+f", *"nothing-like-this")
        await wait_for(pilot, lambda: pane.table.row_count == 0)
        await pilot.press("escape", "escape")
        assert computers_view(app).table.has_focus


async def test_a_failed_history_fetch_is_a_line_in_the_pane(
    make_app: AppFactory, running_computer: dict[str, Any], local_server: LocalServer
) -> None:
    app = make_app()
    async with app.run_test(size=(160, 44)) as pilot:
        await loaded(pilot)
        await select(pilot, running_computer["id"])
        local_server.set_faults("error_rate=1")  # every request fails for now
        await pilot.press("a")
        pane = pane_of(app)
        error = pane.query_one("#activity-error", Label)
        await wait_for(pilot, lambda: error.has_class("shown"), what="the error line")
        assert str(error.render()).startswith("✗ Could not fetch the command history:")
        assert app.is_running
        local_server.set_faults(None)
        # The next refresh fetches again, and the line goes.
        await wait_for(pilot, lambda: not error.has_class("shown"), what="the error gone")


async def test_it_follows_the_selection_through_a_re_sort(
    make_app: AppFactory, running_computer: dict[str, Any], stopped_computer: dict[str, Any]
) -> None:
    app = make_app()
    async with app.run_test(size=(160, 44)) as pilot:
        await loaded(pilot)
        await select(pilot, stopped_computer["id"])
        await pilot.press("a")
        pane = pane_of(app)
        await wait_for(pilot, lambda: texts(pane) == ["status stopped (first seen)"])
        await pilot.press("escape")
        await select(pilot, running_computer["id"])
        await wait_for(pilot, lambda: texts(pane) == ["status running (first seen)"])
        view = computers_view(app)
        await pilot.press("o", "O")  # re-sort: the selection and its activity stay
        await wait_for(pilot, lambda: view.table.selected_key() == running_computer["id"])
        await pilot.pause()
        assert texts(pane) == ["status running (first seen)"]
        assert str(running_computer["name"]) in str(pane.query_one("#activity-hint").render())


class PaneAlone(App[None]):
    """The pane in an app of its own, with a log the test writes to."""

    def __init__(self, log: ActivityLog) -> None:
        super().__init__()
        self.pane = ActivityPane(log, FrozenClock(T0))

    def compose(self) -> ComposeResult:
        yield self.pane


async def test_empty_state_says_what_will_appear() -> None:
    log = ActivityLog()
    app = PaneAlone(log)
    async with app.run_test(size=(100, 12)) as pilot:
        pane = app.pane
        empty = pane.query_one("#activity-empty")
        assert str(pane.query_one("#activity-hint").render()) == "Select a computer."
        assert not empty.has_class("shown")
        pane.show_computer({"id": "cmp_a", "name": "ada"})
        await pilot.pause()
        assert empty.has_class("shown")
        assert "Status changes this dashboard sees" in str(empty.render())
        log.polled([{"id": "cmp_a", "status": "running"}], T0)
        pane.show_rows()
        await pilot.pause()
        assert not empty.has_class("shown")
        assert texts(pane) == ["status running (first seen)"]
        assert str(pane.table.get_row_at(0)[0]) == when(T0, T0)  # today: the time alone


async def test_the_cursor_keeps_to_the_end_unless_moved_up() -> None:
    log = ActivityLog()
    app = PaneAlone(log)
    async with app.run_test(size=(100, 20)) as pilot:
        pane = app.pane
        statuses = ["running", "stopping", "stopped", "starting", "running"]
        for index, status in enumerate(statuses[:3]):
            log.polled([{"id": "cmp_a", "status": status}], T0 + timedelta(seconds=index))
        pane.show_computer({"id": "cmp_a", "name": "ada"})
        await pilot.pause()
        assert pane.table.cursor_row == 2  # the newest, at the bottom
        log.polled([{"id": "cmp_a", "status": statuses[3]}], T0 + timedelta(seconds=3))
        pane.show_rows()
        await pilot.pause()
        assert pane.table.cursor_row == 3  # it follows new rows
        pane.table.move_cursor(row=1)
        log.polled([{"id": "cmp_a", "status": statuses[4]}], T0 + timedelta(seconds=4))
        pane.show_rows()
        await pilot.pause()
        assert pane.table.row_count == 5 and pane.table.cursor_row == 1  # moved up: stays


# --- the model, without Textual ------------------------------------------------------------


def test_memory_is_bounded_per_computer_and_gone_computers_are_forgotten() -> None:
    log = ActivityLog()
    for index in range(MAX_EVENTS + 100):
        status = "running" if index % 2 else "stopped"
        log.polled([{"id": "a", "status": status}], T0 + timedelta(seconds=index))
    rows = log.rows("a")
    assert len(rows) == MAX_EVENTS
    assert rows[-1].at == T0 + timedelta(seconds=MAX_EVENTS + 99)  # the newest kept
    log.polled([{"id": "b", "status": "running"}], T0)
    assert log.rows("a") == []


def test_actions_follow_their_command_log_entry() -> None:
    log = ActivityLog()
    entry = LogEntry(T0, "stop", "ada", "celesto-tui computer stop ada --local")
    log.action("a", T0, entry)
    assert log.rows("a")[0].text == "action stop (by you) ◐ running"
    entry.finish("failed", "Computer is busy")
    assert log.rows("a")[0].text == "action stop (by you) ✗ error · Computer is busy"
    assert log.rows("a")[0].tone == "bad"


def test_history_rows_merge_by_time_with_the_known_command_text() -> None:
    log = ActivityLog()
    log.polled([{"id": "a", "status": "running"}], T0)
    log.command_ran("cmd_1", "ls -la")
    log.history_fetched(
        "a",
        [
            {
                "command_id": "cmd_1",
                "source": "sdk",
                "status": "completed",
                "started_at": "2026-01-02T12:00:05Z",
                "duration_ms": 12,
                "exit_code": 0,
            },
            {
                "command_id": "cmd_0",
                "source": "terminal",
                "status": "timed_out",
                "started_at": "2026-01-02T11:59:00Z",
                "duration_ms": 30000,
            },
        ],
    )
    assert [row.text for row in log.rows("a")] == [
        "exec cmd_0 (from terminal) → timed out (30.0 s)",
        "status running (first seen)",
        "exec $ ls -la → exit 0 (12 ms)",
    ]
    assert [row.text for row in log.rows("a", "LS")] == ["exec $ ls -la → exit 0 (12 ms)"]
    log.history_failed("a", "The API is unavailable")
    assert log.history_error("a") == "The API is unavailable"
    assert len(log.rows("a")) == 3  # what was fetched before stays


def test_times_show_the_date_when_not_today() -> None:
    assert when(T0, T0 + timedelta(hours=1)).count(":") == 2
    assert len(when(T0, T0 + timedelta(hours=1))) == 8
    assert " " in when(T0, T0 + timedelta(days=3))


async def test_a_long_command_is_cut_to_the_pane_at_80_columns(
    make_app: AppFactory, running_computer: dict[str, Any]
) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(pilot)
        await select(pilot, running_computer["id"])
        await pilot.press("e")
        exec_pane = computers_view(app).exec_pane
        exec_pane.prompt.value = "echo " + "a-rather-long-argument " * 8
        await pilot.press("enter")
        await wait_for(pilot, lambda: exec_pane.last_exit == 0, what="the exec")
        await pilot.press("escape", "a")
        pane = pane_of(app)
        await wait_for(pilot, lambda: shown(pane, "exec $ echo a-rather-long"), what="the row")
        table = pane.table
        await wait_for(pilot, lambda: table.size.width > 0)
        assert table.virtual_size.width <= table.size.width  # no horizontal scrollbar
        assert not table.show_horizontal_scrollbar
        await pilot.resize_terminal(140, 40)  # wider: the column grows with the pane
        await wait_for(pilot, lambda: table.size.width > 100)
        await pilot.pause()
        assert table.virtual_size.width <= table.size.width
        assert table.columns["what"].width > 60
