"""TerminalView in a small App, driven by Pilot."""

from __future__ import annotations

import asyncio
from typing import Any

from rich.cells import cell_len
from textual import events
from textual.app import App, ComposeResult
from textual.command import CommandPalette
from textual.pilot import Pilot
from textual.strip import Strip

from celesto_tui.terminal.widget import TerminalView


class TerminalApp(App[None]):
    """An app with the default priority bindings (ctrl+q quit, ctrl+p palette)."""

    CSS = "TerminalView { border: round $accent; }"

    def __init__(self, **options: Any) -> None:
        super().__init__()
        self.options = options
        self.inputs: list[bytes] = []
        self.resizes: list[tuple[int, int]] = []
        self.titles: list[str] = []
        self.leaves = 0
        self.pending_at_input: list[int] = []

    def compose(self) -> ComposeResult:
        yield TerminalView(**self.options)

    def on_mount(self) -> None:
        self.query_one(TerminalView).focus()

    def on_terminal_view_input(self, message: TerminalView.Input) -> None:
        self.inputs.append(message.data)
        self.pending_at_input.append(message.terminal.pending_bytes)

    def on_terminal_view_resized(self, message: TerminalView.Resized) -> None:
        self.resizes.append((message.columns, message.rows))

    def on_terminal_view_title_changed(self, message: TerminalView.TitleChanged) -> None:
        self.titles.append(message.title)

    def on_terminal_view_leave(self, message: TerminalView.Leave) -> None:
        self.leaves += 1


async def _show(pilot: Pilot[None], view: TerminalView, data: bytes) -> None:
    view.feed(data)
    await view.drained()
    await pilot.pause()


async def _wheel(pilot: Pilot[None], view: TerminalView, event: type[events.MouseEvent]) -> None:
    """Pilot has no wheel helper: post the event as the driver would, over cell (3, 3)."""
    region = view.region
    x, y = region.x + 3, region.y + 3
    view.post_message(event(view, 3, 3, 0, 0, 0, False, False, False, x, y))
    await pilot.pause()


def _text(view: TerminalView) -> list[str]:
    return [view.render_line(y).text.rstrip() for y in range(view.size.height)]


async def test_typed_keys_become_input_bytes() -> None:
    app = TerminalApp()
    async with app.run_test(size=(40, 10)) as pilot:
        await pilot.press("l", "s", "space", "enter", "up", "tab", "ctrl+c", "escape", "f5")
        assert app.inputs == [
            b"l",
            b"s",
            b" ",
            b"\r",
            b"\x1b[A",
            b"\t",
            b"\x03",
            b"\x1b",
            b"\x1b[15~",
        ]


async def test_application_cursor_mode_changes_the_arrows() -> None:
    app = TerminalApp()
    async with app.run_test(size=(40, 10)) as pilot:
        view = app.query_one(TerminalView)
        await _show(pilot, view, b"\x1b[?1h")
        await pilot.press("up", "ctrl+up")
        assert app.inputs == [b"\x1bOA", b"\x1b[1;5A"]


async def test_ctrl_p_and_ctrl_q_reach_the_terminal_not_the_app() -> None:
    app = TerminalApp()
    async with app.run_test(size=(40, 10)) as pilot:
        await pilot.press("ctrl+p", "ctrl+q")
        await pilot.pause()
        assert app.inputs == [b"\x10", b"\x11"]
        assert not isinstance(app.screen, CommandPalette)
        assert app.is_running


async def test_the_leave_key_leaves_instead_of_being_sent() -> None:
    app = TerminalApp()
    async with app.run_test(size=(40, 10)) as pilot:
        await pilot.press("ctrl+right_square_bracket")
        assert app.leaves == 1
        assert app.inputs == []
        assert "to leave" in str(app.query_one(TerminalView).border_subtitle)


async def test_a_configured_leave_key() -> None:
    app = TerminalApp(leave_key="ctrl+g")
    async with app.run_test(size=(40, 10)) as pilot:
        await pilot.press("ctrl+g", "ctrl+right_square_bracket")
        assert app.leaves == 1
        assert app.inputs == [b"\x1d"]


async def test_output_is_rendered() -> None:
    app = TerminalApp()
    async with app.run_test(size=(40, 10)) as pilot:
        view = app.query_one(TerminalView)
        await _show(pilot, view, b"\x1b[32muser@box\x1b[0m:~$ ls\r\nfile.txt  \xe4\xb8\xad\r\n$ ")
        assert _text(view)[:3] == ["user@box:~$ ls", "file.txt  中", "$"]


async def test_resized_is_posted_with_the_content_size() -> None:
    app = TerminalApp()
    async with app.run_test(size=(40, 10)) as pilot:
        view = app.query_one(TerminalView)
        assert app.resizes == [(38, 8)]  # inside the round border
        assert (view.terminal.columns, view.terminal.lines) == (38, 8)
        await pilot.resize_terminal(50, 12)
        await pilot.pause()
        assert app.resizes[-1] == (48, 10)
        assert (view.terminal.columns, view.terminal.lines) == (48, 10)


async def test_device_queries_are_answered_through_input() -> None:
    app = TerminalApp()
    async with app.run_test(size=(40, 10)) as pilot:
        view = app.query_one(TerminalView)
        await _show(pilot, view, b"ab\x1b[6n")
        await pilot.pause()
        assert app.inputs == [b"\x1b[1;3R"]


async def test_bracketed_paste_and_focus_reports() -> None:
    app = TerminalApp()
    async with app.run_test(size=(40, 10)) as pilot:
        view = app.query_one(TerminalView)
        view.post_message(events.Paste("plain\n"))
        await pilot.pause()
        await _show(pilot, view, b"\x1b[?2004h\x1b[?1004h")
        view.post_message(events.Paste("x\x1b[201~y"))
        await pilot.pause()
        view.blur()
        await pilot.pause()
        view.focus()
        await pilot.pause()
        assert app.inputs == [b"plain\r", b"\x1b[200~x[201~y\x1b[201~", b"\x1b[O", b"\x1b[I"]


async def test_mouse_reports_when_the_program_asks() -> None:
    app = TerminalApp()
    async with app.run_test(size=(40, 10)) as pilot:
        view = app.query_one(TerminalView)
        await pilot.click(TerminalView, offset=(5, 3))
        assert app.inputs == []  # not tracking: clicks stay local
        await _show(pilot, view, b"\x1b[?1000h\x1b[?1006h")
        await pilot.click(TerminalView, offset=(5, 3))  # the border is at (0, 0)
        assert app.inputs == [b"\x1b[<0;5;3M", b"\x1b[<0;5;3m"]


async def test_wheel_and_shift_page_keys_scroll_the_history() -> None:
    app = TerminalApp()
    async with app.run_test(size=(40, 10)) as pilot:
        view = app.query_one(TerminalView)
        await _show(pilot, view, b"".join(b"line %d\r\n" % n for n in range(30)))
        assert view.history_offset == 0
        await pilot.press("shift+pageup")
        assert view.history_offset == 7
        assert _text(view)[0].startswith("line 16")  # 23 rows of history, 7 shown
        await pilot.press("shift+pagedown")
        assert view.history_offset == 0
        await _wheel(pilot, view, events.MouseScrollUp)
        assert view.history_offset == 3
        await pilot.press("x")  # typing returns to the live screen
        assert view.history_offset == 0
        assert app.inputs == [b"x"]


async def test_wheel_in_the_alternate_screen_sends_arrows() -> None:
    app = TerminalApp()
    async with app.run_test(size=(40, 10)) as pilot:
        view = app.query_one(TerminalView)
        await _show(pilot, view, b"\x1b[?1049h")
        await _wheel(pilot, view, events.MouseScrollDown)
        assert app.inputs == [b"\x1b[B" * 3]


async def test_title_and_bell() -> None:
    app = TerminalApp()
    bells: list[None] = []
    app.bell = lambda: bells.append(None)  # type: ignore[method-assign]
    async with app.run_test(size=(40, 10)) as pilot:
        view = app.query_one(TerminalView)
        await _show(pilot, view, b"\x1b]2;vim main.py\x07\x07")
        await pilot.pause()
        assert app.titles == ["vim main.py"]
        assert view.title == "vim main.py"
        assert bells == [None]


async def test_keys_are_handled_while_a_flood_is_parsed() -> None:
    app = TerminalApp()
    async with app.run_test(size=(40, 10)) as pilot:
        view = app.query_one(TerminalView)
        view.feed(b"".join(b"%d\r\n" % n for n in range(300_000)))  # ~2 MB: many slices
        await asyncio.sleep(0)
        await pilot.press("ctrl+c")
        assert app.inputs[0] == b"\x03"
        assert app.pending_at_input[0] > 0  # the key went out before the output was parsed
        await view.drained()
        await pilot.pause()
        assert _text(view)[-2] == "299999"


class PaintedView(TerminalView):
    """Records the text of every row Textual asks it to draw."""

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.painted: list[str] = []

    def render_line(self, y: int) -> Strip:
        strip = super().render_line(y)
        self.painted.append(strip.text.rstrip())
        return strip


class PaintedApp(TerminalApp):
    def compose(self) -> ComposeResult:
        yield PaintedView(**self.options)


async def test_output_after_an_idle_frame_is_painted_as_soon_as_it_is_parsed() -> None:
    """Not after Textual's Update message, screen idle and update timer (keystroke echo)."""
    app = PaintedApp(frame_rate=1e6)  # any pause between the two outputs is a quiet frame
    async with app.run_test(size=(40, 10)) as pilot:
        view = app.query_one(PaintedView)
        await _show(pilot, view, b"$ ")
        view.painted.clear()
        view.feed(b"x")
        await view.drained()  # wakes one loop turn after the parse: no Textual update yet
        assert "$ x" in view.painted


async def test_a_flood_is_painted_once_per_frame_not_once_per_slice() -> None:
    app = PaintedApp(parse_budget=0.0, frame_rate=0.01)  # a slice per 4 KiB, 100 s frames
    async with app.run_test(size=(40, 10)) as pilot:
        view = app.query_one(PaintedView)
        await pilot.pause()
        view.painted.clear()
        view.feed(b"".join(b"%d\r\n" % n for n in range(100_000)))  # ~140 slices
        await view.drained()
        await pilot.pause()
        rows = view.size.height
        assert 0 < len(view.painted) <= rows  # the first slice's frame, the rest waits
        assert "99999" not in view.painted


def test_snapshot(snap_compare: Any) -> None:
    async def show_output(pilot: Pilot[None]) -> None:
        view = pilot.app.query_one(TerminalView)
        output = (
            "\x1b]2;demo\x07"
            "\x1b[1;32muser@box\x1b[0m:\x1b[1;34m~/src\x1b[0m$ ls --color\r\n"
            "\x1b[01;34mdocs\x1b[0m  \x1b[01;32mrun.sh\x1b[0m  notes.txt  中文.md\r\n"
            "\x1b[38;5;208m256-colour\x1b[0m \x1b[38;2;255;105;180mtruecolour\x1b[0m "
            "\x1b[7mreverse\x1b[0m\r\n"
            "\x1b[1mbold\x1b[0m \x1b[2mdim\x1b[0m \x1b[3mitalic\x1b[0m \x1b[4munder\x1b[0m "
            "\x1b[9mstrike\x1b[0m\r\n"
            "\x1b(0lqqqqk\x1b(B\r\n"
            "\x1b[1;32muser@box\x1b[0m:\x1b[1;34m~/src\x1b[0m$ "
        )
        view.feed(output.encode())
        await view.drained()
        await pilot.pause()

    assert snap_compare(TerminalApp(), terminal_size=(48, 10), run_before=show_output)


async def _drag(
    pilot: Pilot[None], start: tuple[int, int], end: tuple[int, int], **keys: bool
) -> None:
    """Press at `start`, move to `end`, release (offsets in the view, its border at 0)."""
    await pilot.mouse_down(TerminalView, offset=start, **keys)
    await pilot.hover(TerminalView, offset=end)
    await pilot.mouse_up(TerminalView, offset=end, **keys)
    await pilot.pause()


def _selected_cells(view: TerminalView, y: int) -> list[int]:
    """Columns of row `y` drawn in the selection's style."""
    selection = view.screen.get_component_rich_style("screen--selection")
    strip, columns, x = view.render_line(y), [], 0
    for segment in strip:
        for _ in range(cell_len(segment.text)):
            if segment.style is not None and segment.style.bgcolor == selection.bgcolor:
                columns.append(x)
            x += 1
    return columns


class CopyingApp(TerminalApp):
    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.copied: list[str] = []

    def on_terminal_view_copied(self, message: TerminalView.Copied) -> None:
        self.copied.append(message.text)


async def test_dragging_selects_text_and_copies_it() -> None:
    app = CopyingApp()
    async with app.run_test(size=(40, 10)) as pilot:
        view = app.query_one(TerminalView)
        await _show(pilot, view, b"$ ls\r\nalpha  beta\r\ngamma \xe4\xb8\xad delta\r\n$ ")
        await _drag(pilot, (8, 2), (8, 3))  # from the b of beta to the right half of 中
        assert view.selected_text == "beta\ngamma 中"
        assert app.clipboard == "beta\ngamma 中"
        assert app.copied == ["beta\ngamma 中"]
        assert _selected_cells(view, 1) == list(range(7, 38))  # to the end of the row
        assert _selected_cells(view, 2) == list(range(0, 8))
        await pilot.press("x")  # typing clears the selection
        assert view.selection is None
        assert _selected_cells(view, 1) == []
        assert app.inputs == [b"x"]


async def test_a_click_selects_nothing_and_double_and_triple_clicks_take_a_word_and_a_row() -> None:
    app = CopyingApp()
    async with app.run_test(size=(40, 10)) as pilot:
        view = app.query_one(TerminalView)
        await _show(pilot, view, b"user@box:~/src$ cat 'notes.txt' | wc\r\n")
        await pilot.click(TerminalView, offset=(5, 1))
        assert view.selection is None and app.copied == []
        await pilot.double_click(TerminalView, offset=(5, 1))
        assert app.clipboard == "user@box:~/src$"
        await pilot.double_click(TerminalView, offset=(23, 1))
        assert app.clipboard == "notes.txt"  # quotes end a word
        await pilot.triple_click(TerminalView, offset=(23, 1))
        assert app.clipboard == "user@box:~/src$ cat 'notes.txt' | wc"


async def test_the_selection_follows_its_text_into_the_scrollback() -> None:
    app = CopyingApp()
    async with app.run_test(size=(40, 10)) as pilot:
        view = app.query_one(TerminalView)
        await _show(pilot, view, b"keep this line\r\n")
        await _drag(pilot, (1, 1), (4, 1))
        assert view.selected_text == "keep"
        await _show(pilot, view, b"".join(b"more %d\r\n" % n for n in range(20)))
        assert view.selected_text == "keep"  # scrolled off the top, still the same text
        assert _selected_cells(view, 0) == []
        await pilot.press("shift+pageup", "shift+pageup")
        assert _text(view)[0].startswith("keep this line ")
        assert _selected_cells(view, 0) == [0, 1, 2, 3]
        await _drag(pilot, (1, 2), (6, 2))  # selecting in the scrollback
        assert view.selected_text == "more 0"


async def test_a_program_tracking_the_mouse_gets_the_drag_and_shift_selects() -> None:
    app = CopyingApp()
    async with app.run_test(size=(40, 10)) as pilot:
        view = app.query_one(TerminalView)
        await _show(pilot, view, b"hello world\r\n\x1b[?1002h\x1b[?1006h")
        await _drag(pilot, (1, 1), (5, 1))
        reports = [data for data in app.inputs if not data.startswith(b"\x1b[<32;")]  # motion
        assert reports == [b"\x1b[<0;1;1M", b"\x1b[<0;5;1m"]  # press, release
        assert view.selection is None and app.copied == []
        sent = len(app.inputs)
        await _drag(pilot, (1, 1), (5, 1), shift=True)
        assert app.copied == ["hello"]
        assert len(app.inputs) == sent  # nothing went to the program


async def test_wheel_and_motion_reports_when_the_program_tracks_the_mouse() -> None:
    app = TerminalApp()
    async with app.run_test(size=(40, 10)) as pilot:
        view = app.query_one(TerminalView)
        await _show(pilot, view, b"\x1b[?1003h\x1b[?1006h")
        await _wheel(pilot, view, events.MouseScrollUp)
        await pilot.hover(TerminalView, offset=(4, 2))
        assert app.inputs == [b"\x1b[<64;3;3M", b"\x1b[<35;4;2M"]  # wheel up; motion, no button
        assert view.history_offset == 0


async def test_program_colours_are_the_ansi_palette_not_the_themes_shades() -> None:
    """Under the default theme red and magenta stay ANSI 1 and 5 (tmux's 31 and 35) and SGR 2
    stays dim, after the line filters Textual applies to the widget's output."""
    app = TerminalApp()
    async with app.run_test(size=(40, 10)) as pilot:
        assert not app.current_theme.ansi
        view = app.query_one(TerminalView)
        view.feed_text("\x1b[31mred\x1b[0m \x1b[35mmag\x1b[0m \x1b[2mdim\x1b[0m")
        await view.drained()
        await pilot.pause()
        segments = list(view.render_line(0))
        for line_filter in view.get_line_filters():
            segments = line_filter.apply(segments, view.background_colors[1])
        looks = {text.strip(): style for text, style, _ in segments if style and text.strip()}
        assert looks["red"].color is not None and looks["red"].color.number == 1
        assert looks["mag"].color is not None and looks["mag"].color.number == 5
        assert looks["dim"].dim
