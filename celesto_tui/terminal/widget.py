"""`TerminalView`: a Textual widget showing a terminal emulated by pyte.

The widget is transport-independent: the owner calls `feed()` with the program's output and
sends every `TerminalView.Input` message's bytes to the program; `TerminalView.Resized` tells
it the size to give the remote PTY.

Flow. `feed()` only queues. Parsing runs on the event loop, in a task of its own, in slices of
at most `parse_budget` seconds (8 ms) with a yield to the loop after each, so keys, mouse and
resize events interleave with a flood and Ctrl-C goes out at once. Repaints are coalesced
to `frame_rate` per second: the first change after an idle frame is painted at once, in the
same turn of the event loop (`_paint_now`: keystroke echo does not wait for Textual's update
timer), later ones wait for the next frame and Textual's own update. While a program holds
synchronized output (`?2026`) repaints wait for it, for at most 150 ms.

Selection. Without a program tracking the mouse (or with Shift held), dragging selects text,
a double click a word and a triple click a row, of the live screen or the scrollback; the
text goes to the clipboard at once (`App.copy_to_clipboard`, OSC 52) and `Copied` is posted.
Typing clears the selection.

Keys and priority bindings. Textual checks the App's *priority* bindings (ctrl+q quit, ctrl+p
command palette) before the focused widget sees a key, so `event.stop()` in `on_key` alone
cannot keep them. But `Screen._binding_chain` drops every binding of the focused widget's
ancestors (App included) for which the focused widget's `check_consume_key()` returns True,
priority or not. `TerminalView.check_consume_key` claims every key it can encode, except the
leave key, so while it has focus ctrl+p, ctrl+q, tab and ctrl+c reach the program; `on_key`
then stops the event and prevents the default handlers.
"""

from __future__ import annotations

import asyncio
import logging
import time
import unicodedata
from collections import deque
from collections.abc import Sequence

from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.filter import ANSIToTruecolor, LineFilter
from textual.geometry import Region
from textual.keys import KEY_NAME_REPLACEMENTS, key_to_character
from textual.message import Message
from textual.strip import Strip
from textual.timer import Timer
from textual.widget import Widget

from .keys import (
    MOUSE_LEFT,
    MOUSE_RELEASE,
    MOUSE_WHEEL_DOWN,
    MOUSE_WHEEL_UP,
    encode_focus,
    encode_key,
    encode_mouse,
    encode_paste,
    split_key,
)
from .render import TerminalRenderer, overlay_cursor, overlay_selection
from .screen import TerminalScreen
from .selection import Point, Selection, line_at, selected_text, top_row, word_at
from .stream import TerminalStream

log = logging.getLogger(__name__)

_SLICE_BYTES = 4096  # parse granularity inside one time slice (~1-2 ms of work)
_SYNCHRONIZED_OUTPUT_TIMEOUT = 0.15
_WHEEL_LINES = 3
_HISTORY_KEYS = {"shift+pageup": -1, "shift+pagedown": 1}


def normalize_key(key: str) -> str:
    """Textual's name for a key written as a user would: "ctrl+]" -> "ctrl+right_square_bracket"."""
    modifiers, base = split_key(key)
    if len(base) == 1 and not base.isalnum():
        name = unicodedata.name(base, base).lower().replace("-", "_").replace(" ", "_")
        base = KEY_NAME_REPLACEMENTS.get(name, name)
    return "+".join([*sorted(modifiers), base])


def key_display(key: str) -> str:
    """A short label for a key: "ctrl+right_square_bracket" -> "ctrl+]"."""
    modifiers, base = split_key(key)
    character = key_to_character(base)
    label = character if character and character.isprintable() and character != " " else base
    return "+".join([*sorted(modifiers), label])


class TerminalView(Widget, can_focus=True):
    """A terminal pane: shows a `TerminalScreen`, turns input into bytes for the program.

    Args:
        leave_key: The key that posts `Leave` instead of being sent (default ctrl+]).
        scrollback: Rows kept after they scroll off the top.
        parse_budget: Seconds of parsing per turn of the event loop.
        frame_rate: Maximum repaints per second.
    """

    ALLOW_SELECT = False  # the mouse belongs to the program or to the scrollback

    DEFAULT_CSS = """
    TerminalView {
        width: 1fr;
        height: 1fr;
        background: $background;
        color: $foreground;
    }
    """

    class Input(Message):
        """Bytes for the program: a key, a paste, a mouse or focus report, a query reply."""

        def __init__(self, terminal: TerminalView, data: bytes) -> None:
            super().__init__()
            self.terminal = terminal
            self.data = data

        @property
        def control(self) -> TerminalView:
            return self.terminal

    class Resized(Message):
        """The terminal now has `columns` x `rows` cells; tell the remote PTY."""

        def __init__(self, terminal: TerminalView, columns: int, rows: int) -> None:
            super().__init__()
            self.terminal = terminal
            self.columns = columns
            self.rows = rows

        @property
        def control(self) -> TerminalView:
            return self.terminal

    class TitleChanged(Message):
        """The program set the window title (OSC 0 / OSC 2)."""

        def __init__(self, terminal: TerminalView, title: str) -> None:
            super().__init__()
            self.terminal = terminal
            self.title = title

        @property
        def control(self) -> TerminalView:
            return self.terminal

    class Copied(Message):
        """Text the user selected went to the clipboard."""

        def __init__(self, terminal: TerminalView, text: str) -> None:
            super().__init__()
            self.terminal = terminal
            self.text = text

        @property
        def control(self) -> TerminalView:
            return self.terminal

    class Leave(Message):
        """The user pressed the leave key."""

        def __init__(self, terminal: TerminalView) -> None:
            super().__init__()
            self.terminal = terminal

        @property
        def control(self) -> TerminalView:
            return self.terminal

    def __init__(
        self,
        *,
        leave_key: str = "ctrl+]",
        scrollback: int = 5_000,
        parse_budget: float = 0.008,
        frame_rate: float = 60.0,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
        disabled: bool = False,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes, disabled=disabled)
        self.leave_key = normalize_key(leave_key)
        self.parse_budget = parse_budget
        self.frame_interval = 1.0 / frame_rate
        self.terminal = TerminalScreen(
            80,
            24,
            scrollback=scrollback,
            on_reply=self._reply,
            on_bell=self._ring,
            on_title=self._retitle,
        )
        """The emulated screen (a pyte `Screen`): state, modes, scrollback."""
        self._stream = TerminalStream(self.terminal)
        self._renderer = TerminalRenderer(self.terminal)
        self._pending: deque[memoryview | str] = deque()
        self._pending_bytes = 0
        self._parser: asyncio.Task[None] | None = None
        self._drained = asyncio.Event()
        self._drained.set()
        self._parsed_some = asyncio.Event()  # set after every slice parsed
        self._repaint_timer: Timer | None = None
        self._last_repaint = 0.0
        self._last_output = 0.0
        self._output_after_quiet = False
        self._synchronized_since: float | None = None
        self._history_offset = 0
        self._seen_pushed = 0
        self._drawn_cursor: tuple[int, int, bool, str] | None = None
        self._reported_size: tuple[int, int] | None = None
        self._last_motion: tuple[int, int] | None = None
        self._selection: Selection | None = None
        self._selecting = False  # a drag is extending the selection

    # -- public API ------------------------------------------------------------------------

    def feed(self, data: bytes) -> None:
        """Queue program output (UTF-8 bytes) for parsing."""
        if data:
            self._enqueue(memoryview(data), len(data))

    def feed_text(self, text: str) -> None:
        """Queue program output that is already decoded (terminado-style text frames)."""
        if text:
            self._enqueue(text, len(text))

    @property
    def pending_bytes(self) -> int:
        """Output queued but not parsed yet (for backpressure on the transport)."""
        return self._pending_bytes

    async def drained(self) -> None:
        """Wait until everything fed so far has been parsed."""
        await self._drained.wait()

    async def wait_below(self, limit: int) -> None:
        """Wait until at most `limit` bytes are waiting to be parsed (backpressure)."""
        while self._pending_bytes > limit:
            self._parsed_some.clear()
            await self._parsed_some.wait()

    def send(self, data: bytes) -> None:
        """Post `Input(data)` as if typed, e.g. to send the leave key itself."""
        self.scroll_to_live()
        self.clear_selection()
        self.post_message(self.Input(self, data))

    @property
    def selection(self) -> Selection | None:
        """The text selected with the mouse, if any."""
        return self._selection

    @property
    def selected_text(self) -> str:
        """The selection's text ("" without one)."""
        if self._selection is None:
            return ""
        return selected_text(self.terminal, self._selection)

    def clear_selection(self) -> None:
        if self._selection is not None or self._selecting:
            self._selection = None
            self._selecting = False
            self.refresh()

    @property
    def title(self) -> str:
        """The window title the program set."""
        return str(self.terminal.title)

    @property
    def history_offset(self) -> int:
        """How many rows the view is scrolled back into the scrollback (0: live)."""
        return self._history_offset

    def scroll_history(self, rows: int) -> None:
        """Scroll the view `rows` rows back (negative) or forward (positive)."""
        history = len(self.terminal.scrollback)
        offset = max(0, min(self._history_offset - rows, history))
        if offset != self._history_offset:
            self._history_offset = offset
            self.refresh()

    def scroll_to_live(self) -> None:
        """Show the live screen again."""
        if self._history_offset:
            self._history_offset = 0
            self.refresh()

    # -- output ------------------------------------------------------------------------------

    def _enqueue(self, data: memoryview | str, size: int) -> None:
        now = time.monotonic()
        # Output after a quiet frame (an echo, a prompt) is painted at once; a flood's is not.
        self._output_after_quiet = now - self._last_output > self.frame_interval
        self._last_output = now
        self._pending.append(data)
        self._pending_bytes += size
        self._drained.clear()
        if self._parser is None:
            self._parser = asyncio.create_task(self._parse_pending())

    async def _parse_pending(self) -> None:
        """Parse in slices on a task of its own, yielding to the event loop between slices.

        The widget's message queue stays free, so keys are handled (and sent) while a flood
        is still being parsed; Textual paints between slices.
        """
        try:
            while self._pending:
                self._parse_slice()
                await asyncio.sleep(0)
        finally:
            self._parser = None
            if not self._pending:
                self._drained.set()

    def _parse_slice(self) -> None:
        deadline = time.perf_counter() + self.parse_budget
        pending = self._pending
        while pending:
            data = pending[0]
            if len(data) > _SLICE_BYTES:
                piece, pending[0] = data[:_SLICE_BYTES], data[_SLICE_BYTES:]
            else:
                piece = pending.popleft()
            self._pending_bytes -= len(piece)
            try:
                if isinstance(piece, str):
                    self._stream.feed_text(piece)
                else:
                    self._stream.feed(bytes(piece))
            except Exception:  # a bug in the emulator must not take the app down
                log.exception("terminal output could not be parsed")
            if time.perf_counter() >= deadline:
                break
        self._parsed_some.set()
        self._request_repaint()

    def _request_repaint(self) -> None:
        if self._repaint_timer is not None:
            return
        wait = self._last_repaint + self.frame_interval - time.monotonic()
        if wait <= 0:
            self._repaint()
            if self._output_after_quiet and not self._pending:
                self._paint_now()
        else:
            self._repaint_timer = self.set_timer(wait, self._repaint)

    def _repaint(self) -> None:
        self._repaint_timer = None
        now = time.monotonic()
        if self.terminal.synchronized_output:
            if self._synchronized_since is None:
                self._synchronized_since = now
            if now - self._synchronized_since < _SYNCHRONIZED_OUTPUT_TIMEOUT:
                self._repaint_timer = self.set_timer(self.frame_interval, self._repaint)
                return
        else:
            self._synchronized_since = None
        self._last_repaint = now
        self._sync_and_refresh()

    def _paint_now(self) -> None:
        """Draw what `_repaint` just marked dirty now, as the screen's update timer would.

        Textual paints a refreshed widget after an `Update` message to the screen, the
        screen's idle handler and a wake of its update timer's task: about 0.7 ms after a
        keystroke's echo is parsed. Only output that came after a quiet frame, once it is all
        parsed, is painted here: a flood's frames stay Textual's (coalesced as before).
        Textual 8 has no public "update now": this is the timer's own callback, run early.
        """
        if not self._repaint_required or not self.is_on_screen or not self.screen.is_current:
            return
        screen = self.screen
        screen._dirty_widgets.add(self)
        screen._on_timer_update()
        if not self._repaint_regions:  # painted (not held back by a batch update)
            self._repaint_required = False  # so no `Update` message for it any more

    def _sync_and_refresh(self) -> None:
        """Bring the strip cache up to date and ask Textual to repaint what changed."""
        terminal = self.terminal
        changed = self._renderer.sync()
        selection = self._selection
        if selection is not None and selection.generation != terminal.generation:
            self._selection = None  # the rows it was on are gone
            changed = None
        pushed = terminal.scrollback_pushed - self._seen_pushed
        self._seen_pushed = terminal.scrollback_pushed
        if self._history_offset and terminal.in_alternate_screen:
            self._history_offset = 0  # a full-screen program took over: show it
            changed = None
        elif self._history_offset and pushed > 0:  # keep the rows being read in place
            self._history_offset = min(self._history_offset + pushed, len(terminal.scrollback))
            changed = None
        cursor = self._cursor_state()
        if cursor != self._drawn_cursor:
            if changed is not None:
                changed.add(cursor[1])
                if self._drawn_cursor is not None:
                    changed.add(self._drawn_cursor[1])
            self._drawn_cursor = cursor
        if not changed and changed is not None:
            return
        height = self.size.height
        if changed is None or len(changed) > height // 2:
            self.refresh()
            return
        width = self.size.width
        offset = self._history_offset
        regions = [Region(0, y + offset, width, 1) for y in changed if y + offset < height]
        if regions:
            self.refresh(*regions)

    def _reply(self, text: str) -> None:
        self.post_message(self.Input(self, text.encode("utf-8")))

    def _ring(self) -> None:
        if self.is_mounted:
            self.app.bell()

    def _retitle(self, title: str) -> None:
        self.post_message(self.TitleChanged(self, title))

    # -- rendering -----------------------------------------------------------------------

    def _cursor_state(self) -> tuple[int, int, bool, str]:
        terminal = self.terminal
        x = min(terminal.cursor.x, terminal.columns - 1)
        if self.has_focus:
            shape = "block" if terminal.cursor_shape == "block" else "underline"
        else:
            shape = "underline"
        return x, terminal.cursor.y, terminal.cursor_visible, shape

    def render_line(self, y: int) -> Strip:
        terminal = self.terminal
        renderer = self._renderer
        base = self.visual_style.rich_style
        renderer.set_base_style(base)
        if terminal.dirty or renderer.out_of_date:
            self._sync_and_refresh()
        width = self.size.width
        history = len(terminal.scrollback)
        offset = min(self._history_offset, history)
        index = history - offset + y
        if index < history:
            strip = renderer.history_row(index)
        elif index - history < terminal.lines:
            row = index - history
            strip = renderer.row(row)
            x, cursor_y, visible, shape = self._cursor_state()
            if visible and row == cursor_y:
                right = terminal.buffer[row][x + 1] if x + 1 < terminal.columns else None
                cells = 2 if right is not None and right.data == "" else 1
                strip = overlay_cursor(strip, x, cells, shape)
        else:
            return Strip.blank(width, base)
        selection = self._selection
        if selection is not None:
            span = selection.span(top_row(terminal, offset) + y, terminal.columns)
            if span is not None:
                style = self.screen.get_component_rich_style("screen--selection")
                strip = overlay_selection(strip, *span, style)
        if offset and y == 0:
            strip = _with_marker(strip, f" {offset}/{history} ", base + Style(reverse=True))
        return strip.adjust_cell_length(width, base)

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._renderer.invalidate()

    def get_line_filters(self) -> Sequence[LineFilter]:
        # The program's colours are the user's terminal palette, as in tmux: the app's filter
        # would map the 16 ANSI colours to the theme's shades (red and magenta alike) and
        # draw SGR 2 as a grey blend instead of dim.
        return [f for f in super().get_line_filters() if not isinstance(f, ANSIToTruecolor)]

    # -- size --------------------------------------------------------------------------------

    def on_mount(self) -> None:
        if not self.border_subtitle:
            self.border_subtitle = f"{key_display(self.leave_key)} to leave"

    def on_unmount(self) -> None:
        if self._parser is not None:
            self._parser.cancel()

    def on_resize(self, event: events.Resize) -> None:
        width, height = self.size
        if width < 1 or height < 1:
            return
        terminal = self.terminal
        if (width, height) != (terminal.columns, terminal.lines):
            terminal.resize(lines=height, columns=width)
            self._history_offset = min(self._history_offset, len(terminal.scrollback))
            self._sync_and_refresh()
        if self._reported_size != (width, height):
            self._reported_size = (width, height)
            self.post_message(self.Resized(self, width, height))

    # -- keyboard, paste, focus ----------------------------------------------------------

    def check_consume_key(self, key: str, character: str | None) -> bool:
        if normalize_key(key) == self.leave_key:
            return False
        return key in _HISTORY_KEYS or encode_key(key, character) is not None

    def on_key(self, event: events.Key) -> None:
        key = event.key
        if normalize_key(key) == self.leave_key:
            event.stop()
            event.prevent_default()
            self.post_message(self.Leave(self))
            return
        terminal = self.terminal
        if key in _HISTORY_KEYS and not terminal.in_alternate_screen:
            event.stop()
            event.prevent_default()
            self.scroll_history(_HISTORY_KEYS[key] * max(1, self.size.height - 1))
            return
        data = encode_key(
            key,
            event.character,
            application_cursor=terminal.application_cursor,
            newline_mode=terminal.newline_mode,
        )
        if data is None:
            return
        event.stop()
        event.prevent_default()
        self.send(data)

    def on_paste(self, event: events.Paste) -> None:
        event.stop()
        event.prevent_default()
        self.send(encode_paste(event.text, bracketed=self.terminal.bracketed_paste))

    def on_focus(self, event: events.Focus) -> None:
        if self.terminal.focus_reporting:
            self.post_message(self.Input(self, encode_focus(True)))
        self._sync_and_refresh()

    def on_blur(self, event: events.Blur) -> None:
        if self.terminal.focus_reporting:
            self.post_message(self.Input(self, encode_focus(False)))
        self._sync_and_refresh()

    # -- mouse -------------------------------------------------------------------------------

    def on_mouse_down(self, event: events.MouseDown) -> None:
        if self._report_mouse(event, event.button - 1, release=False, motion=False):
            self.capture_mouse()
        elif event.button == 1:
            point = self._point(event)
            self._selection = Selection(point, point, self.terminal.generation)
            self._selecting = True
            self.capture_mouse()
            self.refresh()

    def on_mouse_up(self, event: events.MouseUp) -> None:
        if self._selecting:
            self._selecting = False
            self.release_mouse()
            selection = self._selection
            if selection is not None and selection.anchor == selection.head:
                self.clear_selection()  # a click, not a drag
            else:
                self._copy_selection()
        elif self._report_mouse(event, event.button - 1, release=True, motion=False):
            self.release_mouse()

    def on_click(self, event: events.Click) -> None:
        if event.button != 1 or (self.terminal.mouse_tracking and not event.shift):
            return
        point = self._point(event)
        generation = self.terminal.generation
        if event.chain == 2:
            self._selection = word_at(self.terminal, point, generation)
        elif event.chain >= 3:
            self._selection = line_at(self.terminal, point, generation)
        else:
            return
        self.refresh()
        self._copy_selection()

    def on_mouse_move(self, event: events.MouseMove) -> None:
        if self._selecting:
            selection = self._selection
            point = self._point(event)
            if selection is not None and point != selection.head:
                self._selection = Selection(selection.anchor, point, selection.generation)
                self.refresh()
            return
        mode = self.terminal.mouse_tracking
        if mode == 1003 or (mode == 1002 and event.button):
            button = event.button - 1 if event.button else MOUSE_RELEASE
            self._report_mouse(event, button, release=False, motion=True)

    def _point(self, event: events.MouseEvent) -> Point:
        """The (row, column) under the pointer, kept inside the view while dragging."""
        offset = event.get_content_offset_capture(self)
        terminal = self.terminal
        y = max(0, min(offset.y, self.size.height - 1, terminal.lines - 1))
        x = max(0, min(offset.x, terminal.columns - 1))
        return top_row(terminal, self._history_offset) + y, x

    def _copy_selection(self) -> None:
        text = self.selected_text
        if text:
            self.app.copy_to_clipboard(text)
            self.post_message(self.Copied(self, text))

    def on_mouse_scroll_up(self, event: events.MouseScrollUp) -> None:
        self._wheel(event, MOUSE_WHEEL_UP, "up", -_WHEEL_LINES)

    def on_mouse_scroll_down(self, event: events.MouseScrollDown) -> None:
        self._wheel(event, MOUSE_WHEEL_DOWN, "down", _WHEEL_LINES)

    def _wheel(self, event: events.MouseEvent, button: int, arrow: str, rows: int) -> None:
        """Wheel: to a program tracking the mouse, else arrow keys in the alternate screen
        (less, man, vim scroll as in most terminals), else the scrollback."""
        event.stop()
        terminal = self.terminal
        if terminal.mouse_tracking not in (0, 9):
            self._report_mouse(event, button, release=False, motion=False)
        elif terminal.in_alternate_screen:
            key = encode_key(arrow, application_cursor=terminal.application_cursor)
            if key is not None:
                self.send(key * _WHEEL_LINES)
        else:
            self.scroll_history(rows)

    def _report_mouse(
        self, event: events.MouseEvent, button: int, *, release: bool, motion: bool
    ) -> bool:
        """Send a mouse report if the program asked for this kind; Shift bypasses reporting."""
        terminal = self.terminal
        mode = terminal.mouse_tracking
        if not mode or event.shift or self._history_offset:
            return False
        if mode == 9 and (release or motion or button > MOUSE_LEFT + 2):
            return False
        offset = event.get_content_offset(self)
        if offset is None:
            return False
        if motion:
            if (offset.x, offset.y) == self._last_motion:
                return True
            self._last_motion = (offset.x, offset.y)
        modifiers = mode != 9
        data = encode_mouse(
            button,
            offset.x,
            offset.y,
            encoding=terminal.mouse_encoding,
            release=release,
            motion=motion,
            shift=False,
            alt=modifiers and event.meta,
            ctrl=modifiers and event.ctrl,
        )
        event.stop()
        if data is not None:
            self.post_message(self.Input(self, data))
        return True


def _with_marker(strip: Strip, text: str, style: Style) -> Strip:
    """Overlay `text` at the right end of a strip (the scrollback position)."""
    width = strip.cell_length
    if len(text) >= width:
        return strip
    left = strip.crop(0, width - len(text))
    return Strip.join([left, Strip([Segment(text, style)], len(text))])
