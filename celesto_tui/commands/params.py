"""Option types that check values with the SDK's own rules, so a bad value is a usage
error (exit 2) that names the option, before anything is sent."""

from __future__ import annotations

import re

import click

from celesto_api import CelestoValidationError, limits
from celesto_api import validation as check


def disk_size(ctx: click.Context, param: click.Parameter, value: str | None) -> int | None:
    """MB as a number, or a size with a unit: ``2gb``, ``512mb``, ``1.5g``."""
    if value is None:
        return None
    try:
        return check.parse_disk_mb(value)
    except CelestoValidationError as exc:
        raise click.BadParameter(exc.message, ctx, param) from None


def terminal_id(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    if value is None:
        return None
    try:
        return check.terminal_id(value)
    except CelestoValidationError as exc:
        raise click.BadParameter(exc.message, ctx, param) from None


_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def env_pairs(
    ctx: click.Context, param: click.Parameter, values: tuple[str, ...]
) -> dict[str, str]:
    """``--env KEY=VALUE`` (repeatable) as a mapping; later keys win."""
    result: dict[str, str] = {}
    for item in values:
        key, sep, value = item.partition("=")
        if not sep or not _ENV_NAME.match(key):
            # Never echo the value: it is often a secret.
            shown = key if _ENV_NAME.match(key) else "the name"
            raise click.BadParameter(
                f"expected KEY=VALUE with a variable name as KEY (check {shown})", ctx, param
            )
        result[key] = value
    return result


CPUS = click.IntRange(limits.CPUS_MIN, limits.CPUS_MAX)
MEMORY_MB = click.IntRange(limits.MEMORY_MIN_MB, limits.MEMORY_MAX_MB)
EXEC_TIMEOUT = click.IntRange(limits.EXEC_TIMEOUT_MIN, limits.EXEC_TIMEOUT_MAX)
PORT = click.IntRange(limits.PORT_MIN, limits.PORT_MAX)
LIST_LIMIT = click.IntRange(limits.LIST_LIMIT_MIN, limits.LIST_LIMIT_MAX)
COMPUTER_STATUS = click.Choice(limits.COMPUTER_STATUSES)
