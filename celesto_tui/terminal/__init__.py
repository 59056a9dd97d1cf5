"""The embedded terminal: a pyte emulator, its Textual widget, and the link that feeds it.

`screen` (the emulator state), `stream` (the parser), `render` and the encoders in `keys` are
usable on their own; `widget.TerminalView` shows a terminal, `pane.TerminalPane` connects one
to a computer through `link.TerminalLink`; `attach` is the raw-tty path of ``computer ssh``.
The package imports nothing itself, so the CLI can use `attach` without loading Textual.
"""
