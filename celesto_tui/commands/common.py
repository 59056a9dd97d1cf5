"""What every command shares: the global options, the client, and how failures read.

Every command takes ``--local``, ``--base-url``, ``--api-key``, ``--profile`` and
``--json/-j``, either after the command or before it (``celesto-tui --local computer list``).
Failures print one line on stderr: API and command errors exit 1, usage errors exit 2
(click's convention); a traceback is never shown unless ``CELESTO_TUI_DEBUG=1``.
"""

from __future__ import annotations

import contextlib
import functools
import os
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn
from urllib.parse import urlsplit

import click
from click.core import ParameterSource

from celesto_api import (
    Celesto,
    CelestoAuthenticationError,
    CelestoError,
    CelestoNotFoundError,
    CelestoValidationError,
)
from celesto_api.config import resolve_config
from celesto_api.deployments import LOCAL_ONLY_CODE

from ..model.command_lines import command_line
from ..model.command_log import Where
from ..model.errors import advice
from ..model.target import Target, open_target
from .output import note

DEBUG_ENV = "CELESTO_TUI_DEBUG"
OPTIONS_META = "celesto_tui.options"  # this command's GlobalOptions, in click's ctx.meta
HINTED_META = "celesto_tui.hinted"  # a follow-up line was printed (or is in the error)
KEY_LEFT_OUT = (
    "The command lines above leave out your --api-key: to run them as printed, set "
    "CELESTO_API_KEY or save the key in a profile ({login})."
)
EXIT_INTERRUPTED = 130
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")


@dataclass(frozen=True)
class GlobalOptions:
    local: bool = False
    base_url: str | None = None
    api_key: str | None = None
    profile: str | None = None
    json: bool = False
    data_dir: Path | None = None


class CommandError(click.ClickException):
    """A failed command: one line on stderr (what failed, why, what to do), exit 1."""

    def __init__(self, message: str, hint: str | None = None) -> None:
        text = one_line(message)
        if hint:
            text = f"{text.rstrip('.')}. {hint}"
        super().__init__(text)


def one_line(text: str) -> str:
    return " ".join(text.split())


# --- global options ------------------------------------------------------------------------

_GLOBAL_OPTIONS = (
    click.option(
        "--local",
        "use_local",
        is_flag=True,
        help="Run the embedded local backend inside this command (no account needed).",
    ),
    click.option(
        "--base-url",
        metavar="URL",
        help="Celesto API origin [default: $CELESTO_BASE_URL, the profile, https://api.celesto.ai].",
    ),
    click.option(
        "--api-key",
        "-k",
        metavar="KEY",
        help="API key [default: $CELESTO_API_KEY, then the profile].",
    ),
    click.option("--profile", metavar="NAME", help="Profile of the config file to use."),
    click.option(
        "--json",
        "-j",
        "json_output",
        is_flag=True,
        help="Print the raw API JSON instead of text (for scripts and agents).",
    ),
)
_GLOBAL_PARAMS = ("use_local", "base_url", "api_key", "profile", "json_output")


def _from_outer_commands(ctx: click.Context, name: str) -> Any:
    """A value typed on the command line of an enclosing group (``celesto-tui --local ...``).

    Values the root group read from the environment are skipped: the SDK reads the
    environment itself, after the explicit options.
    """
    outer = ctx.parent
    while outer is not None:
        if (
            name in outer.params
            and outer.params[name] not in (None, False)
            and outer.get_parameter_source(name) == ParameterSource.COMMANDLINE
        ):
            return outer.params[name]
        outer = outer.parent
    return None


def _global_options(ctx: click.Context, given: dict[str, Any]) -> GlobalOptions:
    def pick(name: str) -> Any:
        value = given.get(name)
        return value if value not in (None, False) else _from_outer_commands(ctx, name)

    root_params = ctx.find_root().params
    return GlobalOptions(
        local=bool(pick("use_local")),
        base_url=pick("base_url"),
        api_key=pick("api_key"),
        profile=pick("profile"),
        json=bool(pick("json_output")),
        data_dir=root_params.get("data_dir"),
    )


def global_options(func: Callable[..., None]) -> Callable[..., None]:
    """Add the global options to a command; it receives them as its first argument.

    Apply it closest to the function, so the command's own options are listed first.
    """

    @functools.wraps(func)
    def command(**kwargs: Any) -> None:
        ctx = click.get_current_context()
        given = {name: kwargs.pop(name) for name in _GLOBAL_PARAMS}
        opts = _global_options(ctx, given)
        ctx.meta[OPTIONS_META] = opts
        with failures_reported(ctx):
            try:
                func(opts, **kwargs)
            finally:
                if opts.api_key and ctx.meta.get(HINTED_META):
                    note(KEY_LEFT_OUT.format(login=target_line(opts, "auth", "login")))

    wrapped: Callable[..., None] = command
    for option in reversed(_GLOBAL_OPTIONS):
        wrapped = option(wrapped)
    return wrapped


# --- errors --------------------------------------------------------------------------------


def _top_command(ctx: click.Context) -> str:
    return ctx.find_root().invoked_subcommand or ""


def target_line(opts: GlobalOptions, *words: Any, **options: Any) -> str:
    """A ``celesto-tui`` line that reaches the same Celesto as ``opts``: the target options
    the user typed (``--local`` and ``--data-dir``, ``--profile``, ``--base-url``) carried
    over, never the API key."""
    where = Where(
        local=opts.local,
        profile=opts.profile,
        base_url=opts.base_url,
        data_dir=str(opts.data_dir) if opts.data_dir else None,
    )
    return where.place(command_line(*words, **options, **where.options()))


def hint_line(*words: Any, **options: Any) -> str:
    """A follow-up line for the command running now (see `target_line`)."""
    ctx = click.get_current_context(silent=True)
    opts = ctx.meta.get(OPTIONS_META) if ctx is not None else None
    if ctx is None or not isinstance(opts, GlobalOptions):
        return command_line(*words, **options)
    ctx.meta[HINTED_META] = True
    return target_line(opts, *words, **options)


def hint_for(exc: CelestoError, top_command: str, base_url: str | None = None) -> str | None:
    """What to do next: where to list what was not found (the CLI's own), else the advice
    the dashboard gives too."""
    if isinstance(exc, CelestoNotFoundError):
        if exc.code == LOCAL_ONLY_CODE:
            return None  # the message says where to go
        if top_command in ("deploy", "deployments"):
            return "List deployments with: " + hint_line("deployments", "list")
        return "List computers with: " + hint_line("computer", "list")
    return advice(exc, base_url)


def _stdout_gone() -> None:
    # Someone closed the pipe we print into (`| head`): stop quietly, and keep Python's
    # final flush at exit from complaining about it.
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)


@contextlib.contextmanager
def failures_reported(ctx: click.Context) -> Iterator[None]:
    """Turn every failure into click's one-line error and the right exit code."""
    try:
        yield
    except click.UsageError as exc:
        if exc.ctx is None:
            exc.ctx = ctx  # so the one-line message names this command's --help
        raise
    except (click.ClickException, click.exceptions.Exit, click.exceptions.Abort):
        raise
    except CelestoValidationError as exc:
        if exc.status_code is None:  # found before sending: the arguments are wrong
            raise click.UsageError(one_line(exc.message), ctx) from None
        raise CommandError(str(exc)) from None
    except CelestoError as exc:
        base_url = getattr(ctx.obj, "base_url", None)
        raise CommandError(str(exc), hint_for(exc, _top_command(ctx), base_url)) from None
    except KeyboardInterrupt:
        note("Interrupted.")
        raise click.exceptions.Exit(EXIT_INTERRUPTED) from None
    except BrokenPipeError:
        _stdout_gone()
        raise click.exceptions.Exit(1) from None
    except Exception as exc:
        if os.environ.get(DEBUG_ENV):
            raise
        if isinstance(exc, OSError) or type(exc).__module__.startswith("celesto_"):
            raise CommandError(str(exc) or type(exc).__name__) from None
        raise CommandError(
            f"Unexpected error ({type(exc).__name__}: {exc})",
            f"Run again with {DEBUG_ENV}=1 for the details.",
        ) from None


# --- the client ----------------------------------------------------------------------------


@dataclass
class Connection:
    """An open client to the chosen Celesto, and how to name this choice in hints."""

    client: Celesto
    target: Target
    opts: GlobalOptions

    @property
    def base_url(self) -> str:
        return self.target.base_url

    @property
    def on_this_machine(self) -> bool:
        """The embedded backend: in this process (--local) or a `local serve` on loopback."""
        host = urlsplit(self.base_url).hostname
        return self.target.local or host in LOOPBACK_HOSTS

    def serve_line(self) -> str:
        """``celesto-tui local serve`` on this command's data dir."""
        return command_line("local", "serve", data_dir=self.opts.data_dir)

    def line(self, *words: Any, **options: Any) -> str:
        """A follow-up command line that talks to the same Celesto as this one."""
        return hint_line(*words, **options)


def _load_httpcore_without_trio() -> None:
    """httpcore imports trio at import time whenever it is installed (50-80 ms of a cold
    start), only to support async clients running under trio. The CLI is synchronous, so
    trio is hidden while httpcore loads; a later ``import trio`` still works."""
    if "httpcore" in sys.modules or "trio" in sys.modules:
        return
    sys.modules["trio"] = None  # type: ignore[assignment]
    try:
        import httpcore  # noqa: F401
    finally:
        if sys.modules.get("trio", 0) is None:
            del sys.modules["trio"]


def _key_configured(opts: GlobalOptions) -> bool:
    try:
        resolve_config(opts.api_key, opts.base_url, profile=opts.profile)
    except CelestoAuthenticationError:
        return False
    return True


@contextlib.contextmanager
def connect(opts: GlobalOptions) -> Iterator[Connection]:
    """The client for ``opts``: the cloud (or any ``--base-url``) when a key is configured,
    else the embedded local backend, started in this process for this command only."""
    ctx = click.get_current_context()
    _load_httpcore_without_trio()
    if not opts.local and not _key_configured(opts):
        if opts.base_url or opts.profile:
            where = opts.base_url or f"profile {opts.profile!r}"
            raise CommandError(
                f"No API key for {where}",
                "Pass --api-key, set CELESTO_API_KEY, or run: "
                + target_line(opts, "auth", "login"),
            )
        note(
            "Note: no API key configured, so this runs on the embedded local backend "
            "(log in to the cloud with: celesto-tui auth login)."
        )
    chosen = open_target(opts.local, opts.base_url, opts.api_key, opts.profile, opts.data_dir)
    with chosen as target:
        if target.shared:
            note(f"Note: {target.hint}")
        profile = None if target.local else opts.profile
        with Celesto(api_key=target.api_key, base_url=target.base_url, profile=profile) as client:
            connection = Connection(client, target, opts)
            ctx.obj = connection  # lets a network-error hint name the URL that failed
            yield connection


def exit_with(code: int) -> NoReturn:
    raise click.exceptions.Exit(code)


def confirmed(question: str) -> bool:
    """Ask y/N on stderr. Ctrl+C exits 130; a closed stdin (nothing to read the answer
    from) is an error that says how to go ahead without asking."""
    try:
        answer = click.confirm(question, err=True)
    except click.exceptions.Abort as exc:
        click.echo(err=True)  # end the question's line
        if isinstance(exc.__context__, KeyboardInterrupt):
            note("Interrupted.")
            raise click.exceptions.Exit(EXIT_INTERRUPTED) from None
        raise CommandError(
            "Not confirmed: there is no answer to read on stdin",
            "Pass --force to go ahead without asking.",
        ) from None
    if not sys.stdin.isatty():
        click.echo(err=True)  # a piped answer is not echoed: end the question's line
    return answer
