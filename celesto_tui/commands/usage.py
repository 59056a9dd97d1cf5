"""Usage errors as one line on stderr, like every other failure of the CLI.

Click prints a usage error as three lines (the usage, "Try ... --help", the error). Scripts
and agents read the last line and people read the first, so both get one line that says
what is wrong and where the help is: ``Error: Invalid value for '--cpus' / '-c': 17 is not
in the range 1<=x<=16. See: celesto-tui computer create --help``.
"""

from __future__ import annotations

from typing import IO, Any

import click


class OneLineUsageError(click.UsageError):
    def show(self, file: IO[Any] | None = None) -> None:
        message = " ".join(self.format_message().split()).rstrip(".")
        where = self.ctx.command_path if self.ctx is not None else "celesto-tui"
        click.echo(f"Error: {message}. See: {where} --help", file=file, err=file is None)


def _one_line(exc: click.UsageError) -> OneLineUsageError:
    if isinstance(exc, OneLineUsageError):
        return exc
    return OneLineUsageError(exc.format_message(), exc.ctx)


class CelestoGroup(click.Group):
    """The root group: every usage error below it is shown as one line."""

    def make_context(
        self,
        info_name: str | None,
        args: list[str],
        parent: click.Context | None = None,
        **extra: Any,
    ) -> click.Context:
        try:
            return super().make_context(info_name, args, parent, **extra)
        except click.UsageError as exc:
            raise _one_line(exc) from None

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except click.UsageError as exc:
            raise _one_line(exc) from None
