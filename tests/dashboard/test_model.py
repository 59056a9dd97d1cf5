"""The pure parts: backoff, freshness, filter, rows, the diffing table, command lines."""

from __future__ import annotations

import random
import webbrowser
from datetime import UTC, datetime
from typing import Any

from textual.app import App, ComposeResult

from celesto_api import (
    CelestoAuthenticationError,
    CelestoNetworkError,
    CelestoPaymentRequiredError,
    CelestoRateLimitError,
    CelestoServerError,
)
from celesto_tui.app.browser import is_console
from celesto_tui.app.widgets.resource_table import REBUILD_AFTER_REMOVALS, ResourceTable
from celesto_tui.commands.common import hint_for
from celesto_tui.model.command_log import Where, computer_line, create_line, deploy_line
from celesto_tui.model.computers_table import COMPUTERS
from celesto_tui.model.errors import ErrorLog, advice, explain
from celesto_tui.model.filtering import Filter
from celesto_tui.model.format import redacted
from celesto_tui.model.polling import Backoff, Freshness, State
from celesto_tui.model.table_rows import ViewParams, build_rows
from celesto_tui.model.watch import Watcher

NOW = datetime(2026, 1, 2, 12, 0, tzinfo=UTC)


def computer(index: int, status: str = "running", cpu: float = 1.0) -> dict[str, Any]:
    return {
        "id": f"cmp_{index:04d}",
        "name": f"name-{index:04d}",
        "status": status,
        "vcpus": 1 + index % 4,
        "ram_mb": 1024,
        "disk_size_mb": 5120,
        "template_id": "scratch",
        "published_ports": [],
        "metrics": {"cpu_used_percent": cpu, "ram_used_mb": 100},
        "created_at": "2026-01-01T12:00:00Z",
    }


def test_backoff_grows_with_jitter_and_honours_retry_after() -> None:
    backoff = Backoff(2.0, rng=random.Random(1))
    delays = [backoff.failure() for _ in range(4)]
    assert 1.6 <= delays[0] <= 2.0 and 3.2 <= delays[1] <= 4.0 and delays[3] <= 16.0
    assert backoff.failure(retry_after=7) == 7
    assert Backoff(2.0).failure(retry_after=600) == 60.0  # capped
    assert backoff.success() == 2.0 and backoff.failures == 0
    assert backoff.success(busy=True) == 1.0  # follow transitions closely
    assert Backoff(0).success() is None and Backoff(0).success(busy=True) is None  # manual


def test_freshness_states() -> None:
    fresh = Freshness()
    assert fresh.state is State.CONNECTING
    fresh.failed(CelestoServerError("boom", status_code=503), at=10, retry_in=4)
    assert fresh.state is State.OFFLINE  # nothing loaded yet
    fresh.succeeded(at=11, took_ms=5)
    assert fresh.state is State.LIVE and fresh.age(13) == 2
    fresh.failed(CelestoServerError("boom", status_code=503), at=20, retry_in=4)
    assert fresh.state is State.STALE and fresh.retry_in(21) == 3 and "503" in fresh.error
    fresh.failed(CelestoRateLimitError("slow down", retry_after=2), at=21, retry_in=2)
    assert fresh.error == "rate limited (429)"
    fresh.failed(CelestoNetworkError("down"), at=22, retry_in=8)
    assert fresh.state is State.OFFLINE and fresh.age(22) == 11


def test_freshness_never_shows_old_data_as_live() -> None:
    fresh = Freshness(every=2.0)
    fresh.succeeded(at=100, took_ms=5)
    assert fresh.shown(101) is State.LIVE
    assert fresh.shown(109) is State.LIVE  # a slow poll, within the allowance
    assert fresh.shown(111) is State.STALE  # the poll in flight is hanging: not "live"
    fresh.succeeded(at=111, took_ms=9000)
    assert fresh.shown(112) is State.LIVE
    manual = Freshness(every=None)  # --refresh 0: fresh once, then only on request
    manual.succeeded(at=100, took_ms=5)
    assert manual.shown(100) is State.MANUAL and manual.shown(10_000) is State.MANUAL
    fresh.failed(CelestoServerError("Server error (503): down", status_code=503), 120, 2)
    assert fresh.error == "Server error (503): down"  # the status once, not "503: … (503)"


def test_filter_words_columns_and_negation() -> None:
    fields = {"name": "web-1", "status": "● running", "template": "scratch"}
    assert Filter.parse("web").matches(fields)
    assert Filter.parse("WEB status:running").matches(fields)
    assert not Filter.parse("status:stopped").matches(fields)
    assert Filter.parse("!status:stopped").matches(fields)
    assert not Filter.parse("!web").matches(fields)
    assert not Filter.parse("")


def test_rows_are_filtered_sorted_and_counted() -> None:
    items = [computer(3, "stopped"), computer(1, cpu=50.0), computer(2, "error", cpu=9.0)]
    rows = build_rows(COMPUTERS, items, ViewParams(), NOW)
    assert rows.order == ["cmp_0001", "cmp_0002", "cmp_0003"]
    assert rows.by_status == {"running": 1, "stopped": 1, "error": 1}
    assert rows.cells["cmp_0003"][2] == "○ stopped"
    assert rows.cells["cmp_0001"][10] == "1d"  # age from the injected "now"
    by_status = build_rows(COMPUTERS, items, ViewParams(sort="status"), NOW)
    assert by_status.order == ["cmp_0002", "cmp_0001", "cmp_0003"]  # trouble first
    by_cpu = build_rows(COMPUTERS, items, ViewParams(sort="cpu", reverse=True), NOW)
    assert by_cpu.order[0] == "cmp_0001"
    filtered = build_rows(COMPUTERS, items, ViewParams(Filter.parse("!stopped")), NOW)
    assert set(filtered.cells) == {"cmp_0001", "cmp_0002"} and filtered.total == 3
    assert (
        not rows.busy and build_rows(COMPUTERS, [computer(4, "starting")], ViewParams(), NOW).busy
    )


class TableApp(App[None]):
    def compose(self) -> ComposeResult:
        yield ResourceTable(COMPUTERS, markable=True)


async def test_diff_keeps_the_cursor_marks_and_only_touches_changes() -> None:
    app = TableApp()
    async with app.run_test(size=(160, 30)) as pilot:
        table = app.query_one(ResourceTable)
        items = [computer(i) for i in range(200)]
        table.apply(build_rows(COMPUTERS, items, ViewParams(), NOW))
        await pilot.pause()
        table.select_key("cmp_0150")
        table.set_marked("cmp_0010", True)
        # 5 % change; the sort column (cpu) moves the selected row.
        changed = [dict(c) for c in items]
        for c in changed[::20]:
            c["status"] = "stopping"
        changed[150]["metrics"] = {"cpu_used_percent": 99.0, "ram_used_mb": 1}
        params = ViewParams(sort="cpu", reverse=True)
        flashed = table.apply(build_rows(COMPUTERS, changed, params, NOW))
        assert table.selected_key() == "cmp_0150" and table.cursor_row == 0
        assert "cmp_0010" in table.marks
        assert set(flashed) == {c["id"] for c in changed[::20]}  # metrics alone do not flash
        assert table.keys_in_order()[0] == "cmp_0150"
        # Many removals take the clear-and-re-add path; the cursor still follows its key.
        survivors = [c for c in changed if int(c["id"][-4:]) % 3 == 0]
        assert len(changed) - len(survivors) > REBUILD_AFTER_REMOVALS
        table.select_key("cmp_0099")
        table.apply(build_rows(COMPUTERS, survivors, params, NOW))
        assert table.row_count == len(survivors)
        assert table.selected_key() == "cmp_0099"


def test_command_lines_never_carry_secrets() -> None:
    local, cloud = Where(local=True), Where(profile="prod")
    served = Where(base_url="http://127.0.0.1:8000")
    assert computer_line(served, "stop", "ada") == (
        "celesto-tui computer stop ada --base-url http://127.0.0.1:8000"
    )
    assert create_line(served, {"cpus": 2}) == (
        "celesto-tui computer create --cpus 2 --base-url http://127.0.0.1:8000"
    )
    elsewhere = Where(local=True, data_dir="/data/my dir")  # the dashboard's --data-dir
    assert computer_line(elsewhere, "stop", "ada") == (
        "celesto-tui --data-dir '/data/my dir' computer stop ada --local"
    )
    default = Where(profile="prod", base_url="https://api.celesto.ai")
    assert computer_line(default, "stop", "ada") == "celesto-tui computer stop ada --profile prod"
    assert computer_line(local, "stop", "ada") == "celesto-tui computer stop ada --local"
    assert computer_line(cloud, "stop", "ada") == "celesto-tui computer stop ada --profile prod"
    assert create_line(cloud, {"cpus": 2, "template_id": "scratch"}) == (
        "celesto-tui computer create --cpus 2 --template scratch --profile prod"
    )
    line = deploy_line(local, "/src/app", "bot", None, {"API_KEY": "sk-secret"}, None)
    assert "sk-secret" not in line and "--env 'API_KEY=***'" in line


def test_text_mode_browsers_are_never_started_on_the_dashboard_terminal() -> None:
    assert is_console(webbrowser.GenericBrowser("lynx"))  # runs in the foreground until it exits
    assert is_console(webbrowser.Elinks("elinks"))
    assert not is_console(webbrowser.BackgroundBrowser("xdg-open"))


def test_secrets_never_reach_the_errors_view_or_the_overview() -> None:
    log = ErrorLog(secrets=["sk_live_secret_key"])
    try:
        raise RuntimeError("GET wss://h/t?token=abc123 with sk_live_secret_key failed")
    except RuntimeError as exc:
        entry = log.add(NOW, "worker", exc)
    for text in (entry.summary, entry.details):
        assert "abc123" not in text and "sk_live_secret_key" not in text
    computer = {"connection": {"access_url": "https://a.example/x?token=s3cr3t&v=1"}}
    assert "s3cr3t" not in str(redacted(computer)) and "v=1" in str(redacted(computer))


def test_the_watcher_waits_for_where_the_action_leads() -> None:
    watcher = Watcher()
    watcher.watch("computers", "cmp_1", "ada", "start", since=10.0)
    watcher.watch("computers", "cmp_2", "bob", "delete", since=10.0)
    running = {"cmp_1": {"status": "running"}, "cmp_2": {"status": "deleting"}}
    assert watcher.settled("computers", running, polled_at=9.0) == []  # sent before the action
    starting = {"cmp_1": {"status": "starting"}, "cmp_2": {"status": "deleting"}}
    assert watcher.settled("computers", starting, polled_at=11.0) == []
    [done] = watcher.settled("computers", running, polled_at=12.0)
    assert done.text() == "ada is running." and not done.bad
    [gone] = watcher.settled("computers", {}, polled_at=13.0)
    assert gone.text() == "bob was deleted."
    watcher.watch("deployments", "bot", "bot", "deploy", since=20.0)
    failed = {"bot": {"status": "FAILED", "last_error": "Build failed: no Procfile"}}
    [broken] = watcher.settled("deployments", failed, polled_at=21.0)
    assert broken.bad and broken.text() == "bot is FAILED: Build failed: no Procfile"
    assert watcher.settled("deployments", failed, polled_at=22.0) == []  # told once


def test_rows_survive_values_of_the_wrong_type_from_the_api() -> None:
    """The cloud may send a field we did not expect in a type we did not expect: every
    column still sorts, whichever way, and the cells say what they can."""
    weird: list[dict[str, Any]] = [
        {"id": "cmp_1", "name": "a", "status": None, "vcpus": "two", "created_at": 12345,
         "published_ports": "x", "metrics": "bad", "disk_size_mb": []},
        {"id": "cmp_2", "name": 5, "status": "weird", "vcpus": 1.5, "ram_mb": "lots",
         "created_at": "not a date", "published_ports": [None, 3],
         "metrics": {"cpu_used_percent": "x", "ram_used_mb": 2.5}},
        {"id": "cmp_3"},
        {"id": "cmp_4", "name": "b", "status": "running", "vcpus": 2, "ram_mb": 2048},
    ]  # fmt: skip
    now = datetime(2026, 12, 1, tzinfo=UTC)
    for column in COMPUTERS.columns:
        for reverse in (False, True):
            rows = build_rows(COMPUTERS, weird, ViewParams(sort=column.key, reverse=reverse), now)
            assert sorted(rows.order) == ["cmp_1", "cmp_2", "cmp_3", "cmp_4"], column.key
    by_cpus = build_rows(COMPUTERS, weird, ViewParams(sort="cpus"), now).order
    assert by_cpus[:2] == ["cmp_2", "cmp_4"]  # numbers first, in order; then text; missing last
    assert by_cpus[-1] == "cmp_3"


def test_the_cli_and_the_dashboard_give_the_same_advice() -> None:
    for error in (
        CelestoPaymentRequiredError("Insufficient credits", status_code=402),
        CelestoAuthenticationError("Invalid API key", status_code=401),
        CelestoAuthenticationError("Not allowed", status_code=403),
    ):
        said = advice(error)
        assert said and said in explain(error)
        assert hint_for(error, "computer") == said
    assert "celesto.ai" in str(advice(CelestoPaymentRequiredError("x", status_code=402)))
    rejected = explain(CelestoAuthenticationError("Invalid API key", status_code=401))
    assert "auth login" in rejected and "auth status" in rejected
