"""Switching the dashboard to another context without restarting.

A context name becomes a `Target` (a profile of the config file, the ``--base-url`` server
the dashboard started on, or ``local``: the embedded backend, started here in the background
when it is not running). The new target must answer one listing before anything changes;
until then, and when it fails (unknown profile, unreachable, a rejected key), the old target
stays on screen and keeps being polled, and a toast says why.

An embedded backend this dashboard started keeps running after a switch away (its
computers may be running, and switching back finds them): it stops when the app quits.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Protocol

from textual.message import Message
from textual.notifications import SeverityLevel

from celesto_api import CelestoError
from celesto_api.config import load_config_file

from ..model.contexts import (
    LOCAL,
    Context,
    ContextError,
    context_name,
    list_contexts,
    profile_target,
)
from ..model.errors import explain
from ..model.target import POLL_TIMEOUT_S, EmbeddedStartup, Target
from .messages import TargetSwitching


class Announcer(Protocol):
    """What the switcher needs of the app: toasts and messages (part of the controller's
    `Host`)."""

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = True,
    ) -> None: ...

    def post(self, message: Message) -> None: ...


class TargetSwitcher:
    def __init__(
        self,
        host: Announcer,
        start: Target,
        current: Callable[[], Target],
        retarget: Callable[[Target, str], None],
    ) -> None:
        """``current`` gives the target shown now; ``retarget`` hands over to a new one
        (the controller's)."""
        self.host = host
        self.current = current
        self.retarget = retarget
        self.start = start  # the start-up target: a --base-url server stays listed
        self.local: Target | None = start if start.local else None
        self.owned: list[EmbeddedStartup] = []  # embedded backends started here

    def local_behind(self) -> Target | None:
        """The embedded backend this app runs while another target is shown: quitting the
        app stops it and its computers too."""
        local = self.local
        if local is None or local.shared or self.current().base_url == local.base_url:
            return None
        startup = local.startup
        return local if startup is not None and startup.server is not None else None

    # --- the picker's list ------------------------------------------------------------------

    def local_note(self) -> str:
        local = self.local
        if local is None:
            return "not running: picking it starts it"
        if local.shared:
            return "the local server already running on its data dir"
        startup = local.startup
        if startup is not None and startup.error is not None:
            return "did not start: picking it tries again"
        if local.starting:
            return "starting…"
        return "running: stays up until you quit"

    def contexts(self) -> list[Context]:
        """What the picker lists; `ContextError` when the config file cannot be read."""
        try:
            config = load_config_file()
        except CelestoError as exc:
            raise ContextError(exc.message) from None
        return list_contexts(config, self.current(), self.start, self.local_note())

    def names(self) -> list[str]:
        """Context names, for the command line's completion (empty if the file is bad)."""
        try:
            return [context.name for context in self.contexts()]
        except ContextError:
            return []

    # --- switching ------------------------------------------------------------------------

    async def switch(self, name: str) -> None:
        host = self.host
        if name == context_name(self.current()):
            host.post(TargetSwitching(""))  # a switch this one replaced may have said so
            host.notify(f"Already on {name}.", timeout=3)
            return
        target: Target | None = None
        try:
            target = await self._resolve(name)
            host.post(TargetSwitching(f"switching to {name}…"))
            await self._check(target)
        except (ContextError, CelestoError) as exc:
            host.post(TargetSwitching(""))
            where = target.where if target is not None else name
            why = str(exc) if isinstance(exc, ContextError) else explain(exc, where)
            host.notify(
                f"{why} Still on {context_name(self.current())}.",
                title=f"Could not switch to {name}",
                severity="error",
                timeout=15,
            )
            return
        self.retarget(target, name)

    async def _resolve(self, name: str) -> Target:
        if name == LOCAL:
            return await self._local()
        start = self.start
        if not start.local and start.profile is None and name == context_name(start):
            return start
        try:
            config = await asyncio.to_thread(load_config_file)
        except CelestoError as exc:
            raise ContextError(exc.message) from None
        return profile_target(name, config)

    async def _local(self) -> Target:
        if self.local is None:
            data_dir = self.start.data_dir
            started_here = EmbeddedStartup(data_dir)
            self.owned.append(started_here)
            self.local = Target(
                started_here.base_url,
                started_here.api_key,
                LOCAL,
                local=True,
                data_dir=data_dir,
                startup=started_here,
            )
        local = self.local
        startup = local.startup
        if startup is None:
            return local
        if startup.server is None and startup.error is None:
            self.host.post(TargetSwitching("switching to local: embedded backend starting…"))
            startup.start(lambda: None)  # already started (by the app, for --local): no-op
            await asyncio.to_thread(startup.wait)
        if startup.error is not None:
            return self._busy_or_raise(startup.error)
        return local.started()

    def _busy_or_raise(self, error: BaseException) -> Target:
        from celesto_api.local import DataDirBusyError

        if isinstance(error, DataDirBusyError) and error.running is not None:
            # A dashboard or `local serve` of this user holds the data dir: use it.
            self.local = Target(
                error.running.base_url,
                error.running.api_key,
                LOCAL,
                local=True,
                hint=f"Using the local server already running on {error.data_dir}.",
                data_dir=self.start.data_dir,
                shared=True,
            )
            return self.local
        self.local = None  # picking it again tries again
        raise ContextError(f"The embedded backend did not start: {error}")

    @staticmethod
    async def _check(target: Target) -> None:
        """One listing: a rejected key or an unreachable server raises here, before
        anything of the old target is let go."""
        client = target.client(max_retries=0, timeout=POLL_TIMEOUT_S)
        try:
            await client.computers.list(limit=1)
        finally:
            await client.aclose()

    async def aclose(self) -> None:
        """Stop the embedded backends started here (and their computers)."""
        for startup in self.owned:
            await asyncio.to_thread(startup.stop)
        self.owned.clear()
