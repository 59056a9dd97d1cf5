"""The `/` filter: words that must all match, case-insensitively.

``web`` matches rows with "web" in any column; ``status:running`` only looks at the status;
a leading ``!`` inverts a word (``!status:stopped``). The filter runs on the polled data,
never by asking the API again.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Term:
    field: str | None
    needle: str
    negate: bool

    def matches(self, fields: Mapping[str, str]) -> bool:
        if self.field is None:
            found = any(self.needle in value for value in fields.values())
        else:
            found = self.needle in fields.get(self.field, "")
        return found != self.negate


@dataclass(frozen=True)
class Filter:
    text: str = ""
    terms: tuple[Term, ...] = field(default=(), compare=False)

    @classmethod
    def parse(cls, text: str, known_fields: frozenset[str] = frozenset()) -> Filter:
        terms = []
        for word in text.lower().split():
            negate = word.startswith("!")
            word = word.lstrip("!")
            name, sep, needle = word.partition(":")
            if sep and (not known_fields or name in known_fields):
                terms.append(Term(name, needle, negate))
            elif word:
                terms.append(Term(None, word, negate))
        return cls(" ".join(text.split()), tuple(terms))

    def __bool__(self) -> bool:
        return bool(self.terms)

    def matches(self, fields: Mapping[str, str]) -> bool:
        """``fields`` must already be lower-case."""
        return all(term.matches(fields) for term in self.terms)
