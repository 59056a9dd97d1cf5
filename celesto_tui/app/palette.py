"""Command palette: every action by name, and "go to" any computer or deployment."""

from __future__ import annotations

from collections.abc import Awaitable, Mapping
from functools import partial
from typing import Protocol, cast

from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.markup import escape

from ..model.items import Item
from .bindings import ACTIONS, SCOPE_TITLES, ActionSpec, effective_keys, key_display

HIDDEN = frozenset({"command-palette", "leave-pane", "history-prev", "history-next"})


class PaletteHost(Protocol):
    """What the palette reads of the app it is opened in."""

    read_only: bool
    keymap: dict[str, str]

    def run_palette_action(self, spec: ActionSpec) -> Awaitable[None]: ...

    def items_of(self, kind: str) -> Mapping[str, Item]: ...

    def go_to(self, kind: str, key: str) -> None: ...


class DashboardCommands(Provider):
    @property
    def host(self) -> PaletteHost:
        return cast(PaletteHost, self.screen.app)

    def _actions(self) -> list[tuple[str, str, ActionSpec]]:
        app = self.host
        found = []
        for spec in ACTIONS:
            if spec.id in HIDDEN or spec.scope == "table" or (app.read_only and spec.mutating):
                continue  # table keys move a cursor: nothing to run from the palette
            keys = key_display(effective_keys(spec, app.keymap))
            found.append((spec.help, f"{SCOPE_TITLES[spec.scope]} · {keys}", spec))
        return found

    async def discover(self) -> Hits:
        app = self.host
        for title, help_text, spec in self._actions():
            yield DiscoveryHit(
                escape(title), partial(app.run_palette_action, spec), help=escape(help_text)
            )

    async def search(self, query: str) -> Hits:
        app = self.host
        matcher = self.matcher(query)
        for title, help_text, spec in self._actions():
            score = matcher.match(title)
            if score > 0:
                yield Hit(
                    score,
                    matcher.highlight(title),
                    partial(app.run_palette_action, spec),
                    help=escape(help_text),
                )
        for kind, label in (("computers", "computer"), ("deployments", "deployment")):
            for key, item in app.items_of(kind).items():
                title = f"Go to {label} {item.get('name')}"
                score = matcher.match(title)
                if score > 0:
                    yield Hit(
                        score,
                        matcher.highlight(title),
                        partial(app.go_to, kind, key),
                        help=escape(f"{item.get('status')} · {key}"),  # the palette reads markup
                    )
