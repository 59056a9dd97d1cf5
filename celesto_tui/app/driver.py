"""Textual's Linux driver with an input thread that stops at once.

Textual's input thread polls stdin with a 100 ms timeout and, once told to stop, waits one
more 100 ms select on no file at all; the app joins it on quit, so every `q` waited about
150 ms for nothing. This one also watches a pipe that `disable_input` writes to, and makes
its last read without waiting. The parsing is Textual's (its XTerm parser, as in LinuxDriver).
"""

from __future__ import annotations

import contextlib
import os
import selectors
import signal
import termios
from codecs import getincrementaldecoder
from typing import Any

from textual._loop import loop_last
from textual._parser import ParseError
from textual._xterm_parser import XTermParser
from textual.drivers.linux_driver import LinuxDriver

POLL_S = 0.1  # as Textual's: the parser's tick (a lone Escape becomes a key after it)


class QuickExitDriver(LinuxDriver):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._wake_read, self._wake_write = os.pipe()
        os.set_blocking(self._wake_read, False)

    def disable_input(self) -> None:
        """Textual's `disable_input`, waking the input thread instead of waiting for it."""
        try:
            if not self.exit_event.is_set():
                signal.signal(signal.SIGWINCH, signal.SIG_DFL)
                self._disable_mouse_support()
                self.exit_event.set()
                os.write(self._wake_write, b"x")
                if self._key_thread is not None:
                    self._key_thread.join()
                self.exit_event.clear()
                with contextlib.suppress(termios.error):
                    termios.tcflush(self.fileno, termios.TCIFLUSH)
        except Exception:  # as Textual: quitting must not fail on a terminal that went away
            pass

    def close(self) -> None:
        super().close()
        for fd in (self._wake_read, self._wake_write):
            with contextlib.suppress(OSError):
                os.close(fd)

    def run_input_thread(self) -> None:
        selector = selectors.SelectSelector()
        selector.register(self.fileno, selectors.EVENT_READ)
        selector.register(self._wake_read, selectors.EVENT_READ)
        parser = XTermParser(self._debug)
        decode = getincrementaldecoder("utf-8")().decode

        def process(events: list[tuple[selectors.SelectorKey, int]], final: bool = False) -> None:
            for last, (key, mask) in loop_last(events):
                if key.fd == self._wake_read:
                    self._drain_wake()
                elif mask & selectors.EVENT_READ:
                    data = decode(os.read(self.fileno, 1024 * 4), final=final and last)
                    if not data:
                        break  # stdin is a pipe that closed
                    for event in parser.feed(data):
                        self.process_message(event)
            for event in parser.tick():
                self.process_message(event)

        try:
            while not self.exit_event.is_set():
                process(selector.select(POLL_S))
            selector.unregister(self._wake_read)
            self._drain_wake()
            process(selector.select(0), final=True)  # what was typed before quitting
        finally:
            selector.close()
            try:
                for _event in parser.feed(""):
                    pass
            except (EOFError, ParseError):
                pass

    def _drain_wake(self) -> None:
        try:
            while os.read(self._wake_read, 64):
                pass
        except OSError:  # BlockingIOError: drained
            pass
