"""The footer's key hints, drawn by one widget with Textual's footer look.

Textual's `Footer` mounts a widget per key (13 of the dashboard's 46 nodes before its first
frame, each styled and laid out) and recomposes them all whenever the focus moves. Here the
hints are a list laid out on one line: the focus moving re-reads the bindings and repaints.
It keeps what the footer does: keys in the screen's binding order with some actions first,
disabled keys dimmed, the palette key docked right, a click presses the key, the wheel
scrolls hints that do not fit, a hint's tooltip shows under the mouse.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple

from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding
from textual.message import Message
from textual.screen import Screen
from textual.widget import Widget

PALETTE_BORDER = "▏"
# Records are NamedTuples: a frozen dataclass costs ~0.5 ms to define, before the first frame.


class KeyHint(NamedTuple):
    key: str
    key_display: str
    description: str
    action: str
    enabled: bool
    tooltip: str
    compact: bool

    @property
    def key_text(self) -> str:
        return self.key_display if self.compact else f" {self.key_display} "

    @property
    def description_text(self) -> str:
        if not self.description:
            return ""
        return f" {self.description}" if self.compact else f"{self.description} "

    @property
    def width(self) -> int:
        return len(self.key_text) + len(self.description_text)


class PlacedHint(NamedTuple):
    hint: KeyHint
    x: int  # in the widget, after scrolling; may be off either edge

    @property
    def right(self) -> int:
        return self.x + self.hint.width


class KeyHints(Widget, can_focus=False):
    ALLOW_SELECT = False
    COMPONENT_CLASSES = {
        "key-hints--item",
        "key-hints--key",
        "key-hints--description",
        "key-hints--hover",
        "key-hints--palette-border",
    }
    # The values of Textual's Footer and FooterKey, so both look the same.
    DEFAULT_CSS = """
    KeyHints {
        dock: bottom;
        height: 1;
        color: $footer-foreground;
        background: $footer-background;
        & > .key-hints--item {
            background: $footer-item-background;
        }
        & > .key-hints--key {
            color: $footer-key-foreground;
            background: $footer-key-background;
            text-style: bold;
        }
        & > .key-hints--description {
            color: $footer-description-foreground;
            background: $footer-description-background;
        }
        & > .key-hints--hover {
            color: $footer-key-foreground;
            background: $block-hover-background;
        }
        & > .key-hints--palette-border {
            color: $foreground 20%;
            background: $footer-item-background;
        }
    }
    """

    class Pressed(Message):
        """A key hint was clicked: the key is pressed (the app simulates it)."""

        def __init__(self, key: str) -> None:
            super().__init__()
            self.key = key

    def __init__(
        self,
        *,
        compact: bool = False,
        show_palette: bool = True,
        first_actions: Iterable[str] = ("help",),
        left_out_actions: Iterable[str] = (),
        id: str | None = None,
    ) -> None:
        super().__init__(id=id)
        self.compact = compact
        self.show_palette = show_palette
        self.first_actions = tuple(first_actions)
        self.left_out_actions = frozenset(left_out_actions)
        self.hints: list[KeyHint] = []
        self.palette: KeyHint | None = None
        self._scroll = 0
        self._hover: KeyHint | None = None

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, self._bindings_changed)
        self._read_bindings(self.screen)

    def on_unmount(self) -> None:
        self.screen.bindings_updated_signal.unsubscribe(self)

    def _bindings_changed(self, screen: Screen[object]) -> None:
        # As Textual's footer: a blurred app's focus is gone for the moment, not moved.
        if screen.app.app_focus and self.is_attached and screen is self.screen:
            self._read_bindings(screen)

    def _read_bindings(self, screen: Screen[object]) -> None:
        by_action: dict[str, KeyHint] = {}
        palette_key = screen.app.COMMAND_PALETTE_BINDING
        palette: KeyHint | None = None
        for key, (_node, binding, enabled, tooltip) in screen.active_bindings.items():
            if key == palette_key and screen.app.ENABLE_COMMAND_PALETTE:
                # Shown on the right even though its binding is not among the shown ones.
                if self.show_palette:
                    palette = self._hint(binding, enabled, binding.tooltip, compact=True)
                continue
            if not binding.show or binding.action in self.left_out_actions:
                continue
            by_action.setdefault(binding.action, self._hint(binding, enabled, tooltip))
        first = [by_action[action] for action in self.first_actions if action in by_action]
        hints = first + [hint for hint in by_action.values() if hint not in first]
        if hints != self.hints or palette != self.palette:
            self.hints, self.palette = hints, palette
            self.refresh()

    def _hint(
        self, binding: Binding, enabled: bool, tooltip: str, compact: bool | None = None
    ) -> KeyHint:
        return KeyHint(
            key=binding.key,
            key_display=self.app.get_key_display(binding),
            description=binding.description,
            action=binding.action,
            enabled=enabled,
            tooltip=tooltip,
            compact=self.compact if compact is None else compact,
        )

    # --- layout ---------------------------------------------------------------------------

    @property
    def _gap(self) -> int:
        return 1 if self.compact else 0

    @property
    def _palette_width(self) -> int:
        # The border and a cell of padding on the right, as Textual's palette key.
        return 0 if self.palette is None else self.palette.width + 2

    def placed(self) -> list[PlacedHint]:
        """Every hint with where it is drawn, the palette's last (scrolling moves the rest)."""
        placed, x = [], -self._shown_scroll
        for hint in self.hints:
            placed.append(PlacedHint(hint, x))
            x += hint.width + self._gap
        if self.palette is not None:
            placed.append(PlacedHint(self.palette, self.size.width - self._palette_width + 1))
        return placed

    def _hint_at(self, x: int) -> KeyHint | None:
        for spot in self.placed():
            if spot.x <= x < spot.right:
                if spot.hint is not self.palette and x >= self._keys_width:
                    return None  # under the palette
                return spot.hint
        return None

    @property
    def _keys_width(self) -> int:
        return max(0, self.size.width - self._palette_width)

    # --- drawing --------------------------------------------------------------------------

    def render(self) -> Text:
        line = Text(no_wrap=True, overflow="crop", end="")
        for index, hint in enumerate(self.hints):
            if index and self._gap:
                line.append(" " * self._gap)
            line.append_text(self._draw(hint))
        line = line[self._shown_scroll :]
        line.truncate(self._keys_width)
        if self.palette is not None:
            # Blank cells carry a background only, as the empty parts of Textual's footer.
            line.append(" " * (self._keys_width - line.cell_len))
            border = self.get_component_rich_style("key-hints--palette-border")
            line.append(PALETTE_BORDER, border)
            line.append_text(self._draw(self.palette))
            line.append(" ", Style(bgcolor=self._item_style(self.palette).bgcolor))
        return line

    def _draw(self, hint: KeyHint) -> Text:
        text = Text.assemble(
            (hint.key_text, self.get_component_rich_style("key-hints--key")),
            (hint.description_text, self.get_component_rich_style("key-hints--description")),
        )
        text.stylize_before(self._item_style(hint))
        if hint is self._hover:
            text.stylize(self.get_component_rich_style("key-hints--hover"))
        return text

    def _item_style(self, hint: KeyHint) -> Style:
        style = self.get_component_rich_style("key-hints--item")
        return style + Style(dim=True) if not hint.enabled else style

    # --- mouse ----------------------------------------------------------------------------

    def on_mouse_move(self, event: events.MouseMove) -> None:
        hint = self._hint_at(event.x)
        if hint is not self._hover:
            self._hover = hint
            self.tooltip = hint.tooltip if hint is not None and hint.tooltip else None
            self.refresh()

    def on_leave(self, _event: events.Leave) -> None:
        if self._hover is not None:
            self._hover = None
            self.tooltip = None
            self.refresh()

    def on_mouse_down(self, event: events.MouseDown) -> None:
        hint = self._hint_at(event.x)
        if hint is None:
            return
        if hint.enabled:
            self.post_message(self.Pressed(hint.key))
        else:
            self.app.bell()

    def on_mouse_scroll_down(self, event: events.MouseScrollDown) -> None:
        self._scroll_by(+1, event)

    def on_mouse_scroll_up(self, event: events.MouseScrollUp) -> None:
        self._scroll_by(-1, event)

    def _scroll_by(self, step: int, event: events.MouseEvent) -> None:
        scroll = min(max(0, self._shown_scroll + step * 4), self._overflow)
        if scroll != self._shown_scroll:
            self._scroll = scroll
            self.refresh()
            event.stop()

    @property
    def _overflow(self) -> int:
        """How many cells of hints do not fit beside the palette key."""
        drawn = sum(hint.width + self._gap for hint in self.hints) - self._gap
        return max(0, drawn - self._keys_width)

    @property
    def _shown_scroll(self) -> int:
        # Within what overflows now: the hints or the width change after a scroll.
        return min(self._scroll, self._overflow)
