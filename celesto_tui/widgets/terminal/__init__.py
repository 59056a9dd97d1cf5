"""A terminal emulator widget for Textual, built on pyte.

`TerminalView` is the widget; `TerminalScreen` (the emulator state), `TerminalStream` (the
parser) and the encoders in `keys` are usable on their own.
"""

from .keys import encode_focus, encode_key, encode_mouse, encode_paste
from .render import TerminalRenderer
from .screen import Cell, TerminalScreen
from .stream import TerminalStream
from .widget import TerminalView

__all__ = [
    "Cell",
    "TerminalRenderer",
    "TerminalScreen",
    "TerminalStream",
    "TerminalView",
    "encode_focus",
    "encode_key",
    "encode_mouse",
    "encode_paste",
]
