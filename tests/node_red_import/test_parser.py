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
