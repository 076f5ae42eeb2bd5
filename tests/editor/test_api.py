"""The editor API: node types, the flow with ETag/If-Match, validate-write-deploy,
inject, and the live event websocket."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from quart.testing.connections import WebsocketDisconnectError

from portless.cli import main
from portless.editor import stream
from portless.editor.stream import DEBUG_PER_NODE, Hub, Page
from portless.editor.tabs import EditorTabs
from portless.editor.watch import watch_tabs
from portless.runtime import Event, EventBus, Node, Registry, canonical_text
from tests.editor.conftest import BEARER, FLOW, HOST, ORIGIN, Editor, running_editor
from tests.editor.test_security import signed_in
from tests.nodetypes import Answers, Rules


async def get_flow(editor: Editor) -> tuple[dict[str, Any], str]:
    response = await editor.client.get("/api/flow", headers=BEARER)
    assert response.status_code == 200
    return await response.get_json(), response.headers["ETag"]


async def put_flow(editor: Editor, document: Any, etag: str | None) -> Any:
    headers = {**BEARER, **({"If-Match": etag} if etag else {})}
    return await editor.client.put("/api/flow", headers=headers,
                                   data=json.dumps(document))


async def test_node_types_carry_schemas_and_plugins(editor: Editor) -> None:
    types = {t["type"]: t for t in await (await editor.client.get(
        "/api/nodes", headers=BEARER)).get_json()}
    assert {"io-in", "exception-filter", "mqtt-broker", "mqtt-out", "mqtt-in", "output",
            "debug"} <= set(types)
    assert types["mqtt-broker"]["shared"] is True
    assert types["io-in"]["inputs"] == 0
    assert "signal" in types["io-in"]["schema"]["properties"]
    assert types["scale"]["source"].startswith("plugin portless-example-scale")


async def test_deploy_writes_canonically_and_restarts_only_the_changed_node(
        editor: Editor) -> None:
    document, etag = await get_flow(editor)
    counter_before = editor.engine.nodes["counter"]
    show = next(n for n in document["nodes"] if n["id"] == "show")
    show["config"]["property"] = "topic"
    show["x"] = 333.4
    response = await put_flow(editor, document, etag)
    assert response.status_code == 200
    result = await response.get_json()
    assert result["started"] == ["show"]
    assert result["stopped"] == ["show"]
    assert editor.engine.nodes["counter"] is counter_before
    assert editor.engine.nodes["show"].config["property"] == "topic"
    text = editor.path.read_text()
    assert text == canonical_text(json.loads(text))
    assert '"x": 333' in text
    assert response.headers["ETag"] == (await get_flow(editor))[1]


async def test_masked_secret_keeps_the_value_on_disk(editor: Editor) -> None:
    document, etag = await get_flow(editor)
    assert (await put_flow(editor, document, etag)).status_code == 200
    assert json.loads(editor.path.read_text())["nodes"][0]["config"]["password"] == \
        "s3cret-pw"


async def test_invalid_flow_is_400_with_validate_errors_and_nothing_written(
        editor: Editor, capsys: pytest.CaptureFixture[str]) -> None:
    before = editor.path.read_text()
    document, etag = await get_flow(editor)
    document["nodes"][1]["config"]["signal"] = "wobble"
    document["nodes"][1]["wires"] = [["ghost"]]
    response = await put_flow(editor, document, etag)
    assert response.status_code == 400
    body = await response.get_json()
    path = str(editor.path)
    assert f"{path}: node counter: /wires/0/0: wire to missing node 'ghost'" in body["errors"]
    assert {"node": "counter", "pointer": "/config/signal"} in [
        {"node": d["node"], "pointer": d["pointer"]} for d in body["details"]]
    assert editor.path.read_text() == before
    # the same lines `portless validate` prints for that file
    bad = editor.path.with_name("bad.json")
    bad.write_text(json.dumps(document))
    assert main(["validate", str(bad)]) == 1
    printed = capsys.readouterr().err.splitlines()
    assert [line.replace(str(bad), path) for line in printed] == body["errors"]


async def test_lost_updates_are_refused(editor: Editor) -> None:
    document, etag = await get_flow(editor)
    assert (await put_flow(editor, document, None)).status_code == 428
    on_disk = json.loads(editor.path.read_text())
    on_disk["nodes"][2]["name"] = "changed by git pull"
    editor.path.write_text(json.dumps(on_disk))
    before = editor.path.read_text()
    response = await put_flow(editor, document, etag)
    assert response.status_code == 412
    assert (await response.get_json())["etag"] == (await get_flow(editor))[1]
    assert editor.path.read_text() == before


async def test_a_file_replaced_with_the_same_size_and_time_is_read_again(
        editor: Editor) -> None:
    """The service keeps the parsed file between deploys; a replacement (git checkout,
    an editor's save-by-rename) with the same size and mtime must still be noticed."""
    document, etag = await get_flow(editor)
    before = editor.path.stat()
    text = editor.path.read_text()
    other = text.replace('"show"', '"shwo"', 1).replace('["show"]', '["shwo"]')
    assert len(other) == len(text)
    assert other != text
    replacement = editor.path.with_name("replacement.json")
    replacement.write_text(other)
    os.utime(replacement, ns=(before.st_atime_ns, before.st_mtime_ns))
    os.replace(replacement, editor.path)
    _, new_etag = await get_flow(editor)
    assert new_etag != etag
    assert (await put_flow(editor, document, etag)).status_code == 412


async def test_body_that_is_not_json_is_400(editor: Editor) -> None:
    response = await editor.client.put("/api/flow", headers={**BEARER, "If-Match": "x"},
                                       data="{nope")
    assert response.status_code == 400
    assert "not JSON" in (await response.get_json())["error"]


async def test_validate_reports_without_writing(editor: Editor) -> None:
    before = editor.path.read_text()
    document, _ = await get_flow(editor)
    document["nodes"][2]["type"] = "debgu"
    response = await editor.client.post("/api/validate", headers=BEARER,
                                        data=json.dumps(document))
    body = await response.get_json()
    assert body["details"] == [{"node": "show", "inner": "", "pointer": "/type",
                                "message": "unknown node type 'debgu'; did you mean 'debug'?"}]
    assert editor.path.read_text() == before


async def test_validate_says_where_a_property_path_goes_wrong(editor: Editor) -> None:
    """The form has no client-side check of a property path: the server's answer, by
    JSON pointer, is what it shows under the field."""
    document, _ = await get_flow(editor)
    show = next(node for node in document["nodes"] if node["id"] == "show")
    show["config"]["property"] = 'payload["a b"][msg.topic]'
    response = await editor.client.post("/api/validate", headers=BEARER,
                                        data=json.dumps(document))
    assert (await response.get_json())["details"] == []
    show["config"]["property"] = "payload[x]"
    response = await editor.client.post("/api/validate", headers=BEARER,
                                        data=json.dumps(document))
    assert (await response.get_json())["details"] == [{
        "node": "show", "inner": "", "pointer": "/config/property",
        "message": 'must be a message property path such as payload, payload.values[2] '
                   'or payload["a b"]: unexpected \'x\' at position 8'}]


async def test_inject_triggers_a_node_and_the_websocket_streams_it(editor: Editor) -> None:
    assert (await editor.client.post("/api/nodes/ghost/inject", headers=BEARER)
            ).status_code == 404
    headers = {**BEARER, "Origin": ORIGIN}
    async with editor.client.websocket("/api/ws", headers=headers) as socket:
        first = json.loads(await socket.receive())
        assert {"kind": "status", "node": "broker"} in [
            {"kind": item["kind"], "node": item["node"]} for item in first]
        assert (await editor.client.post("/api/nodes/counter/inject", headers=BEARER)
                ).status_code == 204
        async with asyncio.timeout(5):
            while True:
                frame = json.loads(await socket.receive())
                debug = [item for item in frame if item["kind"] == "debug"]
                if debug:
                    break
    assert debug[0]["node"] == "show"


async def test_a_flood_of_debug_messages_is_capped_and_counted() -> None:
    bus = EventBus()
    hub = Hub(bus)
    page = hub.open()
    for value in range(10_000):
        bus.publish(Event("debug", "fast", {"text": str(value)}))
    bus.publish(Event("status", "fast", {"fill": "green", "text": "10000"}))
    frame = page.take()
    debug = [item for item in frame if item["kind"] == "debug"]
    assert len(debug) == DEBUG_PER_NODE
    assert {"kind": "left-out", "node": "fast", "count": 10_000 - DEBUG_PER_NODE} in frame
    assert [item["text"] for item in frame if item["kind"] == "status"] == ["10000"]
    assert page.take() == []  # nothing queued behind
    hub.shutdown()


@contextlib.asynccontextmanager
async def watched(editor: Editor) -> AsyncIterator[Page]:
    """A page that hears the flow file watcher, which runs meanwhile."""
    page = editor.hub.open()
    page.take()
    tabs = EditorTabs(editor.service.deploys, None, editor.service)
    watcher = asyncio.create_task(watch_tabs(tabs, editor.hub))
    try:
        await asyncio.sleep(0)  # let the watcher take its first look
        yield page
    finally:
        watcher.cancel()


async def next_item(page: Page) -> dict[str, Any]:
    async with asyncio.timeout(5):
        while not page.items:
            page.ready.clear()
            await page.ready.wait()
    return page.take()[-1]


async def test_pages_hear_when_the_file_changes_on_disk(
        editor: Editor, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, "portless.editor")
    async with watched(editor) as page:
        document = json.loads(editor.path.read_text())
        document["name"] = "edited elsewhere"
        editor.path.write_text(json.dumps(document))
        item = await next_item(page)
    assert item["kind"] == "flow-changed"
    assert item["etag"] == (await get_flow(editor))[1]
    assert "changed on disk" in caplog.text


async def test_the_runtimes_own_deploy_is_not_a_change_on_disk(
        editor: Editor, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, "portless.editor")
    async with watched(editor) as page:
        document, etag = await get_flow(editor)
        document["name"] = "deployed from the editor"
        response = await put_flow(editor, document, etag)
        assert response.status_code == 200
        item = await next_item(page)  # other tabs still hear of it
    assert item == {"kind": "flow-changed", "etag": response.headers["ETag"]}
    assert "changed on disk" not in caplog.text


async def test_renaming_a_node_with_a_masked_secret_asks_for_it_again(editor: Editor) -> None:
    before = editor.path.read_text()
    document, etag = await get_flow(editor)
    document["nodes"][0]["id"] = "plant-broker"  # the page sends the mask back
    response = await put_flow(editor, document, etag)
    assert response.status_code == 400
    (detail,) = (await response.get_json())["details"]
    assert detail["node"] == "plant-broker"
    assert detail["pointer"] == "/config/password"
    assert "enter it again" in detail["message"]
    assert editor.path.read_text() == before  # the stored password is not erased


async def test_an_unreadable_file_on_disk_can_be_overwritten(editor: Editor) -> None:
    document, _ = await get_flow(editor)
    editor.path.write_text("{ <<<<<<< HEAD")  # a bad merge
    got = await editor.client.get("/api/flow", headers=BEARER)
    assert got.status_code == 409
    assert "not valid JSON" in (await got.get_json())["errors"][0]
    document["nodes"][0]["config"]["password"] = "typed-again"
    response = await put_flow(editor, document, got.headers["ETag"])
    assert response.status_code == 200
    assert json.loads(editor.path.read_text())["nodes"][0]["config"]["password"] == \
        "typed-again"


class Unplugged(Node):
    """A plugin whose device is missing: its start raises."""

    type = "test-unplugged"

    async def start(self) -> None:
        raise OSError("device /dev/adc0 missing")


async def test_a_deploy_whose_new_node_fails_to_start_rolls_back_and_says_so(
        tmp_path: Path) -> None:
    registry = Registry.discover()
    registry.add(Unplugged, "test")
    async with running_editor(tmp_path, FLOW, registry) as editor:
        before = editor.path.read_text()
        document, etag = await get_flow(editor)
        document["nodes"].append({"id": "adc", "type": "test-unplugged", "config": {}})
        response = await put_flow(editor, document, etag)
        assert response.status_code == 409
        result = await response.get_json()
        assert result["rolled_back"] is True
        assert result["failed"] == [{"node": "adc", "reason": "OSError: device /dev/adc0 missing"}]
        assert "rolled back to the flow that ran before" in result["error"]
        assert "the file is back as it runs" in result["error"]
        # The file is what runs again, so the page's ETag still fits and it can retry.
        assert json.loads(editor.path.read_text()) == json.loads(before)
        assert result["etag"] == etag
        assert "adc" not in editor.engine.nodes
        assert {spec.id for spec in editor.engine.flow.nodes} == {"broker", "counter", "show"}


async def test_a_deploy_answer_lists_a_node_that_failed_to_start_with_its_reason(
        tmp_path: Path) -> None:
    registry = Registry.discover()
    registry.add(Unplugged, "test")
    async with running_editor(tmp_path, FLOW, registry) as editor:
        editor.service.deploys.rollback = False  # portless run --no-rollback
        document, etag = await get_flow(editor)
        document["nodes"].append({"id": "adc", "type": "test-unplugged", "config": {}})
        response = await put_flow(editor, document, etag)
        assert response.status_code == 200
        result = await response.get_json()
        assert result["failed"] == [{"node": "adc", "reason": "OSError: device /dev/adc0 missing"}]
        assert result["started"] == []
        headers = {**BEARER, "Origin": ORIGIN}
        async with editor.client.websocket("/api/ws", headers=headers) as socket:
            first = json.loads(await socket.receive())
    assert {"kind": "status", "node": "adc", "fill": "red", "shape": "ring",
            "text": "failed to start: OSError: device /dev/adc0 missing"} in [
        {key: item.get(key) for key in ("kind", "node", "fill", "shape", "text")}
        for item in first]


async def test_the_event_socket_closes_on_a_message_from_the_client(editor: Editor) -> None:
    async with editor.client.websocket("/api/ws", headers={**BEARER, "Origin": ORIGIN}
                                       ) as socket:
        await socket.receive()  # the first frame: every node's status
        await socket.send("x" * 100_000)
        async with asyncio.timeout(5):
            with pytest.raises(WebsocketDisconnectError) as closed:
                await receive_all(socket)
    assert closed.value.args[0] == 1008


async def receive_all(socket: Any) -> None:
    while True:
        await socket.receive()


async def test_a_page_that_does_not_read_keeps_a_bounded_queue(
        monkeypatch: pytest.MonkeyPatch) -> None:
    clock = iter(range(1_000_000))
    monkeypatch.setattr(stream.time, "monotonic", lambda: float(next(clock)))  # 1 s a call
    bus = EventBus()
    hub = Hub(bus)
    page = hub.open()
    for value in range(5_000):
        bus.publish(Event("warning", "chatty", {"text": str(value)}))
    frame = page.take()
    assert len([item for item in frame if item["kind"] == "warning"]) == \
        stream.QUEUED_PER_PAGE
    assert {"kind": "left-out", "node": "chatty",
            "count": 5_000 - stream.QUEUED_PER_PAGE} in frame
    hub.shutdown()


# --- POST /api/outputs ---------------------------------------------------------------
@pytest.fixture
async def counting(tmp_path: Path) -> AsyncIterator[Editor]:
    """The usual flow, with the node types whose outputs follow their config."""
    registry = Registry.discover()
    for cls in (Rules, Answers):
        registry.add(cls, "test")
    async with running_editor(tmp_path, FLOW, registry) as started:
        yield started


async def count_outputs(editor: Editor, *nodes: dict[str, Any],
                        headers: dict[str, str] = BEARER) -> Any:
    return await editor.client.post("/api/outputs", headers=headers,
                                    data=json.dumps({"nodes": list(nodes)}))


async def test_outputs_answers_each_nodes_count_for_its_config(counting: Editor) -> None:
    response = await count_outputs(
        counting, {"id": "r", "type": "test-rules", "config": {"rules": [1, 2, 3]}},
        {"id": "d", "type": "test-rules"},  # the default config: two rules
        {"id": "show", "type": "debug", "config": {}},
        {"id": "counter", "type": "io-in", "config": {"signal": "counter"}})
    assert response.status_code == 200
    assert await response.get_json() == {
        "outputs": {"r": 3, "d": 2, "show": 0, "counter": 1}, "errors": {}, "details": []}
    types = {t["type"]: t for t in await (await counting.client.get(
        "/api/nodes", headers=BEARER)).get_json()}
    assert (types["test-rules"]["outputs"], types["test-rules"]["outputs_from_config"]) == \
        (2, True)
    assert types["debug"]["outputs_from_config"] is False


async def test_a_config_the_server_cannot_count_gets_a_sentence_not_a_count(
        counting: Editor) -> None:
    response = await count_outputs(
        counting, {"id": "bad", "type": "test-rules", "config": {"rules": "many"}},
        {"id": "raises", "type": "test-answers", "config": {"answer": "raise"}},
        {"id": "huge", "type": "test-answers", "config": {"answer": 10 ** 9}},
        {"id": "odd", "type": "test-answers", "config": {"answer": "two"}},
        {"id": "ghost", "type": "test-nope", "config": {}},
        {"id": "ok", "type": "test-answers", "config": {"answer": 4}})
    assert response.status_code == 200
    body = await response.get_json()
    assert body["outputs"] == {"ok": 4}
    assert body["errors"] == {
        "bad": "/config/rules: must be a list",
        "raises": "/config: cannot tell how many outputs this config gives: test-answers's "
                  "output_count raised RuntimeError: no idea",
        "huge": "/config: cannot tell how many outputs this config gives: test-answers's "
                "output_count returned 1000000000: a node has 0 to 1,000 outputs",
        "odd": "/config: cannot tell how many outputs this config gives: test-answers's "
               "output_count returned 'two', not a whole number of outputs",
        "ghost": "/type: unknown node type 'test-nope'"}
    assert {"node": "bad", "pointer": "/config/rules", "message": "must be a list"} \
        in body["details"]


@pytest.mark.parametrize("body", ['[]', '{"nodes": {}}', '{"nodes": [{"id": 1}]}',
                                  '{"nodes": [{"id": "a"}]}', '{"nodes": ["a"]}'])
async def test_outputs_refuses_a_body_that_lists_no_nodes(counting: Editor, body: str) -> None:
    response = await counting.client.post("/api/outputs", headers=BEARER, data=body)
    assert response.status_code == 400
    assert (await response.get_json())["error"]


async def test_outputs_is_behind_the_same_host_token_and_origin_checks(
        counting: Editor) -> None:
    entry = {"id": "r", "type": "test-rules", "config": {}}
    assert (await count_outputs(counting, entry, headers={"Host": HOST})).status_code == 401
    foreign = await count_outputs(counting, entry, headers={**BEARER, "Host": "evil.example"})
    assert foreign.status_code == 403
    cookie = await signed_in(counting)
    no_origin = await count_outputs(counting, entry, headers={"Host": HOST, "Cookie": cookie})
    assert no_origin.status_code == 403
    assert (await count_outputs(counting, entry, headers={
        "Host": HOST, "Cookie": cookie, "Origin": ORIGIN})).status_code == 200


async def test_validate_names_a_node_whose_output_count_raises(counting: Editor) -> None:
    document, _ = await get_flow(counting)
    document["nodes"].append({"id": "odd", "type": "test-answers",
                              "config": {"answer": "raise"}, "wires": [["show"]]})
    response = await counting.client.post("/api/validate", headers=BEARER,
                                          data=json.dumps(document))
    assert response.status_code == 200
    assert (await response.get_json())["details"] == [{
        "node": "odd", "inner": "", "pointer": "/config",
        "message": "cannot tell how many outputs this config gives: test-answers's "
                   "output_count raised RuntimeError: no idea"}]
