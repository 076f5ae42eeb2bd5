"""The sequence group's mappings, against the tables the split, join, batch and sort
tests run through Node-RED 4: each row that ran there pairs a portless config with the
Node-RED config that sent the same (their node_red_* functions, written as the
importer's inverse); converted, the Node-RED config must be the portless one again."""

from __future__ import annotations

from typing import Any

import pytest

from portless.node_red_import.sequence import unescaped
from portless.node_red_import.source import NotConvertible
from tests.node_red_import.mapping import mapped, same_config
from tests.nodes.core import test_batch, test_join, test_sort, test_split
from tests.nodes.core.test_batch_node_red import node_red_batch
from tests.nodes.core.test_join_node_red import node_red_join
from tests.nodes.core.test_sort_node_red import node_red_sort
from tests.nodes.core.test_split_node_red import node_red_split


def measured(cases: Any) -> list[dict[str, Any]]:
    """The configs of the rows that ran through Node-RED."""
    return [case.values[0].config for case in cases if case.values[0].node_red]


TABLES = [("split", test_split.CASES, node_red_split), ("join", test_join.CASES, node_red_join),
          ("batch", test_batch.CASES, node_red_batch), ("sort", test_sort.CASES, node_red_sort)]


@pytest.mark.parametrize(("node_type", "cases", "inverse"), TABLES,
                         ids=[name for name, *_ in TABLES])
def test_every_row_measured_against_node_red_comes_back(node_type: str, cases: Any,
                                                        inverse: Any) -> None:
    configs = measured(cases)
    assert len(configs) >= 10
    wrong = [config for config in configs
             if not same_config(inverse(config), node_type, config)]
    assert wrong == []


def test_node_red_escapes_in_delimiters() -> None:
    assert unescaped("\\n") == "\n"
    assert unescaped("a\\tb\\0") == "a\tb\0"
    made, _ = mapped({"type": "split", "splt": "\\n", "spltType": "str"})
    assert made.config == {"property": "payload", "delimiter": "\n"}
    made, _ = mapped({"type": "join", "mode": "custom", "joiner": "\\r\\n",
                      "joinerType": "str", "build": "string"})
    assert made.config["joiner"] == "\r\n"


def test_join_uses_parts_unless_told_not_to() -> None:
    """Node-RED's join reads an absent useparts as true (older flows lack it)."""
    made, _ = mapped({"type": "join", "mode": "custom"})
    assert made.config["use_parts"] is True


@pytest.mark.parametrize(("node", "why"), [
    ({"type": "split", "spltType": "bin", "splt": "[300]"}, "splt: '[300]' is not a list"),
    ({"type": "split", "spltType": "regex"}, "spltType: unknown kind 'regex'"),
    ({"type": "join", "mode": "sideways"}, "mode: unknown mode 'sideways'"),
    ({"type": "batch", "mode": "concat", "topics": [{"topic": 3}]}, "topics: a topic"),
])
def test_what_cannot_be_converted(node: dict[str, Any], why: str) -> None:
    with pytest.raises(NotConvertible) as raised:
        mapped(node)
    assert why in str(raised.value)
