"""What every benchmark here shares: interleaved rounds in a rotating order, median (min-max),
and the machine's load.

The machine is shared, so its load drifts during a run. Measuring one contender after the
other would put the drift on whichever runs last; instead each round measures every contender
once, starting one further along the list each round, and a figure is the median of its
rounds with their range beside it. Ratios are taken round by round (both sides measured
moments apart) and summarised the same way.
"""

from __future__ import annotations

import os
import platform
import statistics
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import TypeVar

T = TypeVar("T")


def rotated(items: Sequence[T], number: int) -> list[T]:
    """The order of `items` in round `number`: it starts at item `number` (modulo)."""
    start = number % len(items)
    return [*items[start:], *items[:start]]


def rotations(items: Sequence[T], rounds: int) -> Iterator[list[T]]:
    """The order of `items` for each of `rounds` rounds."""
    for number in range(rounds):
        yield rotated(items, number)


def interleave(
    contenders: Mapping[str, Callable[[], float]], rounds: int
) -> dict[str, list[float]]:
    """Call every contender once per round, in rotating order; their results by name."""
    samples: dict[str, list[float]] = {name: [] for name in contenders}
    for order in rotations(list(contenders), rounds):
        for name in order:
            samples[name].append(contenders[name]())
    return samples


async def interleave_async(
    contenders: Mapping[str, Callable[[], Awaitable[float]]], rounds: int
) -> dict[str, list[float]]:
    """`interleave` for coroutine functions."""
    samples: dict[str, list[float]] = {name: [] for name in contenders}
    for order in rotations(list(contenders), rounds):
        for name in order:
            samples[name].append(await contenders[name]())
    return samples


def ratios(numerators: Sequence[float], denominators: Sequence[float]) -> list[float]:
    """Round-by-round ratios of two contenders' samples."""
    return [top / bottom for top, bottom in zip(numerators, denominators, strict=True)]


def spread(samples: Sequence[float], scale: float = 1.0, digits: int = 2, unit: str = "") -> str:
    """`median (min-max)` of `samples`, each multiplied by `scale`."""
    median = statistics.median(samples) * scale
    low, high = min(samples) * scale, max(samples) * scale
    return f"{median:.{digits}f}{unit} ({low:.{digits}f}-{high:.{digits}f})"


def percentile(samples: Sequence[float], fraction: float) -> float:
    """The sample below which `fraction` of them lie (nearest rank)."""
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def load() -> str:
    """The machine's load averages and core count."""
    one, five, fifteen = os.getloadavg()
    return f"load {one:.2f} / {five:.2f} / {fifteen:.2f} (1/5/15 min) on {os.cpu_count()} cores"


def header(title: str) -> None:
    """Print what was measured, when, where, and the load before starting."""
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    print(f"{title}\n{now}, python {platform.python_version()}, {platform.machine()}; {load()}")


def footer() -> None:
    """Print the load after the run, to judge whether the figures were disturbed."""
    print(f"after the run: {load()}")
