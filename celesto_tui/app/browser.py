"""Open a URL in the user's browser without blocking the UI or taking over its terminal.

`webbrowser.open` runs on the calling thread, and on a machine without a graphical session
it picks a text-mode browser (lynx, w3m, elinks) that runs in the foreground on the
dashboard's own terminal until it exits. So the browser is started from a thread, text-mode
browsers are never used, and when there is no graphical one the URL is copied instead
(the clipboard escape code reaches the user's own machine over SSH too).
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from textual.app import App

if TYPE_CHECKING:
    import webbrowser

# webbrowser is imported when a URL is opened, not when the dashboard starts (it is several
# milliseconds of its first frame).


def is_console(controller: webbrowser.BaseBrowser) -> bool:
    """A browser that would run in the foreground on this terminal."""
    import webbrowser

    return type(controller) is webbrowser.GenericBrowser or isinstance(
        controller, webbrowser.Elinks
    )


def open_graphical(url: str) -> bool:
    """Blocking (call it from a thread): True when a graphical browser took the URL."""
    import webbrowser

    try:
        controller = webbrowser.get()
    except webbrowser.Error:
        return False
    if is_console(controller):
        return False
    try:
        return bool(controller.open(url, new=2))
    except OSError:
        return False


def open_url(app: App[object], url: str) -> None:
    """Open ``url`` in a browser, or copy it when there is none; a toast says which."""

    async def run() -> None:
        if await asyncio.to_thread(open_graphical, url):
            app.notify(f"Opened {url} in the browser.")
            return
        app.copy_to_clipboard(url)
        app.notify(
            f"No graphical browser here: copied {url} instead.", severity="warning", timeout=6
        )

    app.run_worker(run(), group="browser", exit_on_error=False)
