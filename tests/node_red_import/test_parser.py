"""The parser group's mappings: json (and csv and yaml once their nodes are on main)."""

from __future__ import annotations

import pytest

from portless.node_red_import.source import NotConvertible
from tests.node_red_import.mapping import same_config
from tests.nodes.core.test_json_node_red import NODE_RED_ACTIONS


@pytest.mark.parametrize("action", sorted(NODE_RED_ACTIONS))
def test_json_actions_measured_against_node_red(action: str) -> None:
    """test_json_node_red pairs each portless action with Node-RED's."""
    assert same_config({"type": "json", "action": NODE_RED_ACTIONS[action],
                        "property": "msg.body", "pretty": True}, "json",
                       {"action": action, "property": "body", "pretty": True})


def test_an_unknown_json_action_is_not_converted() -> None:
    with pytest.raises(NotConvertible, match="action: unknown action 'xml'"):
        same_config({"type": "json", "action": "xml"}, "json", {})


def test_yaml_keeps_its_property() -> None:
    assert same_config({"type": "yaml", "property": "msg.doc"}, "yaml", {"property": "doc"})
    assert same_config({"type": "yaml", "property": "payload"}, "yaml", {})


def test_every_csv_row_measured_against_node_red_comes_back() -> None:
    """test_csv_node_red's and test_csv_legacy_node_red's rows: a portless config and the
    Node-RED csv node that answered the same (node_red_config, the importer's inverse)."""
    from tests.nodes.core import test_csv_legacy
    from tests.nodes.core.test_csv_node_red import ROWS, node_red_config

    configs = [case.values[0] for case in [*ROWS, *test_csv_legacy.CASES]]
    assert len(configs) > 90
    wrong = [config for config in configs
             if not same_config(node_red_config(config), "csv", config)]
    assert wrong == []


@pytest.mark.parametrize(("node", "expected"), [
    ({"spec": "rfc", "sep": "\\t", "ret": "\\n", "temp": "a,b", "hdrout": "once",
      "multi": "mult", "skip": "1", "strings": True},
     {"mode": "rfc", "separator": "\t", "line_end": "\n", "columns": "a,b",
      "header_out": "once", "rows_as": "array", "skip": 1, "parse_numbers": True}),
    ({"sep": ";", "hdrout": True},  # before Node-RED 4.0: no spec, hdrout a boolean
     {"mode": "legacy", "separator": ";", "line_end": "\n", "header_out": "all",
      "parse_numbers": False}),
])
def test_csv_escapes_and_older_flows(node: dict[str, object],
                                     expected: dict[str, object]) -> None:
    assert same_config({"type": "csv", **node}, "csv", expected)


def test_a_csv_separator_of_several_characters_is_not_converted() -> None:
    with pytest.raises(NotConvertible, match="sep: ';;' is not one character"):
        same_config({"type": "csv", "sep": ";;"}, "csv", {})
