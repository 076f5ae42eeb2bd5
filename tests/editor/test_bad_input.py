"""Bad and hostile requests to every editor endpoint get a 4xx JSON answer naming the
problem, never an HTML page, a 500 or a traceback, and the flow file stays as it was."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from portless.editor.app import MAX_BODY_BYTES
from portless.runtime import FlowInvalid, read_flow
from tests.editor.conftest import BEARER, Editor

WRONG_BODIES: list[tuple[str, bytes]] = [
    ("array", b"[]"),
    ("string", b'"x"'),
    ("number", b"1"),
    ("null", b"null"),
    ("boolean", b"true"),
    ("empty", b""),
    ("not json", b"{nope"),
    ("not utf-8", b'{"nodes": "\xff\xfe"}'),
    ("deep arrays", b"[" * 100_000 + b"]" * 100_000),
    ("deep objects", b'{"a":' * 50_000 + b"1" + b"}" * 50_000),
    ("nodes a string", b'{"version": 1, "nodes": "x"}'),
    ("nodes a number", b'{"version": 1, "nodes": 5}'),
    ("nodes null", b'{"version": 1, "nodes": null}'),
    ("nodes an object", b'{"version": 1, "nodes": {"a": {}}}'),
    ("no nodes", b'{"version": 1}'),
    ("node with config null",
     b'{"version": 1, "nodes": [{"id": "a", "type": "debug", "config": null}]}'),
    ("masked secret in a list", '{"version": 1, "nodes": [{"id": "broker", "type": '
     '"mqtt-broker", "config": {"host": "h", "password": ["\u2022\u2022"]}}]}'.encode()),
    ("control characters in an id",
     b'{"version": 1, "nodes": [{"id": "a\\n\\u0000", "type": "debug"}]}'),
    ("lone surrogate", b'{"version": 1, "nodes": [{"id": "a", "type": "io-in",'
                       b' "config": {"topic": "\\ud800"}}]}'),
    ("nodes a number list", b'{"version": 1, "nodes": [1, 2]}'),
    ("version a string", b'{"version": "1", "nodes": []}'),
    ("id a number", b'{"version": 1, "nodes": [{"id": 5, "type": "debug"}]}'),
    ("type a list", b'{"version": 1, "nodes": [{"id": "a", "type": ["debug"]}]}'),
    ("config a list", b'{"version": 1, "nodes": [{"id": "a", "type": "debug", "config": []}]}'),
    ("config field wrong type",
     b'{"version": 1, "nodes": [{"id": "a", "type": "io-in", "config": {"interval": "x"}}]}'),
    ("wires an object", b'{"version": 1, "nodes": [{"id": "a", "type": "debug", "wires": {}}]}'),
    ("secret a number",
     b'{"version": 1, "nodes": [{"id": "broker", "type": "mqtt-broker",'
     b' "config": {"host": "h", "password": 5}}]}'),
    ("NaN", b'{"version": 1, "nodes": [{"id": "a", "type": "io-in",'
            b' "config": {"interval": NaN}}]}'),
    ("long number", b'{"version": 1, "nodes": [], "x": ' + b"9" * 5000 + b"}"),
    ("a key twice", b'{"version": 1, "nodes": [], "nodes": []}'),
    ("a config key twice", b'{"version": 1, "nodes": [{"id": "a", "type": "io-in",'
                           b' "config": {"interval": 1, "interval": 2}}]}'),
    ("many nodes of nothing", json.dumps({"version": 1, "nodes": [{}] * 5000}).encode()),
]


def assert_json_refusal(status: int, body: Any, allowed: set[int]) -> None:
    assert status in allowed, (status, body)
    assert isinstance(body, dict), body
    assert body.get("error") or body.get("errors"), body


async def current_etag(editor: Editor) -> str:
    return (await editor.client.get("/api/flow", headers=BEARER)).headers["ETag"]


@pytest.mark.parametrize(("case", "data"), WRONG_BODIES, ids=[c for c, _ in WRONG_BODIES])
async def test_put_flow_refuses_wrong_bodies_with_a_json_4xx(
        editor: Editor, case: str, data: bytes) -> None:
    before = editor.path.read_bytes()
    response = await editor.client.put(
        "/api/flow", headers={**BEARER, "If-Match": await current_etag(editor)}, data=data)
    assert response.content_type == "application/json"
    assert_json_refusal(response.status_code, await response.get_json(), {400})
    assert editor.path.read_bytes() == before


@pytest.mark.parametrize(("case", "data"), WRONG_BODIES, ids=[c for c, _ in WRONG_BODIES])
async def test_validate_answers_wrong_bodies_with_json(
        editor: Editor, case: str, data: bytes) -> None:
    response = await editor.client.post("/api/validate", headers=BEARER, data=data)
    assert response.content_type == "application/json"
    body = await response.get_json()
    # 400 for a body that is no flow document at all; 200 with the flow's errors else
    assert_json_refusal(response.status_code, body, {200, 400})


@pytest.mark.parametrize("case", ["a key twice", "a config key twice", "long number"])
async def test_a_body_gets_the_errors_the_same_flow_file_gets(
        editor: Editor, tmp_path: Path, case: str) -> None:
    """A duplicate key (which a parse would drop without a trace) or a 5,000-digit
    integer in a deploy is refused with the sentence, node and field `portless validate`
    gives the same bytes in a file, not Python's own words or a silent last-wins."""
    data = dict(WRONG_BODIES)[case]
    (tmp_path / "copy.json").write_bytes(data)
    with pytest.raises(FlowInvalid) as from_file:
        read_flow(tmp_path / "copy.json")
    expected = [(e.node_id, e.pointer, e.message) for e in from_file.value.errors]
    before = editor.path.read_bytes()
    put = await editor.client.put(
        "/api/flow", headers={**BEARER, "If-Match": await current_etag(editor)}, data=data)
    validate = await editor.client.post("/api/validate", headers=BEARER, data=data)
    for response, status in ((put, 400), (validate, 200)):
        assert response.status_code == status
        details = (await response.get_json())["details"]
        assert [(d["node"], d["pointer"], d["message"]) for d in details] == expected
    assert editor.path.read_bytes() == before


@pytest.mark.parametrize(("method", "path"), [
    ("PUT", "/api/flow"), ("POST", "/api/validate"),
])
async def test_bodies_over_the_limit_are_413_json(editor: Editor, method: str,
                                                  path: str) -> None:
    data = b'{"version": 1, "nodes": [], "pad": "' + b"x" * MAX_BODY_BYTES + b'"}'
    response = await editor.client.open(path, method=method, data=data,
                                        headers={**BEARER, "If-Match": "x"})
    assert response.status_code == 413
    assert "larger than" in (await response.get_json())["error"]


@pytest.mark.parametrize(("method", "path", "status"), [
    ("GET", "/api/validate", 405),
    ("DELETE", "/api/flow", 405),
    ("POST", "/api/flow", 405),
    ("GET", "/api/nodes/counter/inject", 405),
    ("GET", "/api/nothing", 404),
    ("POST", "/api/nodes/%00/inject", 404),
    ("POST", "/api/nodes/" + "x" * 5000 + "/inject", 404),
    ("POST", "/api/nodes/%F0%9F%92%A9/inject", 404),
    ("PUT", "/api/flow?x=" + "y" * 3000, 428),
    ("GET", "/static/../editor/app.py", 404),
    ("GET", "/static/%2e%2e/app.py", 404),
    ("GET", "/static/..%2fapp.py", 404),
    ("GET", "/static/nothing.js", 404),
    ("GET", "/api/ws", 400),  # no websocket upgrade
    ("POST", "/api/ws", 405),
])
async def test_wrong_methods_and_paths_are_json(editor: Editor, method: str, path: str,
                                                status: int) -> None:
    response = await editor.client.open(path, method=method, headers=BEARER, data=b"{}")
    assert response.status_code == status
    assert response.content_type == "application/json"
    assert (await response.get_json())["error"]


@pytest.mark.parametrize("if_match", ["", '"', "\u00e9" * 10, "x" * 10_000])
async def test_strange_if_match_is_a_412(editor: Editor, if_match: str) -> None:
    document = await (await editor.client.get("/api/flow", headers=BEARER)).get_json()
    response = await editor.client.put("/api/flow", headers={**BEARER, "If-Match": if_match},
                                       data=json.dumps(document))
    assert response.status_code == 412
    assert (await response.get_json())["error"]


# Every field of a valid flow, replaced by a value of every JSON type and a few sizes:
# whatever the mix, the answer is JSON and never a 500.
VALID: dict[str, Any] = {"version": 1, "nodes": [
    {"id": "reader", "type": "io-in", "config": {"interval": 60, "topic": "t"},
     "wires": [["show"]], "x": 10, "y": 20},
    {"id": "show", "type": "debug", "config": {}}]}
FIELDS = ["version", "nodes", "nodes/0", "nodes/0/id", "nodes/0/type", "nodes/0/config",
          "nodes/0/wires", "nodes/0/wires/0", "nodes/0/x", "nodes/0/config/interval",
          "nodes/0/config/topic", "nodes/1/config"]
VALUES: list[Any] = [None, True, -1, 10**30, 1e308, "", "x" * 100_000, "\u2022" * 6,
                     "${HOME}", [], [[]] * 1000, {}, {"a": {"b": {"c": []}}}]


def replaced(pointer: str, value: Any) -> dict[str, Any]:
    document = json.loads(json.dumps(VALID))
    *parents, last = pointer.split("/")
    holder: Any = document
    for part in parents:
        holder = holder[int(part)] if isinstance(holder, list) else holder[part]
    holder[int(last) if isinstance(holder, list) else last] = value
    return document


@pytest.mark.parametrize("pointer", FIELDS)
async def test_every_field_with_every_kind_of_value_gets_a_json_answer(
        editor: Editor, pointer: str) -> None:
    for value in VALUES:
        body = json.dumps(replaced(pointer, value))
        answers = [await editor.client.post("/api/validate", headers=BEARER, data=body),
                   await editor.client.put("/api/flow", data=body, headers={
                       **BEARER, "If-Match": await current_etag(editor)})]
        for answer in answers:
            assert answer.status_code in (200, 400), (pointer, value, answer.status_code)
            assert answer.content_type == "application/json", (pointer, value)
