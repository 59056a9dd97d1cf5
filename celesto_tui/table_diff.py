"""Keyed diff of table rows, so a poll updates only what changed."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

Row = tuple[str, ...]


@dataclass(frozen=True)
class RowDiff:
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    # key -> indexes of the cells that changed
    changed: dict[str, list[int]] = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        return not (self.added or self.removed or self.changed)


def diff_rows(old: Mapping[str, Sequence[str]], new: Mapping[str, Sequence[str]]) -> RowDiff:
    added = [key for key in new if key not in old]
    removed = [key for key in old if key not in new]
    changed: dict[str, list[int]] = {}
    for key, cells in new.items():
        before = old.get(key)
        if before is None or before == cells:
            continue
        changed[key] = [i for i, (a, b) in enumerate(zip(before, cells, strict=True)) if a != b]
    return RowDiff(added, removed, changed)
