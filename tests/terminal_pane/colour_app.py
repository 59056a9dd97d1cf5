"""A TerminalView filling a Textual app (default theme) and showing `SAMPLE`: run in tmux by
test_colours_in_tmux.py, next to tmux showing the same bytes directly."""

from __future__ import annotations

from textual.app import App, ComposeResult

from celesto_tui.terminal.widget import TerminalView

WORDS = {
    "red": 31,
    "green": 32,
    "yellow": 33,
    "blue": 34,
    "magenta": 35,
    "cyan": 36,
    "brightred": 91,
    "brightblue": 94,
}
SAMPLE = (
    "\x1b[?25l"
    + " ".join(f"\x1b[{code}m{word}\x1b[0m" for word, code in WORDS.items())
    + "\r\n\x1b[2mdimmed\x1b[0m \x1b[2;31mdimred\x1b[0m end\r\n"
)


class ColourApp(App[None]):
    def compose(self) -> ComposeResult:
        yield TerminalView()

    def on_mount(self) -> None:
        self.query_one(TerminalView).feed_text(SAMPLE)


if __name__ == "__main__":
    ColourApp().run()
