"""The seed's CLI verbs: ``computer``, ``deploy``, ``deployments`` and ``auth``.

One module per concern; :func:`register` adds them to the ``celesto-tui`` group.
"""

from __future__ import annotations

import click

from .auth import auth_group
from .computer import computer_group
from .deploy import deploy_command
from .deployments import deployments_group


def register(group: click.Group) -> None:
    for command in (computer_group, deploy_command, deployments_group, auth_group):
        group.add_command(command)
