"""comment: loads with its name and text, has no ports and does nothing; Node-RED's
90-comment_spec as one row (and its no-ports rule)."""

from __future__ import annotations

import pytest

from portless.runtime import FlowInvalid
from portless.testing import FlowHarness
from tests.nodetypes import TEST_TYPES


async def test_a_comment_loads_with_its_name_and_text() -> None:
    document = {"version": 1, "nodes": [
        {"id": "note", "type": "comment", "name": "read me",
         "config": {"text": "# Pump\nStarts at *dawn*."}}]}
    async with FlowHarness(document) as h:
        note = h.engine.nodes["note"]
        assert (note.name, note.config["text"]) == ("read me", "# Pump\nStarts at *dawn*.")
        assert (note.inputs, note.outputs) == (0, 0)


@pytest.mark.parametrize(("entry", "error"), [
    ({"id": "src", "type": "test-double", "wires": [["note"]]},
     "node src: /wires/0/0: wire to node 'note', but comment has no input"),
    ({"id": "note2", "type": "comment", "wires": [["note"]]},
     "node note2: /wires/0: output port 0 does not exist"),
])
async def test_a_comment_has_no_ports(entry: dict[str, object], error: str) -> None:
    document = {"version": 1, "nodes": [{"id": "note", "type": "comment"}, entry]}
    with pytest.raises(FlowInvalid, match=error):
        async with FlowHarness(document, node_types=TEST_TYPES):
            pass
