"""Names, ids and keys may not carry control characters (NUL breaks file paths and execve,
the rest breaks logs and terminals): such a value is a 422 that names the field."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def has_control_chars(text: str) -> bool:
    return _CONTROL.search(text) is not None


def _printable(value: str | None) -> str | None:
    if value is not None and has_control_chars(value):
        raise ValueError("must not contain control characters")
    return value


# After a field's own constraints (max_length...), so their errors keep their types.
NoControlChars = AfterValidator(_printable)
# For path, query, form and body fields that name or identify something.
Printable = Annotated[str, NoControlChars]
