"""The overview's CPU chart: labelled, on a fixed 0-100 % scale (0 % is empty, not full)."""

from __future__ import annotations

from typing import Any

from textual.app import App, ComposeResult

from celesto_tui.app.messages import MetricsFetched
from celesto_tui.app.widgets.cpu_chart import CpuChart, cpu_bars
from celesto_tui.app.widgets.overview_pane import OverviewPane
from tests.waiting import await_until

COMPUTER = {"id": "cmp_1", "name": "ada", "status": "running"}


class OverviewApp(App[None]):
    def compose(self) -> ComposeResult:
        yield OverviewPane()


def observability(*percents: float) -> dict[str, Any]:
    samples = [{"guest_cpu_used_percent": value} for value in percents]
    return {"latest": samples[-1], "samples": samples}


def chart_rows(app: OverviewApp) -> list[str]:
    return app.query_one(CpuChart).render().plain.split("\n")


async def test_idle_cpu_is_drawn_empty_under_a_label() -> None:
    app = OverviewApp()
    async with app.run_test(size=(60, 20)) as pilot:
        pane = app.query_one(OverviewPane)
        pane.show_computer(COMPUTER)
        pane.post_message(MetricsFetched("cmp_1", observability(0.0, 0.0, 0.0, 0.0)))
        await await_until(
            lambda: app.query_one(CpuChart).display, what="the chart", pause=pilot.pause
        )
        label, *bars = chart_rows(app)
        assert label.startswith("CPU % (scale 0-100") and "0 % now" in label
        assert len(bars) == CpuChart.BAR_ROWS
        assert all(not row.strip() for row in bars), bars


async def test_bars_are_as_high_as_the_percentage() -> None:
    app = OverviewApp()
    async with app.run_test(size=(60, 20)) as pilot:
        pane = app.query_one(OverviewPane)
        pane.show_computer(COMPUTER)
        pane.post_message(MetricsFetched("cmp_1", observability(0.0, 50.0, 100.0, 12.5)))
        await await_until(
            lambda: app.query_one(CpuChart).display, what="the chart", pause=pilot.pause
        )
        top, bottom = [row[-4:] for row in chart_rows(app)[1:]]
        assert (top, bottom) == ("  █ ", " ██▂")  # 0, 50, 100 and 12.5 %


def test_bars_keep_the_latest_samples_that_fit() -> None:
    assert cpu_bars([100.0] * 5 + [0.0] * 3, 4, 1) == ["█   "]
    assert cpu_bars([25.0], 3, 1) == ["  ▂"]
