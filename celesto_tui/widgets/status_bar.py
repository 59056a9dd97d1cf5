"""The header: what the dashboard is connected to and how fresh its data is.

``celesto-tui │ local · embedded backend · isolation bwrap │ RO │ ● live · 0.4s ago (12 ms)``

Freshness reads live / stale / offline with the data's age and the next retry, so the
data on screen never looks fresher than it is.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.content import Content
from textual.widgets import Static

from ..polling import Freshness, State, human_seconds
from ..target import Target

STATE_GLYPHS = {
    State.CONNECTING: "◌",
    State.LIVE: "●",
    State.STALE: "◌",
    State.OFFLINE: "✕",
}


def target_text(target: Target) -> str:
    if target.local:
        isolation = f" · isolation {target.isolation}" if target.isolation else ""
        return f"local · embedded backend{isolation}"
    profile = f"profile {target.profile} · " if target.profile else ""
    return f"cloud · {profile}{target.host}"


def freshness_text(freshness: Freshness, now: float, kind: str) -> Content:
    glyph = STATE_GLYPHS[freshness.state]
    age = freshness.age(now)
    if freshness.state is State.LIVE:
        took = f" ({freshness.took_ms:.0f} ms)" if freshness.took_ms is not None else ""
        return Content.assemble(
            (f"{glyph} live", "bold $success"),
            f" · {kind} {human_seconds(age or 0.0)} ago{took}",
        )
    if freshness.state is State.CONNECTING:
        return Content.assemble((f"{glyph} connecting…", "$text-muted"))
    style = "bold $warning" if freshness.state is State.STALE else "bold $error"
    parts: list[str | tuple[str, str]] = [(f"{glyph} {freshness.state.value}", style)]
    parts.append(" · " + ("no data yet" if age is None else f"data {human_seconds(age)} old"))
    if freshness.error:
        parts.append(f" · {freshness.error}")
    retry = freshness.retry_in(now)
    if retry is not None:
        parts.append(f" · retry in {human_seconds(retry)}")
    return Content.assemble(*parts)


class StatusBar(Vertical):
    DEFAULT_CSS = """
    StatusBar { height: auto; background: $panel; }
    StatusBar #status-line { height: 1; padding: 0 1; }
    StatusBar #status-hint { height: auto; padding: 0 1; color: $text-muted; display: none; }
    StatusBar #status-hint.shown { display: block; }
    StatusBar.stale #status-line { background: $warning 15%; }
    StatusBar.offline #status-line { background: $error 15%; }
    """

    def __init__(self, target: Target, read_only: bool) -> None:
        super().__init__(id="status-bar")
        self.target = target
        self.read_only = read_only
        self.line: Static | None = None

    def compose(self) -> ComposeResult:
        self.line = Static(id="status-line")
        yield self.line
        hint = Static(self.target.hint, id="status-hint", markup=False)
        if self.target.hint:
            hint.add_class("shown")
        yield hint

    def show(self, freshness: Freshness, now: float, kind: str) -> None:
        if self.line is None:
            return
        parts: list[str | tuple[str, str] | Content] = [
            ("celesto-tui", "bold"),
            " │ ",
            (target_text(self.target), "bold $accent"),
        ]
        if self.read_only:
            parts += [" │ ", (" READ-ONLY ", "bold $background on $warning")]
        parts += [" │ ", freshness_text(freshness, now, kind)]
        self.line.update(Content.assemble(*parts))
        self.set_class(freshness.state is State.STALE, "stale")
        self.set_class(freshness.state is State.OFFLINE, "offline")
