"""Regular expressions in configs (runtime/regex.py): checked at load, JavaScript's
named groups accepted."""

from __future__ import annotations

from typing import Any, ClassVar

import pytest

from portless.runtime import FlowInvalid, Node, compile_regex
from portless.testing import run_node


class Search(Node):
    type = "test-search"
    schema: ClassVar[dict[str, Any]] = {
        "type": "object", "properties": {"pattern": {"type": "string", "x-regex": True}}}


@pytest.mark.parametrize(("pattern", "text", "groups"), [
    (r"(?<year>\d{4})-(?<month>\d\d)", "2026-12", {"year": "2026", "month": "12"}),
    (r"(?<=v)(\d+)", "v12", {}),
    (r"(?<!x)a", "ba", {}),
    (r"\(?<y>\)", "(<y>)", {}),  # an escaped bracket opens no group
])
def test_a_pattern_matches_with_javascript_named_groups(pattern: str, text: str,
                                                        groups: dict[str, str]) -> None:
    match = compile_regex(pattern).search(text)
    assert match is not None
    assert match.groupdict() == groups


def test_a_broken_pattern_is_refused_at_load_naming_the_field() -> None:
    with pytest.raises(FlowInvalid, match=r"/config/pattern: must be a regular "
                                          r"expression: multiple repeat at position 3"):
        run_node(Search, {"pattern": r"\+**+"})
