"""Subcommands imported when asked for, not when ``celesto-tui`` starts.

The bare command opens the dashboard and needs none of them; importing the whole tree
(the SDK, httpx, tarfile, the terminal attach) cost tens of milliseconds before the first
frame. Click reads a group's subcommands through its ``commands`` mapping, so the mapping
imports a command the first time it is looked up (help, completion and tests see them all).
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator, MutableMapping

import click


class LazyCommands(MutableMapping[str, click.Command]):
    """Command name -> ``"module:attribute"``, imported (relative to `package`) on lookup."""

    def __init__(self, package: str, where: dict[str, str]) -> None:
        self._package = package
        self._where = dict(where)
        self._loaded: dict[str, click.Command] = {}

    def __getitem__(self, name: str) -> click.Command:
        if name not in self._loaded:
            module, _, attribute = self._where[name].partition(":")
            command = getattr(importlib.import_module(module, self._package), attribute)
            if not isinstance(command, click.Command):
                raise TypeError(f"{self._where[name]} is not a click command")
            self._loaded[name] = command
        return self._loaded[name]

    def __setitem__(self, name: str, command: click.Command) -> None:
        self._where.pop(name, None)
        self._loaded[name] = command

    def __delitem__(self, name: str) -> None:
        if name not in self._where and name not in self._loaded:
            raise KeyError(name)
        self._where.pop(name, None)
        self._loaded.pop(name, None)

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(self._where.keys() | self._loaded.keys()))

    def __len__(self) -> int:
        return len(self._where.keys() | self._loaded.keys())
