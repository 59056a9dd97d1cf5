"""Never exits on errors: faults injected by the real server (5xx, 429 with Retry-After),
a wrong key, an unreachable API and a bug in a worker. The data stays on screen, dimmed,
the header says how stale it is and when the next try is, and recovery is automatic."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from celesto_api.local import LocalServer
from celesto_tui.app.celesto_app import CelestoApp
from celesto_tui.app.widgets.status_bar import StatusBar
from celesto_tui.model.clock import FrozenClock
from celesto_tui.model.polling import State

from .conftest import AppFactory, loaded, local_target, wait_for


def header(app: CelestoApp) -> str:
    return app.status_bar.plain


def notifications(app: CelestoApp) -> list[str]:
    return [n.message for n in app._notifications]


async def test_server_errors_keep_the_data_then_recover(
    make_app: AppFactory, local_server: LocalServer, running_computer: dict[str, Any]
) -> None:
    app = make_app(refresh=0.2)
    async with app.run_test(size=(160, 40)) as pilot:
        await loaded(pilot)
        app.pollers["deployments"].stop()
        poller, view = app.pollers["computers"], app.views["computers"]
        await wait_for(pilot, lambda: running_computer["id"] in view.table.rows)
        local_server.set_faults("error_rate=1")
        await wait_for(pilot, lambda: poller.freshness.state is State.STALE, what="stale")
        await pilot.pause()
        assert running_computer["id"] in view.table.rows  # the data stays
        assert view.has_class("stale")  # dimmed
        text = header(app)
        assert "stale" in text and "computers" in text and "old" in text and "retry in" in text
        assert "503" in text
        assert app.query_one(StatusBar).has_class("stale")
        assert "stale" in str(view.table.border_subtitle)
        local_server.set_faults(None)  # the server recovers; so does the dashboard, by itself
        await wait_for(pilot, lambda: poller.freshness.state is State.LIVE, timeout=20, what="live")
        await pilot.pause()
        assert not view.has_class("stale")
        assert "live" in header(app)
        assert app.is_running


async def test_rate_limit_waits_for_retry_after(
    make_app: AppFactory, local_server: LocalServer, running_computer: dict[str, Any]
) -> None:
    app = make_app(refresh=0.2)
    async with app.run_test(size=(160, 40)) as pilot:
        await loaded(pilot)
        app.pollers["deployments"].stop()
        poller = app.pollers["computers"]
        local_server.set_faults("rate_limit=1,retry_after=1")
        await wait_for(pilot, lambda: poller.freshness.state is State.STALE, what="stale")
        retry_in = poller.freshness.retry_in(app.clock.monotonic())
        assert retry_in is not None and 0.7 < retry_in <= 1.0  # Retry-After, not 0.2 s
        assert poller.freshness.error == "rate limited (429)"
        assert "rate limited (429)" in header(app)
        local_server.set_faults(None)
        await wait_for(pilot, lambda: poller.freshness.state is State.LIVE, timeout=20, what="live")


async def test_wrong_key_says_what_to_fix(make_app: AppFactory, local_server: LocalServer) -> None:
    app = make_app(target=local_target(local_server, api_key="sk_wrong_key"))
    async with app.run_test(size=(160, 40)) as pilot:
        poller = app.pollers["computers"]
        await wait_for(pilot, lambda: poller.freshness.auth_failed, what="the auth error")
        assert poller.freshness.state is State.OFFLINE  # never loaded anything
        await wait_for(pilot, lambda: any("auth login" in n for n in notifications(app)))
        assert "no data yet" in header(app)
        assert app.is_running


async def test_unreachable_api_is_offline_with_a_retry_countdown(
    make_app: AppFactory, local_server: LocalServer
) -> None:
    app = make_app(target=local_target(local_server, base_url="http://127.0.0.1:9"))
    async with app.run_test(size=(160, 40)) as pilot:
        poller = app.pollers["computers"]
        await wait_for(pilot, lambda: poller.polls >= 1, what="a failed poll")
        assert poller.freshness.state is State.OFFLINE
        # Drawn by the header's own tick; under load the first countdown may already have
        # run out ("retrying…"), the next (longer) one is shown then.
        await wait_for(
            pilot,
            lambda: "offline" in header(app) and "retry in" in header(app),
            what="the countdown",
        )
        assert "Cannot" not in header(app)


async def test_a_bug_in_a_worker_lands_in_the_errors_view(
    make_app: AppFactory, running_computer: dict[str, Any]
) -> None:
    app = make_app(refresh=0.2)
    async with app.run_test(size=(160, 40)) as pilot:
        await loaded(pilot)
        original = app.controller.fetch_computers
        calls = 0

        async def broken() -> list[dict[str, Any]]:
            nonlocal calls
            calls += 1
            if calls == 1:
                raise RuntimeError("a bug, on purpose")
            return await original()

        app.pollers["computers"].fetch = broken
        await wait_for(pilot, lambda: app.error_log.entries, what="an error entry")
        entry = app.error_log.entries[-1]
        assert "RuntimeError: a bug, on purpose" in entry.summary
        assert "Traceback" in entry.details
        await pilot.press("4")
        assert app.current_view == "errors"
        await pilot.press("y")
        assert "a bug, on purpose" in app.clipboard
        await wait_for(
            pilot, lambda: app.pollers["computers"].freshness.state is State.LIVE, what="live"
        )
        await pilot.press("c")
        assert not app.error_log.entries
        assert app.is_running


async def test_a_hanging_poll_turns_the_header_stale(
    make_app: AppFactory, local_server: LocalServer, running_computer: dict[str, Any]
) -> None:
    clock = FrozenClock(datetime.now(UTC))
    app = make_app(refresh=0.2, clock=clock)
    async with app.run_test(size=(160, 40)) as pilot:
        await loaded(pilot)
        app.pollers["deployments"].stop()
        poller, view = app.pollers["computers"], app.views["computers"]
        local_server.set_faults("latency_ms=2000")  # the API is slow to answer, not failing
        # A poll already in flight was sent before the fault and answers at once; only one
        # started after it has finished is sure to hang.
        polls = poller.polls
        await wait_for(pilot, lambda: poller.polls > polls, what="the poll sent before the fault")
        await wait_for(pilot, lambda: poller.in_flight, what="a slow poll in flight")
        clock.advance(60)  # a minute passes with no answer
        app.update_header()
        await pilot.pause()
        text = header(app)
        assert "● live" not in text
        assert "stale" in text and "1m00s old" in text and "waiting for the API" in text
        assert view.has_class("stale")
        local_server.set_faults(None)
        polls = poller.polls
        await wait_for(pilot, lambda: poller.polls > polls, what="the slow poll to answer")
        app.update_header()
        assert "● live" in header(app) and not view.has_class("stale")


async def test_manual_refresh_never_claims_to_be_live(make_app: AppFactory) -> None:
    app = make_app(refresh=0)
    async with app.run_test(size=(160, 40)) as pilot:
        await loaded(pilot)
        text = header(app)
        assert "manual" in text and "r refreshes" in text and "live" not in text


async def test_the_header_keeps_freshness_and_retry_visible_at_80_columns(
    make_app: AppFactory, local_server: LocalServer
) -> None:
    app = make_app(refresh=0.2)
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(pilot)
        app.pollers["deployments"].stop()
        poller = app.pollers["computers"]
        local_server.set_faults("error_rate=1")
        await wait_for(pilot, lambda: poller.freshness.state is State.STALE, what="stale")
        app.update_header()
        await pilot.pause()
        line = app.status_bar.freshness_label.render_line(0).text  # what is on screen
        assert "stale" in line and "old" in line and ("retry in" in line or "retrying" in line)
        local_server.set_faults(None)


async def test_ages_keep_ticking_while_offline(
    make_app: AppFactory, local_server: LocalServer, running_computer: dict[str, Any]
) -> None:
    clock = FrozenClock(datetime.now(UTC))
    app = make_app(refresh=0.2, clock=clock)
    async with app.run_test(size=(160, 40)) as pilot:
        await loaded(pilot)
        app.pollers["deployments"].stop()
        poller, table = app.pollers["computers"], app.views["computers"].table
        age_column = [str(column.label) for column in table.columns.values()].index("Age")

        def age() -> str:
            return str(table.get_row(running_computer["id"])[age_column])

        local_server.set_faults("error_rate=1")
        polls = poller.polls
        await wait_for(pilot, lambda: poller.polls > polls + 1, what="failing polls")
        clock.advance(3 * 3600)  # three hours offline: the computer is three hours older
        await wait_for(pilot, lambda: age().endswith("h"), what=f"the age to tick ({age()})")
        assert poller.freshness.state is not State.LIVE
        local_server.set_faults(None)
