"""The scan of a property path's text into steps: where a bad one stops being a path.
(What every path of the table parses into is in test_properties.py, through
PropertyPath, and checked against Node-RED in test_properties_node_red.py.)"""

from __future__ import annotations

import pytest

from portless.runtime.property_syntax import Reference, parse


def test_nested_references_are_kept_as_written() -> None:
    assert parse("payload[msg.topic][0]") == ["payload", Reference("msg.topic"), 0]
    assert parse("a[msg[msg.b]]") == ["a", Reference("msg[msg.b]")]


@pytest.mark.parametrize(("path", "reason"), [
    ("", "is empty"),
    ("payload..x", "unexpected '.' at position 8"),
    ("payload x", "unexpected space at position 7"),
    ("payload[x]", "unexpected 'x' at position 8"),
    ("payload\n", "control character '\\n' at position 7"),
    ("a['b", "unclosed quote at position 2"),
    ("a['b'c]", "expected ']' after the quoted name at position 5"),
    ("a[0", "unclosed '[' at position 3"),
    ("a[msg.b", "unclosed '[' at position 1"),
    ("a[0x]", "a name in [] must be quoted at position 2"),
    ("a[msg.]", "bad message reference (nothing after '.' at position 3) at position 2"),
])
def test_bad_paths_say_where(path: str, reason: str) -> None:
    with pytest.raises(ValueError, match=r".") as caught:
        parse(path)
    assert str(caught.value) == reason
