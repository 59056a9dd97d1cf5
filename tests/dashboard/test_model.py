"""The pure parts: backoff, freshness, filter, rows, the diffing table, command lines."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from typing import Any

from textual.app import App, ComposeResult

from celesto_api import CelestoNetworkError, CelestoRateLimitError, CelestoServerError
from celesto_tui.command_log import Where, computer_line, create_line, deploy_line
from celesto_tui.computers_model import COMPUTERS
from celesto_tui.filtering import Filter
from celesto_tui.polling import Backoff, Freshness, State
from celesto_tui.table_model import ViewParams, build_rows
from celesto_tui.widgets.resource_table import REBUILD_AFTER_REMOVALS, ResourceTable

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
    assert computer_line(local, "stop", "ada") == "celesto-tui computer stop ada --local"
    assert computer_line(cloud, "stop", "ada") == "celesto-tui computer stop ada --profile prod"
    assert create_line(cloud, {"cpus": 2, "template_id": "scratch"}) == (
        "celesto-tui computer create --cpus 2 --template scratch --profile prod"
    )
    line = deploy_line(local, "/src/app", "bot", None, {"API_KEY": "sk-secret"}, None)
    assert "sk-secret" not in line and "--env 'API_KEY=***'" in line
