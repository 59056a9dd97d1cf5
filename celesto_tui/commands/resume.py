"""Waiting for a computer's status, and the seed's auto-resume for ``run`` and ``ssh``:
a stopped computer is started, and the command goes ahead once it is running."""

from __future__ import annotations

import time
from collections.abc import Callable, Collection
from typing import TypeVar

from celesto_api import Celesto, CelestoConflictError, CelestoNotFoundError, Computer, limits

from .common import CommandError, hint_line
from .output import note

T = TypeVar("T")

WAIT_TIMEOUT_S = 120.0
FIRST_POLL_S = 0.05
MAX_POLL_S = 1.0
# Statuses from which a computer will not reach the one we wait for on its own.
DEAD_END_STATUSES = frozenset({"error", "lost", "deleted", "restorable"})
STOPPED_STATUSES = ("stopped", "stopping")


def wait_for_status(
    client: Celesto,
    computer_ref: str,
    wanted: Collection[str],
    *,
    timeout: float = WAIT_TIMEOUT_S,
    gone_is_fine: bool = False,
) -> Computer | None:
    """Poll until the computer's status is one of ``wanted`` (backing off to 1 s).

    Returns None when ``gone_is_fine`` and the computer no longer exists (after a delete).
    """
    deadline = time.monotonic() + timeout
    delay = FIRST_POLL_S
    while True:
        try:
            computer = client.computers.get(computer_ref)
        except CelestoNotFoundError:
            if gone_is_fine:
                return None
            raise
        status = computer["status"]
        if status in wanted:
            return computer
        if status in DEAD_END_STATUSES:
            reason = computer.get("last_error")
            raise CommandError(
                f"Computer {computer['name']} is {status}" + (f": {reason}" if reason else "")
            )
        if time.monotonic() + delay > deadline:
            raise CommandError(
                f"Computer {computer['name']} is still {status} after {timeout:.0f} s",
                "Check it with: " + hint_line("computer", "get", computer["name"]),
            )
        time.sleep(delay)
        delay = min(delay * 1.5, MAX_POLL_S)


def wait_until_running(client: Celesto, computer_ref: str) -> Computer:
    computer = wait_for_status(client, computer_ref, ("running",))
    assert computer is not None
    return computer


def ensure_running(client: Celesto, computer: Computer) -> Computer:
    """Start a stopped computer (saying so on stderr) and wait until it runs."""
    status, name = computer["status"], computer["name"]
    if status == "running":
        return computer
    if status in STOPPED_STATUSES:
        note(f"Computer {name} is {status}. Resuming...")
        if status == "stopping":
            wait_for_status(client, computer["id"], ("stopped",))
        client.computers.start(computer["id"])
    elif status in limits.COMPUTER_TRANSITIONAL_STATUSES:
        note(f"Computer {name} is {status}. Waiting for it to run...")
    else:
        reason = computer.get("last_error")
        raise CommandError(
            f"Computer {name} is {status}" + (f" ({reason})" if reason else ""),
            "Only running or stopped computers can do this.",
        )
    return wait_until_running(client, computer["id"])


def with_auto_resume(client: Celesto, computer_ref: str, action: Callable[[], T]) -> T:
    """Run ``action``; if the API refuses because the computer is not running, resume it
    and run ``action`` once more. The first try costs no extra request."""
    try:
        return action()
    except CelestoConflictError:
        computer = client.computers.get(computer_ref)
        if computer["status"] in ("running", "error"):
            raise  # refused for another reason, or the computer failed (the error says why)
        ensure_running(client, computer)
    return action()
