"""POST /api/import/node-red: a pasted Node-RED export converted for the Import dialog,
nothing written; ${ENV} references and subflows left out and said; bad input a 400
naming the node; behind the guard like every route."""

from __future__ import annotations

import json
from typing import Any

from portless.editor.node_red_import import editor_import
from tests.editor.conftest import BEARER, HOST, Editor
from tests.node_red_import.convert_helpers import FIXTURES

EXPORT = (FIXTURES / "every-option.json").read_text(encoding="utf-8")


async def post(editor: Editor, body: Any, headers: dict[str, str] = BEARER) -> Any:
    response = await editor.client.post("/api/import/node-red", headers=headers,
                                        data=json.dumps(body))
    return response.status_code, await response.get_json()


async def test_an_export_comes_back_converted_and_nothing_is_written(editor: Editor) -> None:
    before = editor.path.read_text()
    status, answer = await post(editor, {"export": EXPORT})
    assert status == 200
    assert answer["text"].startswith("the pasted export: ")
    assert answer["report"]["kept_disabled"][0]["id"] == "js"
    ids = [node["id"] for node in answer["nodes"]]
    assert "rbe-temp" in ids
    assert "broker" in ids
    assert editor.path.read_text() == before
    assert sorted(p.name for p in editor.path.parent.iterdir()) == ["flow.json", "state"]


async def test_env_references_and_subflows_are_left_out_and_said() -> None:
    answer = editor_import(EXPORT)
    text = json.dumps(answer["nodes"])
    assert "${" not in text
    assert "hunter2-never-copied" not in json.dumps(answer)
    broker = next(node for node in answer["nodes"] if node["id"] == "broker")
    assert broker["config"]["password"] == ""
    assert any(e["id"] == "broker" and "${ENV} references are left empty" in e["text"]
               for e in answer["report"]["approximated"])
    assert any(e["type"] == "subflow" and "portless import-node-red" in e["text"]
               for e in answer["report"]["not_converted"])
    assert answer["report"]["files"] == []


async def test_bad_input_is_a_400_naming_the_node(editor: Editor) -> None:
    status, answer = await post(editor, {"export": '[{"id": "a", "type": "inject", '
                                                   '"wires": [["gone"]]}]'})
    assert status == 400
    assert answer["errors"] == ["the pasted export: node a: /wires/0/0: wire to missing "
                                "node 'gone'"]
    status, answer = await post(editor, {"flows": []})
    assert status == 400
    assert "must be {\"export\": TEXT}" in answer["error"]


async def test_the_route_is_behind_the_guard(editor: Editor) -> None:
    status, _ = await post(editor, {"export": "[]"}, headers={"Host": HOST})
    assert status == 401
