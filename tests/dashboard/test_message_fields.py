"""`@message_fields`: a message's annotated fields are its arguments, positional or by
name, with defaults; wrong calls fail as a dataclass's would; it is still a Textual message
(it bubbles to the app and is handled by name)."""

from __future__ import annotations

from typing import ClassVar

import pytest
from textual.app import App, ComposeResult
from textual.message import Message
from textual.widgets import Static

from celesto_tui.app.message_fields import FIELDS, message_fields


@message_fields
class Sample(Message):
    kind: str
    count: int
    note: str = ""
    tags: tuple[str, ...] = ()
    LIMIT: ClassVar[int] = 3


def test_fields_by_position_and_name_with_defaults() -> None:
    first = Sample("a", 1)
    assert (first.kind, first.count, first.note, first.tags) == ("a", 1, "", ())
    second = Sample(count=2, kind="b", note="n")
    assert (second.kind, second.count, second.note) == ("b", 2, "n")
    assert repr(second) == "Sample(kind='b', count=2, note='n', tags=())"
    assert first != Sample("a", 1)  # messages are events: identity, not value
    assert Sample.__message_fields__ == ("kind", "count", "note", "tags")  # no ClassVar


@pytest.mark.parametrize(
    ("args", "kwargs", "error"),
    [
        ((), {"kind": "a"}, "missing required argument: 'count'"),
        (("a", 1, "n", (), "extra"), {}, "takes 4 positional arguments but 5 were given"),
        (("a",), {"kind": "b", "count": 1}, "multiple values for argument 'kind'"),
        (("a", 1), {"colour": "red"}, "unexpected keyword argument 'colour'"),
    ],
)
def test_wrong_calls_fail_as_a_dataclass_would(
    args: tuple[object, ...], kwargs: dict[str, object], error: str
) -> None:
    with pytest.raises(TypeError, match=error):
        Sample(*args, **kwargs)


@message_fields
class DetailedSample(Sample):
    detail: str = "none"


def test_a_subclass_takes_its_bases_fields_first() -> None:
    message = DetailedSample("a", 1, detail="more")
    assert (message.kind, message.count, message.note, message.detail) == ("a", 1, "", "more")
    assert getattr(DetailedSample, FIELDS) == (
        "kind",
        "count",
        "note",
        "tags",
        "detail",
    )
    assert getattr(Sample, FIELDS) == ("kind", "count", "note", "tags")


def test_a_mutable_default_or_a_required_field_after_a_default_is_refused() -> None:
    with pytest.raises(TypeError, match="mutable default"):

        @message_fields
        class Shared(Message):
            items: list[str] = []

    with pytest.raises(TypeError, match="'count' without a default follows one with"):

        @message_fields
        class Misordered(Message):
            kind: str = ""
            count: int


class Poster(Static):
    def on_mount(self) -> None:
        self.post_message(Sample("posted", 7))


class Receiver(App[None]):
    def __init__(self) -> None:
        super().__init__()
        self.received: list[Sample] = []

    def compose(self) -> ComposeResult:
        yield Poster()

    def on_sample(self, message: Sample) -> None:
        self.received.append(message)


async def test_it_bubbles_to_the_app_and_is_handled_by_name() -> None:
    app = Receiver()
    async with app.run_test() as pilot:
        await pilot.pause()
        assert [(m.kind, m.count) for m in app.received] == [("posted", 7)]
        assert app.received[0].time > 0  # Textual's own message state was set up
