"""The header: what the dashboard is connected to and how fresh its data is.

``celesto-tui │ local · embedded backend · bwrap │ RO        ● live · computers 0.4s ago (12 ms)``

Freshness reads live / manual / stale / offline with the data's age and the next retry, so
the data on screen never looks fresher than it is. It sits on the right and keeps its room
on a narrow terminal: the target is shortened first, and the error (last) before the age or
the retry countdown.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.widgets import Static

from ...model.polling import Freshness, State, human_seconds
from ...model.target import Target

STATE_GLYPHS = {
    State.CONNECTING: "◌",
    State.LIVE: "●",
    State.MANUAL: "◇",
    State.STALE: "◌",
    State.OFFLINE: "✕",
}


def target_text(target: Target) -> str:
    if target.startup is not None and target.startup.error is not None:
        return "local · embedded backend · did not start"
    if target.starting:
        return "local · embedded backend · starting…"
    if target.local:
        if target.isolation == "process":
            return "local · embedded backend · NOT ISOLATED (process)"
        if target.sandbox_label:
            return f"local · embedded backend · {target.sandbox_label}"
        isolation = f" · isolation {target.isolation}" if target.isolation else ""
        return f"local · embedded backend{isolation}"
    profile = f"profile {target.profile} · " if target.profile else ""
    return f"{target.kind} · {profile}{target.host}"


def freshness_text(freshness: Freshness, now: float, kind: str, refresh_key: str = "r") -> Content:
    state = freshness.shown(now)
    glyph = STATE_GLYPHS[state]
    age = freshness.age(now)
    if state in (State.LIVE, State.MANUAL):
        took = f" ({freshness.took_ms:.0f} ms)" if freshness.took_ms is not None else ""
        style = "bold $success" if state is State.LIVE else "bold $accent"
        parts: list[str | tuple[str, str]] = [
            (f"{glyph} {state.value}", style),
            f" · {kind} {human_seconds(age or 0.0)} ago{took}",
        ]
        if state is State.MANUAL:
            parts.append(f" · {refresh_key} refreshes")
        return Content.assemble(*parts)
    if state is State.CONNECTING:
        return Content.assemble((f"{glyph} connecting…", "$text-muted"))
    style = "bold $warning" if state is State.STALE else "bold $error"
    parts = [(f"{glyph} {state.value}", style)]
    parts.append(" · " + ("no data yet" if age is None else f"{kind} {human_seconds(age)} old"))
    retry = freshness.retry_in(now)
    if retry is not None:
        parts.append(f" · retry in {human_seconds(retry)}" if retry > 0 else " · retrying…")
    if freshness.error:
        parts.append(f" · {freshness.error}")
    elif freshness.state is State.LIVE:  # overdue: the current poll has not answered yet
        parts.append(" · waiting for the API")
    return Content.assemble(*parts)


class StatusBar(Vertical):
    DEFAULT_CSS = """
    StatusBar { height: auto; background: $panel; }
    StatusBar #status-line { height: 1; padding: 0 1; }
    StatusBar #status-target { width: 1fr; text-wrap: nowrap; text-overflow: ellipsis; }
    StatusBar #status-freshness {
        width: auto; max-width: 78%; padding-left: 2;
        text-wrap: nowrap; text-overflow: ellipsis;
    }
    StatusBar #status-hint { height: auto; padding: 0 1; color: $text-muted; display: none; }
    StatusBar #status-hint.shown { display: block; }
    StatusBar.stale #status-line { background: $warning 15%; }
    StatusBar.offline #status-line { background: $error 15%; }
    """

    def __init__(self, target: Target, read_only: bool, refresh_key: str = "r") -> None:
        super().__init__(id="status-bar")
        self.target = target
        self.read_only = read_only
        self.refresh_key = refresh_key
        self.switching = ""  # a switch of context under way (`show_switching`)
        self.target_label = Static(self._target_content(), id="status-target")
        self.freshness_label = Static("", id="status-freshness")
        self.hint_label = Static(target.hint, id="status-hint", markup=False)

    def _target_content(self) -> Content:
        parts: list[str | tuple[str, str]] = [
            ("celesto-tui", "bold"),
            " │ ",
            (target_text(self.target), "bold $accent"),
        ]
        if self.target.local and self.target.isolation == "process":
            parts[-1] = (target_text(self.target), "bold $warning")
        elif self.target.startup is not None and self.target.startup.error is not None:
            parts[-1] = (target_text(self.target), "bold $error")
        if self.read_only:
            parts += [" │ ", (" READ-ONLY ", "bold $background on $warning")]
        if self.switching:  # first, so that a narrow header cuts the old target instead
            parts[1:1] = [" │ ", (self.switching, "bold italic $warning")]
        return Content.assemble(*parts)

    def compose(self) -> ComposeResult:
        with Horizontal(id="status-line"):
            yield self.target_label
            yield self.freshness_label
        self.hint_label.set_class(bool(self.target.hint), "shown")
        yield self.hint_label

    def show_switching(self, text: str) -> None:
        """A switch of context is under way (``text``), or is over ("")."""
        self.switching = text
        self.target_label.update(self._target_content())

    def show_target(self, target: Target, read_only: bool | None = None) -> None:
        """The target changed: its embedded backend came up (its sandbox is known) or failed,
        or the user switched context (whose profile may be read-only)."""
        self.target = target
        if read_only is not None:
            self.read_only = read_only
        self.target_label.update(self._target_content())
        self.hint_label.update(target.hint)
        self.hint_label.set_class(bool(target.hint), "shown")

    @property
    def plain(self) -> str:
        """The header line as text (what a user reads, without the styles)."""
        texts = []
        for label in (self.target_label, self.freshness_label):
            content = label.content
            texts.append(content.plain if isinstance(content, Content) else str(content))
        return "   ".join(texts)

    def show(self, freshness: Freshness, now: float, kind: str) -> None:
        self.freshness_label.update(freshness_text(freshness, now, kind, self.refresh_key))
        state = freshness.shown(now)
        self.set_class(state is State.STALE, "stale")
        self.set_class(state is State.OFFLINE, "offline")
