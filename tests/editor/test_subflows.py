"""GET /api/subflows/NAME: what the editor reads to open a subflow instance."""

from __future__ import annotations

import json
from pathlib import Path

from portless.editor.masking import SECRET_MASK
from portless.runtime import Registry, load_subflows
from tests.editor.conftest import BEARER, running_editor
from tests.nodetypes import TEST_TYPES

DOUBLE = {"version": 1, "subflow": {"input": ["double"], "outputs": [[{"node": "double"}]]},
          "nodes": [{"id": "double", "type": "test-double"}]}
LINKED = {"version": 1, "subflow": {}, "nodes": [
    {"id": "broker", "type": "mqtt-broker",
     "config": {"host": "plant.example", "password": "hunter2"}}]}


async def test_a_subflow_is_read_with_its_secrets_masked_and_its_instances(
        tmp_path: Path) -> None:
    (tmp_path / "subflows").mkdir()
    (tmp_path / "subflows" / "double.json").write_text(json.dumps(DOUBLE))
    (tmp_path / "subflows" / "linked.json").write_text(json.dumps(LINKED))
    registry = Registry.discover()
    for cls in TEST_TYPES:
        registry.add(cls, "test")
    load_subflows(registry, tmp_path / "subflows")
    flow = {"version": 1, "nodes": [{"id": "d1", "type": "subflow:double"},
                                    {"id": "d2", "type": "subflow:double"}]}
    async with running_editor(tmp_path, flow, registry) as editor:
        answer = await (await editor.client.get("/api/subflows/double",
                                                headers=BEARER)).get_json()
        assert answer["type"] == "subflow:double"
        assert answer["file"] == str(tmp_path / "subflows" / "double.json")
        assert answer["document"] == DOUBLE
        assert answer["instances"] == ["d1", "d2"]  # inner nodes: d1/double, d2/double
        linked = await (await editor.client.get("/api/subflows/linked",
                                                headers=BEARER)).get_json()
        assert linked["document"]["nodes"][0]["config"]["password"] == SECRET_MASK
        assert linked["instances"] == []
        missing = await editor.client.get("/api/subflows/nope", headers=BEARER)
        assert missing.status_code == 404
        assert (await missing.get_json()) == {"error": "no subflow named 'nope'"}
        unsigned = await editor.client.get("/api/subflows/double",
                                           headers={"Host": BEARER["Host"]})
        assert unsigned.status_code in (401, 403)  # behind the guard like every route
