"""The overview's CPU history: a labelled bar chart on a fixed 0-100 % scale.

Textual's `Sparkline` scales between the smallest and largest sample, so an idle computer
(all samples 0 %) is drawn as full-height blocks; here the height is the percentage itself.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual.widget import Widget

_EIGHTHS = " ▁▂▃▄▅▆▇█"


def cpu_bars(samples: Sequence[float], width: int, height: int) -> list[str]:
    """Rows (top first) of one bar per sample, the latest `width` of them, right-aligned;
    a full column is 100 %, an empty one 0 %."""
    recent = list(samples)[-width:] if width > 0 else []
    levels = [round(max(0.0, min(100.0, value)) / 100 * 8 * height) for value in recent]
    rows = []
    for row in range(height - 1, -1, -1):
        bars = "".join(_EIGHTHS[max(0, min(8, level - row * 8))] for level in levels)
        rows.append(bars.rjust(width))
    return rows


class CpuChart(Widget):
    """`CPU % (0-100)` and the latest value, over bars of the recent samples."""

    DEFAULT_CSS = """
    CpuChart { height: 3; }
    CpuChart > .cpu-chart--bars { color: $accent; }
    """
    COMPONENT_CLASSES = {"cpu-chart--bars"}
    BAR_ROWS = 2

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._samples: list[float] = []

    @property
    def samples(self) -> list[float]:
        return self._samples

    @samples.setter
    def samples(self, values: Sequence[float]) -> None:
        self._samples = list(values)
        self.refresh()

    def render(self) -> Text:
        latest = f"{self._samples[-1]:.0f} % now" if self._samples else "no samples"
        text = Text(f"CPU % (scale 0-100, last {len(self._samples)} samples): {latest}")
        style = self.get_component_rich_style("cpu-chart--bars")
        for row in cpu_bars(self._samples, self.size.width, self.BAR_ROWS):
            text.append("\n")
            text.append(row, style)
        return text
