"""The ``celesto-tui ...`` command line equivalent to an action, ready to paste into a shell.

The CLI prints these ("Connect with: celesto-tui computer ssh einstein") and the dashboard's
command log shows them for every mutating action, so both always agree on spelling.
Secrets never appear: API keys and tokens are dropped and deployment env values are masked.
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping
from typing import Any

PROGRAM = "celesto-tui"
SECRET_OPTIONS = frozenset({"api_key", "token"})
MASKED_VALUE = "***"


def _option_words(name: str, value: Any) -> list[str]:
    flag = "--" + name.replace("_", "-")
    if value is None or value is False:
        return []
    if value is True:
        return [flag]
    if isinstance(value, Mapping):
        # Only `--env KEY=VALUE` takes a mapping, and its values are often secrets.
        return [word for key in value for word in (flag, f"{key}={MASKED_VALUE}")]
    if isinstance(value, list | tuple):
        return [word for item in value for word in (flag, str(item))]
    return [flag, str(value)]


def command_line(*words: Any, **options: Any) -> str:
    """Render ``celesto-tui <words> <options>`` shell-quoted.

    ``None`` words are skipped. Options map ``snake_case`` names to ``--kebab-case`` flags:
    ``True`` gives a bare flag, ``None``/``False`` leave it out, lists repeat it, and a
    mapping becomes repeated ``--name KEY=***``.

    >>> command_line("computer", "run", "einstein", "ls -la", timeout=60)
    "celesto-tui computer run einstein 'ls -la' --timeout 60"
    """
    parts = [PROGRAM, *(str(word) for word in words if word is not None)]
    for name, value in options.items():
        if name not in SECRET_OPTIONS:
            parts.extend(_option_words(name, value))
    return shlex.join(parts)


def computer_command(verb: str, *args: Any, **options: Any) -> str:
    """``celesto-tui computer <verb> ...``; ``verb`` may be two words (``"port publish"``)."""
    return command_line("computer", *verb.split(), *args, **options)


def create_command(
    *,
    cpus: int | None = None,
    memory: int | None = None,
    disk: int | str | None = None,
    template_id: str | None = None,
    template_version: str | None = None,
    image: str | None = None,
    network_policy: str | Mapping[str, str] | None = None,
    persistent_home: bool | None = None,
    local: bool = False,
) -> str:
    """The ``computer create`` line for the SDK's ``computers.create`` arguments."""
    mode = network_policy.get("mode") if isinstance(network_policy, Mapping) else network_policy
    return computer_command(
        "create",
        cpus=cpus,
        memory=memory,
        disk=disk,
        template=template_id,
        template_version=template_version,
        image=image,
        no_internet=mode == "off",
        persistent_home=persistent_home,
        local=local,
    )
