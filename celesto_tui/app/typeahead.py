"""Keys typed right behind a key that opens a dialog go to that dialog.

Textual runs a widget's (non-priority) binding only once the key has travelled to the focused
widget and bubbled back up to the app, and the views open dialogs through an intent and the
controller, a few messages later still; keys typed right behind (``n`` then ``Tab 2048`` from
a fast typist, or tmux) had by then gone to the table, moving its cursor and switching views.
So the app runs the binding of such a key as soon as it reads the key, holds the keys that
follow, and hands them on, in order, once the dialog has mounted and focused its field, or
once the app has handled the intent without opening one (the deployment was already
stopped), or after `HOLD_LIMIT_S` when the action posted nothing (no computer selected).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any

from textual import events
from textual.app import App
from textual.timer import Timer

# Binding ids (bindings.py) whose action always asks in a dialog.
OPENS_A_DIALOG = frozenset(
    {
        "create",
        "stop",
        "delete",
        "publish",
        "unpublish",
        "deploy",
        "deployment-stop",
        "deployment-delete",
    }
)
HOLD_LIMIT_S = 2.0


class TypeAhead:
    """Used from `App.on_event`: `intercept` for each key the app reads, `dialog_opening`
    when a dialog is pushed."""

    def __init__(self, app: App[Any]) -> None:
        self.app = app
        self.held: list[events.Key] | None = None
        self._timer: Timer | None = None
        self._waiting: set[asyncio.Task[None]] = set()
        self._opening = False

    async def intercept(self, event: events.Key) -> bool:
        """True when the key was taken: held, or run as the binding of a dialog."""
        if self.held is not None:
            self.held.append(event)
            return True
        opener = self._dialog_binding(event)
        if opener is None:
            return False
        namespace, action = opener
        if not await self.app.run_action(action, namespace):
            return False  # not allowed here (read-only): let Textual handle the key
        self.held = []
        self._timer = self.app.set_timer(HOLD_LIMIT_S, self.release)
        return True

    def dialog_opening(self, mounted: Awaitable[Any]) -> None:
        """A dialog is being pushed: hand it the held keys once it has focused its field."""
        if self.held is None:
            return
        self._opening = True

        async def release_when_mounted() -> None:
            await mounted
            # after the dialog's own focus() (also a call_later), so the keys find its field
            self.app.call_later(self.release)

        task = asyncio.create_task(release_when_mounted())
        self._waiting.add(task)
        task.add_done_callback(self._waiting.discard)

    def intent_handled(self) -> None:
        """The app has handled the intent such a key posts: when that opened no dialog (e.g.
        the deployment is already stopped), the held keys go on now."""
        if self.held is not None and not self._opening:
            self.app.call_later(self.release)

    async def release(self) -> None:
        self._opening = False
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        keys, self.held = self.held or [], None
        for index, key in enumerate(keys):
            if self.held is not None:  # a held key opened another dialog: hold the rest
                self.held.extend(keys[index:])
                return
            await self.app.on_event(key)

    def _dialog_binding(self, event: events.Key) -> tuple[Any, str] | None:
        """(namespace, action) of the binding the key runs, when it is one that opens a
        dialog and the focused widget does not take the key itself (e.g. a text field)."""
        focused = self.app.focused
        if focused is not None and focused.check_consume_key(event.key, event.character):
            return None
        for namespace, bindings in self.app.screen._modal_binding_chain:
            for binding in bindings.key_to_bindings.get(event.key, ()):
                if binding.priority:
                    continue
                if binding.id in OPENS_A_DIALOG:
                    return namespace, binding.action
                return None  # the nearest binding of the key wins, as in Textual
        return None
