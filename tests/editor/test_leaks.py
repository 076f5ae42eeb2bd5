"""Every way a value leaves the process, checked for secrets: the API (flow, validate,
deploy answers and their errors), the websocket (status, warnings, debug of whole
messages), the log at DEBUG level, and what the page exports (it exports what
GET /api/flow gave it). No writeOnly value and no value taken from the environment
may appear in any of them. Against a real mosquitto that checks the password."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from portless.runtime import Registry
from tests.editor.conftest import BEARER, ORIGIN, Editor, running_editor
from tests.mosquitto import Mosquitto

ENV_PASSWORD = "envpw-LEAK-7a9"
ENV_USER = "envuser-LEAK-5d2"
ENV_TOPIC_PART = "envtopic-LEAK-1b8"
LITERAL_PASSWORD = "literal-LEAK-3c1"
SECRETS = (ENV_PASSWORD, ENV_USER, LITERAL_PASSWORD)
"""The credentials. A value a flow routes into its messages (a topic built from
${SITE}) is the flow's data, shown where messages are shown; the editor's own answers
show its ``${NAME}`` instead (checked below)."""


def leak_flow(port: int) -> dict[str, Any]:
    return {"version": 1, "nodes": [
        {"id": "good-broker", "type": "mqtt-broker", "config": {
            "host": "127.0.0.1", "port": port, "username": "${MQTT_USER}",
            "password": "${MQTT_PASSWORD}", "state_topic": "device/${SITE}/state"}},
        {"id": "wrong-broker", "type": "mqtt-broker", "config": {
            "host": "127.0.0.1", "port": port, "username": "${MQTT_USER}",
            "password": LITERAL_PASSWORD, "client_id": "second", "reconnect_min_delay": 60}},
        {"id": "reader", "type": "io-in", "wires": [["publish", "show-all"]],
         "config": {"signal": "counter", "interval": 3600}},
        {"id": "publish", "type": "mqtt-out",
         "config": {"broker": "good-broker", "topic": "device/out", "qos": 1}},
        {"id": "commands", "type": "mqtt-in", "wires": [["show-all"]],
         "config": {"broker": "good-broker", "topic": "device/out"}},
        {"id": "show-all", "type": "debug", "config": {"whole_message": True}},
    ]}


@pytest.fixture
async def editor(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                 mosquitto_factory: Callable[..., Mosquitto]) -> AsyncIterator[Editor]:
    broker = mosquitto_factory(users={ENV_USER: ENV_PASSWORD})
    monkeypatch.setenv("MQTT_USER", ENV_USER)
    monkeypatch.setenv("MQTT_PASSWORD", ENV_PASSWORD)
    monkeypatch.setenv("SITE", ENV_TOPIC_PART)
    async with running_editor(tmp_path, leak_flow(broker.port), Registry.discover()) as started:
        yield started


def assert_no_secret(where: str, text: str) -> None:
    for secret in SECRETS:
        assert secret not in text, f"{secret} leaked through {where}"


async def frames_until(editor: Editor, done: Callable[[list[dict[str, Any]]], bool]
                       ) -> list[dict[str, Any]]:
    seen: list[dict[str, Any]] = []
    async with editor.client.websocket("/api/ws", headers={**BEARER, "Origin": ORIGIN}
                                       ) as socket, asyncio.timeout(15):
        while not done(seen):
            seen.extend(json.loads(await socket.receive()))
    return seen


def status_of(frames: list[dict[str, Any]], node_id: str) -> str:
    return " ".join(f["text"] for f in frames if f["kind"] == "status" and f["node"] == node_id)


@pytest.mark.broker
async def test_no_secret_leaves_the_process(editor: Editor,
                                            caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    # the websocket: both links' status in words, and a whole message through MQTT
    frames = await frames_until(editor, lambda seen: "connected" in status_of(
        seen, "good-broker") and "refused" in status_of(seen, "wrong-broker"))
    editor.engine.inject("reader")
    frames += await frames_until(editor, lambda seen: any(
        f["kind"] == "debug" and f["node"] == "show-all" and '"device/out"' in f["text"]
        for f in seen))
    assert_no_secret("the websocket", json.dumps(frames))

    # the API: the flow, a validate, a refused deploy (its errors), a good deploy
    response = await editor.client.get("/api/flow", headers=BEARER)
    text = await response.get_data(as_text=True)
    assert_no_secret("GET /api/flow (and so the page's exports)", text)
    assert ENV_TOPIC_PART not in text
    document, etag = json.loads(text), response.headers["ETag"]
    broken = json.loads(text)
    broken["nodes"][0]["config"]["host"] = "attacker.example"
    broken["nodes"][1]["config"]["keepalive"] = "x"
    for method, path in (("POST", "/api/validate"), ("PUT", "/api/flow")):
        answer = await editor.client.open(path, method=method, data=json.dumps(broken),
                                          headers={**BEARER, "If-Match": etag})
        assert answer.status_code in (200, 400)
        assert (await answer.get_json())["errors"]
        assert_no_secret(f"{method} {path} errors", await answer.get_data(as_text=True))
    document["nodes"][1]["config"]["keepalive"] = 30  # restarts the wrong broker
    answer = await editor.client.put("/api/flow", data=json.dumps(document),
                                     headers={**BEARER, "If-Match": etag})
    assert answer.status_code == 200
    assert_no_secret("the deploy answer", await answer.get_data(as_text=True))
    frames = await frames_until(editor, lambda seen: "refused" in status_of(
        seen, "wrong-broker"))
    assert_no_secret("the websocket after a deploy", json.dumps(frames))

    # indirectly: a topic pointed at the password would show it in every debug message
    sneaky = json.loads(text)
    sneaky["nodes"][2]["config"]["topic"] = "${MQTT_PASSWORD}"
    answer = await editor.client.put("/api/flow", data=json.dumps(sneaky), headers={
        **BEARER, "If-Match": answer.headers["ETag"]})
    assert answer.status_code == 400
    editor.engine.inject("reader")
    frames = await frames_until(editor, lambda seen: any(
        f["kind"] == "debug" and f["node"] == "show-all" for f in seen))
    assert_no_secret("a debug message", json.dumps(frames))

    # the log, at DEBUG, of all of the above
    assert_no_secret("the log", caplog.text)
    # and the file on disk still holds the references, not the values
    on_disk = editor.path.read_text()
    assert "${MQTT_PASSWORD}" in on_disk
    assert ENV_PASSWORD not in on_disk
