"""`@message_fields`: a Textual message whose annotated fields become its ``__init__``
arguments, as with ``@dataclass``, for a fraction of the cost.

``@dataclass`` writes each class's methods as source and compiles them: ~0.35 ms per
message class, 12 ms for the dashboard's 35 messages before its first frame (6 % of a
whole Textual hello-world's start-up). Here every message shares one ``__init__`` that
binds the arguments to the fields the decorator read. Type checkers see it as a dataclass
(PEP 681). Messages compare by identity, as Textual's own.
"""

from __future__ import annotations

import inspect
import itertools
from collections.abc import Iterator
from typing import Any, TypeVar, dataclass_transform

from textual.message import Message

MessageType = TypeVar("MessageType", bound=type[Message])

FIELDS = "__message_fields__"
DEFAULTS = "__message_defaults__"


@dataclass_transform(eq_default=False)
def message_fields(cls: MessageType) -> MessageType:
    """Read ``cls``'s annotated fields (and their defaults) and give it their ``__init__``."""
    own = [
        name
        for name, annotation in inspect.get_annotations(cls).items()
        if not str(annotation).startswith(("ClassVar", "typing.ClassVar"))
    ]
    # A base class's fields come first, as with dataclasses.
    inherited: tuple[str, ...] = getattr(cls, FIELDS, ())
    names = [*inherited, *(name for name in own if name not in inherited)]
    defaults = {
        **getattr(cls, DEFAULTS, {}),
        **{name: cls.__dict__[name] for name in own if name in cls.__dict__},
    }
    for earlier, later in itertools.pairwise(names):
        if earlier in defaults and later not in defaults:
            raise TypeError(f"{cls.__name__}: field {later!r} without a default follows one with")
    for name, value in defaults.items():
        if isinstance(value, list | dict | set):
            raise TypeError(f"{cls.__name__}.{name}: a mutable default would be shared")
    setattr(cls, FIELDS, tuple(names))
    setattr(cls, DEFAULTS, defaults)
    cls.__init__ = _init  # type: ignore[method-assign]
    cls.__rich_repr__ = _rich_repr  # type: ignore[method-assign]
    return cls


def _init(self: Message, *args: Any, **kwargs: Any) -> None:
    cls = type(self)
    names: tuple[str, ...] = getattr(cls, FIELDS)
    defaults: dict[str, Any] = getattr(cls, DEFAULTS)
    if len(args) > len(names):
        raise TypeError(
            f"{cls.__name__}() takes {len(names)} positional arguments but {len(args)} were given"
        )
    values = dict(zip(names, args, strict=False))
    for name, value in kwargs.items():
        if name not in names:
            raise TypeError(f"{cls.__name__}() got an unexpected keyword argument {name!r}")
        if name in values:
            raise TypeError(f"{cls.__name__}() got multiple values for argument {name!r}")
        values[name] = value
    for name in names:
        if name in values:
            setattr(self, name, values[name])
        elif name in defaults:
            setattr(self, name, defaults[name])
        else:
            raise TypeError(f"{cls.__name__}() missing required argument: {name!r}")
    Message.__init__(self)


def _rich_repr(self: Message) -> Iterator[tuple[str, Any]]:
    for name in getattr(type(self), FIELDS):
        yield name, getattr(self, name)
