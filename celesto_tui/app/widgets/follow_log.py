"""A log that follows new lines (k9s-style): scrolling up pauses the follow, `f` or End
resumes it at the bottom."""

from __future__ import annotations

from textual import events
from textual.binding import Binding
from textual.reactive import reactive
from textual.widgets import Log


class FollowLog(Log):
    BINDINGS = [Binding("f", "scroll_end", "Follow", id="logs-follow")]

    following = reactive(True)

    def append(self, text: str) -> None:
        """Add output (it may continue the last, unfinished line); kept in view when following."""
        self.write(text, scroll_end=self.following)

    def replace(self, text: str) -> None:
        self.clear()
        self.append(text)

    def action_scroll_end(self) -> None:
        self.following = True
        self.scroll_end(animate=False, immediate=True, x_axis=False)

    def _pause(self) -> None:
        if self.max_scroll_y > 0:
            self.following = False

    def action_scroll_up(self) -> None:
        self._pause()
        super().action_scroll_up()

    def action_page_up(self) -> None:
        self._pause()
        super().action_page_up()

    def action_scroll_home(self) -> None:
        self._pause()
        super().action_scroll_home()

    def on_mouse_scroll_up(self, _event: events.MouseScrollUp) -> None:
        self._pause()
