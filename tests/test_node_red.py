"""The Node-RED differential harness (tests/node_red.py) itself: what it returns is what
Node-RED's nodes sent, per case and port, in order."""

from __future__ import annotations

import pytest

from tests.node_red import NodeRedCase, run_in_node_red


def test_each_case_gets_what_its_node_sent_on_each_port_in_order() -> None:
    switch = {"type": "switch", "property": "payload", "propertyType": "msg",
              "rules": [{"t": "gt", "v": "5", "vt": "num"}, {"t": "else"}],
              "checkall": "true", "outputs": 2}
    results = run_in_node_red([
        NodeRedCase(switch, [{"payload": 3}, {"payload": 7}, {"payload": 9}], outputs=2),
        NodeRedCase({"type": "change", "rules": [
            {"t": "set", "p": "payload", "pt": "msg", "to": "count", "tot": "flow"}]},
            [{"payload": 1}], flow_context={"count": 42}),
    ])
    assert results == [[[{"payload": 7}, {"payload": 9}], [{"payload": 3}]],
                       [[{"payload": 42}]]]


def test_a_flow_node_red_cannot_start_is_an_error_not_a_hang() -> None:
    with pytest.raises(RuntimeError, match="did not start"):
        run_in_node_red([NodeRedCase({"type": "no-such-node-type"}, [{}])], timeout_ms=3000)
