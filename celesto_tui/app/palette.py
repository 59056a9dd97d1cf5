"""Command palette: every action by name, and "go to" any computer or deployment."""

from __future__ import annotations

from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.markup import escape

from .bindings import ACTIONS, SCOPE_TITLES, ActionSpec, effective_keys
from .context import dashboard_app
from .screens.help import key_display

HIDDEN = frozenset({"command-palette", "leave-pane", "history-prev", "history-next"})


class DashboardCommands(Provider):
    def _actions(self) -> list[tuple[str, str, ActionSpec]]:
        app = dashboard_app(self.screen)
        found = []
        for spec in ACTIONS:
            if spec.id in HIDDEN or spec.scope == "table" or (app.read_only and spec.mutating):
                continue  # table keys move a cursor: nothing to run from the palette
            keys = key_display(effective_keys(spec, app.keymap))
            found.append((spec.help, f"{SCOPE_TITLES[spec.scope]} · {keys}", spec))
        return found

    async def discover(self) -> Hits:
        app = dashboard_app(self.screen)
        for title, help_text, spec in self._actions():
            yield DiscoveryHit(
                escape(title), partial(app.run_palette_action, spec), help=escape(help_text)
            )

    async def search(self, query: str) -> Hits:
        app = dashboard_app(self.screen)
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
