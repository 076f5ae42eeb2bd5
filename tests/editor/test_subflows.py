"""GET /api/subflows/NAME: what the editor reads to open a subflow instance."""

from __future__ import annotations

import json
from pathlib import Path

from portless.editor.masking import SECRET_MASK
from portless.runtime import Registry, load_subflows
from tests.editor.conftest import BEARER, running_editor
from tests.editor.test_masking import Vault
from tests.nodetypes import TEST_TYPES

DOUBLE = {"version": 1, "subflow": {"input": ["double"], "outputs": [[{"node": "double"}]]},
          "nodes": [{"id": "double", "type": "test-double"}]}
LINKED = {"version": 1, "subflow": {}, "nodes": [
    {"id": "broker", "type": "mqtt-broker",
     "config": {"host": "plant.example", "password": "hunter2"}}]}
VAULT = {"id": "vault", "type": "test-vault",
         "config": {"accounts": [{"user": "pump", "password": "hunter2"}]}}


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


async def test_an_edited_subflow_is_deployed_with_its_etag_and_its_secrets_kept(
        tmp_path: Path) -> None:
    path = tmp_path / "subflows" / "double.json"
    path.parent.mkdir()
    path.write_text(json.dumps({**DOUBLE, "nodes": [*DOUBLE["nodes"], VAULT]}))
    registry = Registry.discover()
    for cls in (*TEST_TYPES, Vault):
        registry.add(cls, "test")
    flow = {"version": 1, "nodes": [{"id": "d1", "type": "subflow:double"}]}
    async with running_editor(tmp_path, flow, registry) as editor:
        read = await editor.client.get("/api/subflows/double", headers=BEARER)
        etag = read.headers["ETag"]
        document = (await read.get_json())["document"]
        document["nodes"][0]["config"] = {"factor": 5}
        stale = await editor.client.put("/api/subflows/double", json=document,
                                        headers={**BEARER, "If-Match": '"old"'})
        assert stale.status_code == 412
        unsure = await editor.client.put("/api/subflows/double", json=document,
                                         headers=BEARER)
        assert unsure.status_code == 428
        put = await editor.client.put("/api/subflows/double", json=document,
                                      headers={**BEARER, "If-Match": etag})
        assert put.status_code == 200, await put.get_data()
        answer = await put.get_json()
        assert "d1/double" in answer["tabs"][0]["stopped"]  # the instance restarted
        assert answer["etag"] == put.headers["ETag"] != etag
        assert editor.engine.nodes["d1/double"].config == {"factor": 5}  # it restarted
        written = json.loads(path.read_text())
        assert written["nodes"][0]["config"] == {"factor": 5}
        assert written["nodes"][1] == VAULT  # the masked password put back


async def test_a_bad_subflow_edit_names_the_inner_node_and_changes_nothing(
        tmp_path: Path) -> None:
    path = tmp_path / "subflows" / "double.json"
    path.parent.mkdir()
    path.write_text(json.dumps(DOUBLE))
    before = path.read_text()
    registry = Registry.discover()
    for cls in TEST_TYPES:
        registry.add(cls, "test")
    flow = {"version": 1, "nodes": [{"id": "d1", "type": "subflow:double"}]}
    async with running_editor(tmp_path, flow, registry) as editor:
        running = editor.engine.nodes["d1/double"]
        read = await editor.client.get("/api/subflows/double", headers=BEARER)
        document = (await read.get_json())["document"]
        document["nodes"][0]["config"] = {"factor": "many"}
        put = await editor.client.put("/api/subflows/double", json=document,
                                      headers={**BEARER, "If-Match": read.headers["ETag"]})
        assert put.status_code == 400
        details = (await put.get_json())["details"]
        assert details == [
            {"node": "double", "inner": "", "pointer": "/config/factor",
             "message": "must be a number"},
            {"node": "d1", "inner": "subflow:double, inner node double",
             "pointer": "/config/factor", "message": "must be a number"}]
        assert path.read_text() == before
        assert editor.engine.nodes["d1/double"] is running
