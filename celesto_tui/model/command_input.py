"""The dashboard's ``:`` command line: the command log's own syntax, read back.

``computer stop ada``, ``computer run ada 'ls -la'``, ``computer port publish ada --port
8000`` or ``deploy ./agent --name x`` become a `Command` the app hands to the same intents
its keys use. A leading ``celesto-tui`` and the dashboard's own target
options are accepted, so a command-log line pasted back works; options that name another
target are refused rather than ignored.
"""

from __future__ import annotations

import shlex
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from celesto_api import CelestoValidationError, limits
from celesto_api import validation as check

from .command_lines import PROGRAM, command_line
from .command_log import Where

TARGET_OPTIONS = ("--local", "--base-url", "--profile", "--data-dir", "--api-key", "-k")
# The phrases the command line takes, for completion and for the "try one of" error.
PHRASES: tuple[str, ...] = (
    "computer create",
    "computer start",
    "computer stop",
    "computer delete",
    "computer ssh",
    "computer run",
    "computer port publish",
    "computer port unpublish",
    "deploy",
    "deployments stop",
    "deployments delete",
    "deployments logs",
    "context",
    "ctx",
)
# Phrases of the dashboard itself (no CLI command): switch to a context (see contexts.py).
CONTEXT_PHRASES = ("context", "ctx")
# What the command line does in read-only mode (--read-only): look, never change.
READ_ONLY_PHRASES: tuple[str, ...] = ("deployments logs", "context", "ctx")
# Options each phrase takes: name -> takes a value.
OPTIONS: dict[str, dict[str, bool]] = {
    "computer create": {
        "--cpus": True,
        "--memory": True,
        "--disk": True,
        "--template": True,
        "--no-internet": False,
    },
    "deploy": {"--name": True, "--description": True, "--env": True, "--project": True},
    # --stream is what the exec pane does anyway: accepted so a CLI line runs as typed.
    "computer run": {"--timeout": True, "--stream": False},
    "computer port publish": {"--port": True},
    "computer port unpublish": {"--port": True},
}
# The CLI's short spellings of those options.
SHORT_OPTIONS = {"-t": "--timeout", "-p": "--port"}
# Phrases that take one computer and then options (and `computer run`, a command).
ONE_COMPUTER_THEN_OPTIONS = ("computer run", "computer port publish", "computer port unpublish")


class CommandInputError(ValueError):
    """What is wrong with a typed command, in one sentence."""


@dataclass(frozen=True)
class Command:
    """A parsed line: ``phrase`` (``computer stop``), its names, its options."""

    phrase: str
    names: tuple[str, ...] = ()
    arguments: Mapping[str, Any] = field(default_factory=dict)


def _own_options(where: Where) -> list[list[str]]:
    """The dashboard's target options as its command log writes them: ``[["--local"],
    ["--data-dir", DIR]]``, ``[["--profile", P]]``..."""
    words = shlex.split(where.place(command_line(**where.options())))[1:]
    groups: list[list[str]] = []
    for word in words:
        if word.startswith("--"):
            groups.append([word])
        else:
            groups[-1].append(word)
    return groups


def _words(text: str, where: Where) -> list[str]:
    try:
        words = shlex.split(text)
    except ValueError as exc:
        raise CommandInputError(f"Cannot read the line: {exc}.") from None
    if words[:1] == [PROGRAM]:
        words = words[1:]
    for group in _own_options(where):
        for start in range(len(words) - len(group) + 1):
            if words[start : start + len(group)] == group:
                del words[start : start + len(group)]
                break
    for word in words:
        if word.split("=", 1)[0] in TARGET_OPTIONS:
            raise CommandInputError(
                f"{word.split('=', 1)[0]} names another target: commands here run on this "
                "dashboard's."
            )
    return words


def _phrase(words: list[str]) -> tuple[str, list[str]]:
    for phrase in sorted(PHRASES, key=len, reverse=True):
        length = len(phrase.split())
        if words[:length] == phrase.split():
            return phrase, words[length:]
    raise CommandInputError("Unknown command; try one of: " + ", ".join(PHRASES) + ".")


def _split_options(phrase: str, rest: list[str]) -> tuple[list[str], dict[str, list[str]]]:
    """Names (every word after ``--`` among them) and options."""
    known = OPTIONS.get(phrase, {})
    names: list[str] = []
    options: dict[str, list[str]] = {}
    words = iter(rest)
    for word in words:
        if word == "--":
            names.extend(words)
            break
        long = SHORT_OPTIONS.get(word)
        if long is not None and long in known:
            word = long
        elif not word.startswith("--"):
            names.append(word)
            continue
        flag, _, inline = word.partition("=")
        if flag not in known:
            hint = " (quote the command, or put it after --)" if phrase == "computer run" else ""
            raise CommandInputError(f"{phrase} has no option {flag}{hint}.")
        if not known[flag]:
            options.setdefault(flag, []).append("")
            continue
        value = inline or next(words, None)
        if value is None:
            raise CommandInputError(f"{flag} needs a value.")
        options.setdefault(flag, []).append(value)
    return names, options


def _validated(convert: Callable[[], Any]) -> Any:
    try:
        return convert()
    except CelestoValidationError as exc:
        raise CommandInputError(exc.message) from None


def _create_arguments(options: dict[str, list[str]]) -> dict[str, Any]:
    arguments: dict[str, Any] = {}
    if "--cpus" in options:
        cpus = options["--cpus"][-1]
        arguments["cpus"] = _validated(
            lambda: check.int_in_range("cpus", _int(cpus), limits.CPUS_MIN, limits.CPUS_MAX)
        )
    if "--memory" in options:
        memory = options["--memory"][-1]
        arguments["memory"] = _validated(
            lambda: check.int_in_range(
                "memory", _int(memory), limits.MEMORY_MIN_MB, limits.MEMORY_MAX_MB
            )
        )
    if "--disk" in options:
        disk = options["--disk"][-1]
        arguments["disk"] = _validated(lambda: check.parse_disk_mb(disk))
    if "--template" in options:
        arguments["template_id"] = options["--template"][-1]
    if "--no-internet" in options:
        arguments["network_policy"] = "off"
    return arguments


def _int(text: str) -> int | str:
    return int(text) if text.isdigit() else text


def _deploy_arguments(names: list[str], options: dict[str, list[str]]) -> dict[str, Any]:
    if len(names) != 1:
        raise CommandInputError("deploy takes one folder: deploy FOLDER --name NAME.")
    if "--name" not in options:
        raise CommandInputError("deploy needs --name NAME.")
    envs: dict[str, str] = {}
    for pair in options.get("--env", []):
        key, equals, value = pair.partition("=")
        if not equals or not key:
            raise CommandInputError(f"--env takes KEY=VALUE (got {pair!r}).")
        envs[key] = value
    return {
        "folder": names[0],
        "name": _validated(lambda: check.deploy_name(options["--name"][-1])),
        "description": (options.get("--description") or [""])[-1],
        "envs": envs,
        "project_name": options["--project"][-1] if "--project" in options else None,
    }


def _run_arguments(names: list[str], options: dict[str, list[str]]) -> dict[str, Any]:
    if len(names) < 2:
        raise CommandInputError(
            "computer run needs a computer and a command: computer run NAME CMD."
        )
    words = names[1:]
    # One word is the command as the command log writes it (quoted); several are joined
    # quoted, so `-- echo "a b"` runs what was typed.
    command = words[0] if len(words) == 1 else shlex.join(words)
    raw_timeout = (options.get("--timeout") or [str(limits.EXEC_TIMEOUT_DEFAULT)])[-1]
    return {
        "command": _validated(lambda: check.command(command)),
        "timeout": _validated(lambda: check.exec_timeout(_int(raw_timeout))),
    }


def _port_arguments(phrase: str, names: list[str], options: dict[str, list[str]]) -> dict[str, Any]:
    if len(names) != 1:
        raise CommandInputError(f"{phrase} takes one computer: {phrase} NAME --port PORT.")
    raw = (options.get("--port") or [str(limits.PORT_DEFAULT)])[-1]
    return {"port": _validated(lambda: check.port(_int(raw)))}


def parse_command(text: str, where: Where | None = None, *, read_only: bool = False) -> Command:
    """``text`` as a `Command`, or `CommandInputError` saying what is wrong; ``where`` is
    the dashboard's target (its options in a pasted line are dropped); ``read_only`` takes
    only `READ_ONLY_PHRASES`."""
    words = _words(text, where or Where())
    if not words:
        example = "ctx NAME" if read_only else "computer stop NAME"
        raise CommandInputError(f"Type a command, e.g. {example}.")
    phrase, rest = _phrase(words)
    if read_only and phrase not in READ_ONLY_PHRASES:
        raise CommandInputError(
            f"{phrase} is off in read-only mode; here: {', '.join(READ_ONLY_PHRASES)}."
        )
    names, options = _split_options(phrase, rest)
    if phrase == "computer create":
        if names:
            raise CommandInputError("computer create takes no names (the API picks one).")
        return Command(phrase, (), _create_arguments(options))
    if phrase == "deploy":
        return Command(phrase, (), _deploy_arguments(names, options))
    if phrase == "computer run":
        return Command(phrase, tuple(names[:1]), _run_arguments(names, options))
    if phrase.startswith("computer port"):
        return Command(phrase, tuple(names), _port_arguments(phrase, names, options))
    if phrase in CONTEXT_PHRASES:
        if len(names) > 1:
            raise CommandInputError(f"{phrase} takes one context name (or none: the picker).")
        return Command("context", tuple(names))
    if not names:
        raise CommandInputError(f"{phrase} needs a name, e.g. {phrase} NAME.")
    if len(names) > 1 and phrase not in ("computer start", "computer stop", "computer delete"):
        raise CommandInputError(f"{phrase} takes one name.")
    return Command(phrase, tuple(names))


def _candidates(
    done: Sequence[str],
    computers: Iterable[str],
    deployments: Iterable[str],
    contexts: Iterable[str] = (),
    phrases: Sequence[str] = PHRASES,
) -> list[str]:
    typed = " ".join(done)
    for phrase in sorted(phrases, key=len, reverse=True):
        if typed == phrase or typed.startswith(phrase + " "):
            if phrase in ("deploy", "computer create"):
                return list(OPTIONS[phrase])
            if phrase in ONE_COMPUTER_THEN_OPTIONS and len(done) > len(phrase.split()):
                return list(OPTIONS[phrase])  # the computer is there: its options
            if phrase in CONTEXT_PHRASES:
                return [] if typed != phrase else sorted(contexts)
            return sorted(deployments if phrase.startswith("deployments") else computers)
    if done and done[0] != "computer" and done[0] != "deployments":
        return []
    following = {
        phrase.split()[len(done)]
        for phrase in phrases
        if phrase.split()[: len(done)] == list(done) and len(phrase.split()) > len(done)
    }
    return sorted(following)


def complete(
    text: str,
    computers: Iterable[str],
    deployments: Iterable[str],
    contexts: Iterable[str] = (),
    phrases: Sequence[str] = PHRASES,
) -> str | None:
    """``text`` with its last word completed (the first match, in order), or None;
    ``phrases``: the ones to offer (`READ_ONLY_PHRASES` in read-only mode)."""
    words = text.split(" ")
    done, last = [word for word in words[:-1] if word], words[-1]
    if done[:1] == [PROGRAM]:
        done = done[1:]
    if not last:
        return None
    for candidate in _candidates(done, computers, deployments, contexts, phrases):
        if candidate.startswith(last) and candidate != last:
            return text + candidate[len(last) :]
    return None
