"""The seed's CLI verbs: ``computer``, ``deploy``, ``deployments``, ``auth`` and ``local``.

One module per concern; :func:`subcommands` names them for the ``celesto-tui`` group, which
imports each one only when it is used (the dashboard needs none of them).
"""

from __future__ import annotations

from .lazy import LazyCommands

SUBCOMMANDS = {
    "auth": ".auth:auth_group",
    "computer": ".computer:computer_group",
    "deploy": ".deploy:deploy_command",
    "deployments": ".deployments:deployments_group",
    "local": ".local:local_group",
}


def subcommands() -> LazyCommands:
    return LazyCommands(__name__, SUBCOMMANDS)
