"""Secrets at any depth of a node's config: masked in every answer, kept on disk when
sent back masked, but only for the same node with the same destination; ``${ENV}``
references cannot be added from the editor; the ETag gives nothing to guess with.
The page (editor/static/schema.js) finds the same secret fields as the server."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from portless.editor.flows import FlowService
from portless.editor.masking import SECRET_MASK, secret_fields
from portless.runtime import Node, Registry, canonical_text
from tests.editor.conftest import BEARER, Editor, running_editor

ROOT = Path(__file__).resolve().parents[2]


class Vault(Node):
    """A plugin-like node with secrets nested in an object and held in an array."""

    type = "test-vault"
    inputs = 0
    schema = {
        "type": "object", "additionalProperties": False,
        "properties": {
            "host": {"type": "string", "default": "vault.example", "x-destination": True},
            "label": {"type": "string", "default": ""},
            "tls": {"default": False, "x-destination": True, "oneOf": [
                {"const": False},
                {"type": "object", "additionalProperties": False, "properties": {
                    "ca_file": {"type": "string", "default": ""},
                    "key_password": {"type": "string", "default": "", "writeOnly": True},
                }}]},
            "accounts": {"type": "array", "default": [], "items": {
                "type": "object", "additionalProperties": False, "properties": {
                    "user": {"type": "string"},
                    "password": {"type": "string", "writeOnly": True}}}},
        },
    }


SECRETS = ("key-pw-nested-1", "account-pw-array-2", "s3cret-pw")
FLOW: dict[str, Any] = {"version": 1, "nodes": [
    {"id": "vault", "type": "test-vault", "config": {
        "label": "plant vault",
        "tls": {"ca_file": "/etc/ca.pem", "key_password": "key-pw-nested-1"},
        "accounts": [{"user": "valve-1", "password": "account-pw-array-2"},
                     {"user": "nobody"}]}},
    {"id": "broker", "type": "mqtt-broker",
     "config": {"host": "127.0.0.1", "port": 1, "password": "s3cret-pw",
                "username": "${MQTT_USER}", "reconnect_min_delay": 60}},
    {"id": "counter", "type": "io-in", "config": {"signal": "counter", "interval": 3600,
                                                   "topic": "device/${DEVICE}/count"}},
]}


@pytest.fixture
async def editor(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Editor]:
    monkeypatch.setenv("MQTT_USER", "valve-user")
    monkeypatch.setenv("DEVICE", "valve-1")
    monkeypatch.setenv("MQTT_PASSWORD", "env-password-3")
    registry = Registry.discover().copy()
    registry.add(Vault, "test")
    async with running_editor(tmp_path, FLOW, registry) as started:
        yield started


async def get_flow(editor: Editor) -> tuple[dict[str, Any], str]:
    response = await editor.client.get("/api/flow", headers=BEARER)
    assert response.status_code == 200
    return await response.get_json(), response.headers["ETag"]


async def put_flow(editor: Editor, document: Any, etag: str) -> Any:
    return await editor.client.put("/api/flow", headers={**BEARER, "If-Match": etag},
                                   data=json.dumps(document))


def node(document: dict[str, Any], node_id: str) -> dict[str, Any]:
    return next(n for n in document["nodes"] if n["id"] == node_id)


async def test_nested_and_array_held_secrets_are_masked(editor: Editor) -> None:
    response = await editor.client.get("/api/flow", headers=BEARER)
    text = await response.get_data(as_text=True)
    for secret in SECRETS:
        assert secret not in text
    config = node(json.loads(text), "vault")["config"]
    assert config["tls"] == {"ca_file": "/etc/ca.pem", "key_password": SECRET_MASK}
    assert config["accounts"] == [{"user": "valve-1", "password": SECRET_MASK},
                                  {"user": "nobody"}]


async def test_masked_nested_secrets_sent_back_keep_the_values_on_disk(
        editor: Editor) -> None:
    document, etag = await get_flow(editor)
    node(document, "vault")["config"]["label"] = "renamed vault"
    response = await put_flow(editor, document, etag)
    assert response.status_code == 200, await response.get_json()
    config = node(json.loads(editor.path.read_text()), "vault")["config"]
    assert config["tls"]["key_password"] == "key-pw-nested-1"
    assert config["accounts"][0]["password"] == "account-pw-array-2"
    assert config["label"] == "renamed vault"
    assert editor.engine.nodes["vault"].config["tls"]["key_password"] == "key-pw-nested-1"


@pytest.mark.parametrize(("node_id", "field", "value", "pointer"), [
    ("broker", "host", "attacker.example", "/config/password"),
    ("broker", "port", 1884, "/config/password"),
    ("broker", "tls", {"verify": False}, "/config/password"),
    ("vault", "host", "attacker.example", "/config/tls/key_password"),
    ("vault", "tls", {"ca_file": "/tmp/attacker-ca.pem", "key_password": SECRET_MASK},
     "/config/tls/key_password"),
])
async def test_a_masked_secret_is_not_sent_to_a_new_destination(
        editor: Editor, node_id: str, field: str, value: Any, pointer: str) -> None:
    before = editor.path.read_text()
    document, etag = await get_flow(editor)
    node(document, node_id)["config"][field] = value
    response = await put_flow(editor, document, etag)
    assert response.status_code == 400
    details = (await response.get_json())["details"]
    assert {"node": node_id, "pointer": pointer} in [
        {"node": d["node"], "pointer": d["pointer"]} for d in details]
    assert any("points elsewhere" in d["message"] for d in details)
    assert editor.path.read_text() == before


async def test_other_changes_keep_the_masked_secret(editor: Editor) -> None:
    document, etag = await get_flow(editor)
    node(document, "broker")["config"]["keepalive"] = 30
    response = await put_flow(editor, document, etag)
    assert response.status_code == 200, await response.get_json()
    assert node(json.loads(editor.path.read_text()), "broker")["config"]["password"] == \
        "s3cret-pw"


async def test_a_new_destination_with_the_secret_typed_again_is_deployed(
        editor: Editor) -> None:
    document, etag = await get_flow(editor)
    config = node(document, "broker")["config"]
    config["host"], config["password"] = "localhost", "typed-again"
    response = await put_flow(editor, document, etag)
    assert response.status_code == 200, await response.get_json()
    assert node(json.loads(editor.path.read_text()), "broker")["config"]["password"] == \
        "typed-again"


@pytest.mark.parametrize(("node_id", "field", "value"), [
    ("counter", "topic", "${MQTT_PASSWORD}"),        # shown in the debug sidebar
    ("counter", "topic", "leak/${MQTT_USER}"),       # a name not on disk at this field
    ("broker", "client_id", "${MQTT_PASSWORD}"),     # sent in CONNECT, logged
    ("broker", "password", "${MQTT_PASSWORD}"),      # a secret field, but a new reference
])
async def test_the_editor_cannot_add_environment_references(
        editor: Editor, node_id: str, field: str, value: str) -> None:
    before = editor.path.read_text()
    document, etag = await get_flow(editor)
    node(document, node_id)["config"][field] = value
    response = await put_flow(editor, document, etag)
    assert response.status_code == 400
    (detail,) = [d for d in (await response.get_json())["details"]
                 if d["pointer"] == f"/config/{field}"]
    assert detail["node"] == node_id
    assert "cannot be added from the editor" in detail["message"]
    assert editor.path.read_text() == before
    assert "env-password-3" not in await response.get_data(as_text=True)


async def test_references_the_file_has_are_kept(editor: Editor) -> None:
    document, etag = await get_flow(editor)
    assert node(document, "broker")["config"]["username"] == "${MQTT_USER}"
    node(document, "counter")["config"]["interval"] = 1800
    response = await put_flow(editor, document, etag)
    assert response.status_code == 200, await response.get_json()
    assert editor.engine.nodes["counter"].config["topic"] == "device/valve-1/count"


async def test_the_etag_is_keyed_so_it_cannot_be_used_to_guess_a_password(
        editor: Editor) -> None:
    _, etag = await get_flow(editor)
    text = canonical_text(json.loads(editor.path.read_text()))
    assert etag.strip('"') != hashlib.sha256(text.encode()).hexdigest()[:32]
    restarted = FlowService(editor.path, editor.engine, editor.engine.registry)
    assert restarted.etag() != etag.strip('"')  # a new key at every start
    assert restarted.etag() == restarted.etag()  # but stable within one


# --- one rule in the server and the page -------------------------------------------
CASES: list[tuple[str, dict[str, Any], Any]] = [
    ("top level", {"properties": {"password": {"type": "string", "writeOnly": True}}},
     {"password": "x"}),
    ("empty is no secret", {"properties": {"password": {"writeOnly": True}}},
     {"password": ""}),
    ("nested in oneOf", Vault.schema, FLOW["nodes"][0]["config"]),
    ("array items", {"properties": {"keys": {"type": "array", "items": {
        "type": "string", "writeOnly": True}}}}, {"keys": ["a", "", "b"]}),
    ("prefix items", {"properties": {"pair": {"prefixItems": [
        {"type": "string"}, {"type": "string", "writeOnly": True}]}}},
     {"pair": ["user", "pw"]}),
    ("additional properties", {"additionalProperties": {"type": "object", "properties": {
        "token": {"writeOnly": True}}}}, {"a/b": {"token": "t"}, "c~d": {"token": 5}}),
    ("if/then branch", {"if": {"properties": {"kind": {"const": "x"}}},
                        "then": {"properties": {"secret": {"writeOnly": True}}}},
     {"kind": "x", "secret": "s"}),
    ("allOf", {"allOf": [{"properties": {"deep": {"properties": {
        "k": {"writeOnly": True}}}}}]}, {"deep": {"k": "v", "other": "w"}}),
    ("wrong shapes", Vault.schema, {"tls": "yes", "accounts": {"0": 1}}),
]


@pytest.mark.slow  # runs the page's module in Node.js, a subprocess
@pytest.mark.skipif(shutil.which("node") is None,
                    reason="needs Node.js to run the page's ES module outside a browser")
def test_the_page_finds_the_same_secret_fields_as_the_server() -> None:
    expected = [sorted(where for _, _, where in secret_fields(schema, config))
                for _, schema, config in CASES]
    script = (f"import {{ secretFields }} from {json.dumps(str(ROOT / 'editor/static/schema.js'))};"
              "const cases = JSON.parse(process.argv[1]);"
              "console.log(JSON.stringify(cases.map(([s, c]) => "
              "secretFields(s, c).map((f) => f.pointer).sort())));")
    cases = json.dumps([[schema, config] for _, schema, config in CASES])
    result = subprocess.run(
        ["node", "--experimental-default-type=module", "--input-type=module", "-e", script,
         cases], capture_output=True, text=True, timeout=30, check=True)
    found = json.loads(result.stdout)
    for (name, _, _), server, page in zip(CASES, expected, found, strict=True):
        assert page == server, name
    assert expected[2] == ["/accounts/0/password", "/tls/key_password"]


@pytest.mark.slow  # runs the page's module in Node.js, a subprocess
@pytest.mark.skipif(shutil.which("node") is None,
                    reason="needs Node.js to run the page's ES module outside a browser")
def test_after_a_deploy_the_page_holds_nested_secrets_masked() -> None:
    """What the page keeps (and so exports) after a deploy is what a reload would show."""
    script = (f"import {{ Model }} from {json.dumps(str(ROOT / 'editor/static/model.js'))};"
              "const [schema, doc] = JSON.parse(process.argv[1]);"
              "const model = new Model();"
              "model.setTypes([{type: 'test-vault', schema, inputs: 0, outputs: 0}]);"
              "model.load(doc, 'etag');"
              "console.log(JSON.stringify(model.toDocument()));")
    typed = json.loads(json.dumps(FLOW["nodes"][0]))  # the secrets as just typed
    result = subprocess.run(
        ["node", "--experimental-default-type=module", "--input-type=module", "-e", script,
         json.dumps([Vault.schema, {"version": 1, "nodes": [typed]}])],
        capture_output=True, text=True, timeout=30, check=True)
    (held,) = json.loads(result.stdout)["nodes"]
    for secret in SECRETS:
        assert secret not in json.dumps(held)
    assert held["config"]["tls"]["key_password"] == SECRET_MASK
    assert held["config"]["accounts"][0]["password"] == SECRET_MASK
    assert held["config"]["accounts"][1] == {"user": "nobody"}


async def validate_flow(editor: Editor, document: Any) -> Any:
    return await editor.client.post("/api/validate", headers=BEARER,
                                    data=json.dumps(document))


@pytest.mark.parametrize(("node_id", "field", "value"), [
    ("counter", "topic", "${MQTT_PASSWORD}"),
    ("broker", "host", "attacker.example"),  # the masked password would follow
])
async def test_validate_reports_what_a_deploy_from_the_editor_refuses(
        editor: Editor, node_id: str, field: str, value: str) -> None:
    """The page checks each change with POST /api/validate: it must not say "no
    problems" for a change the deploy then refuses."""
    document, etag = await get_flow(editor)
    node(document, node_id)["config"][field] = value
    checked = await validate_flow(editor, json.loads(json.dumps(document)))
    deployed = await put_flow(editor, document, etag)
    assert (checked.status_code, deployed.status_code) == (200, 400)
    assert (await checked.get_json())["details"] == (await deployed.get_json())["details"]
    assert "env-password-3" not in await checked.get_data(as_text=True)
    assert "s3cret-pw" not in await checked.get_data(as_text=True)


async def test_validate_of_the_flow_as_the_page_holds_it_finds_nothing(
        editor: Editor) -> None:
    document, _ = await get_flow(editor)  # masks and the file's references, as shown
    response = await validate_flow(editor, document)
    assert await response.get_json() == {"errors": [], "details": []}
