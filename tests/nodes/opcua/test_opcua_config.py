"""Hostile and mistaken OPC UA configs are refused when the flow is checked, each with
a sentence naming the node and the field; and loading the node types costs no asyncua."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest

from portless.runtime import FlowInvalid, Registry
from portless.runtime.flow import check_flow


@pytest.fixture(scope="module")
def registry() -> Registry:
    return Registry.discover()


def errors(registry: Registry, connection: dict[str, Any] | None = None,
           reader: dict[str, Any] | None = None,
           writer: dict[str, Any] | None = None) -> list[str]:
    nodes = [{"id": "plc", "type": "opcua-connection",
              "config": {"endpoint": "opc.tcp://127.0.0.1:4840", **(connection or {})}}]
    if reader is not None:
        nodes.append({"id": "in", "type": "opcua-in",
                      "config": {"connection": "plc",
                                 "items": [{"node_id": "ns=2;s=Valve1.Flow"}], **reader}})
    if writer is not None:
        nodes.append({"id": "out", "type": "opcua-out",
                      "config": {"connection": "plc", **writer}})
    try:
        check_flow({"version": 1, "nodes": nodes}, registry, env={"PLC_PASSWORD": "x"})
    except FlowInvalid as exc:
        return [str(error).removeprefix("<flow>: ") for error in exc.errors]
    return []


NODE_ID = ("must be an OPC UA node id such as ns=2;s=Valve1.Flow or i=2258: optional "
           "ns=<index>; then i=<number>, s=<text>, g=<GUID> or b=<base64>, without "
           "control characters")
ENDPOINT = ("must be an OPC UA endpoint URL such as opc.tcp://plc-1.local:4840 (no user "
            "name or password in it, no spaces or control characters)")

CONNECTION_CASES = [
    ({"endpoint": "http://plc:4840"}, "node plc: /config/endpoint: " + ENDPOINT),
    ({"endpoint": "opc.tcp://admin:secret@plc:4840"}, "node plc: /config/endpoint: " + ENDPOINT),
    ({"endpoint": "opc.tcp://plc:4840/\u0000"}, "node plc: /config/endpoint: " + ENDPOINT),
    ({"endpoint": "opc.tcp://" + "p" * 3000}, "node plc: /config/endpoint: " + ENDPOINT),
    ({"security": {"certificate_file": "c.pem", "private_key_file": "c.key"}},
     "node plc: /config/security/trust: required field is missing"),
    ({"security": {"mode": "None", "certificate_file": "c", "private_key_file": "k",
                   "trust": "t"}},
     'node plc: /config/security/mode: must be one of "SignAndEncrypt" or "Sign"'),
    ({"security": {"policy": "Basic128Rsa15", "certificate_file": "c",
                   "private_key_file": "k", "trust": "t"}},
     'node plc: /config/security/policy: must be "Basic256Sha256"'),
    ({"security": True}, "node plc: /config/security: must be false (security None) or the "
     "Basic256Sha256 settings"),
    ({"session_timeout": 0}, "node plc: /config/session_timeout: must be at least 1"),
    ({"request_timeout": float("nan")},
     "node plc: /config/request_timeout: must be a finite number"),
    ({"keepalive": "5"}, "node plc: /config/keepalive: must be a number"),
    ({"password": "p" * 2000}, "node plc: /config/password: must be at most 1024 "
     "characters long"),
]


@pytest.mark.parametrize(("config", "expected"), CONNECTION_CASES)
def test_connection_config_refused(registry: Registry, config: dict[str, Any],
                                   expected: str) -> None:
    assert any(error.startswith(expected) for error in errors(registry, config))


READER_CASES = [
    ({"items": []}, "node in: /config/items: must hold at least 1 item"),
    ({"items": [{"node_id": "Valve1.Flow"}]}, "node in: /config/items/0/node_id: " + NODE_ID),
    ({"items": [{"node_id": "ns=2;s=Valve\n1"}]}, "node in: /config/items/0/node_id: " + NODE_ID),
    ({"items": [{"node_id": "ns=2;i=abc"}]}, "node in: /config/items/0/node_id: " + NODE_ID),
    ({"items": [{"node_id": "ns=2;s=" + "x" * 5000}]}, "node in: /config/items/0/node_id: "
     + NODE_ID),
    ({"items": [{"node_id": "i=85", "name": "a\u0007b"}]},
     "node in: /config/items/0/name: must be text without control characters"),
    ({"items": [{"node_id": "i=85"}] * 10001},
     "node in: /config/items: must hold at most 10000 items"),
    ({"items": [{"node_id": "i=85", "colour": "red"}]},
     "node in: /config/items/0/colour: unknown field 'colour'"),
    ({"mode": "push"}, 'node in: /config/mode: must be one of "subscribe" or "poll"'),
    ({"publishing_interval": 1}, "node in: /config/publishing_interval: must be at least 10"),
    ({"poll_interval": -5}, "node in: /config/poll_interval: must be at least 10"),
    ({"queue_size": 0}, "node in: /config/queue_size: must be at least 1"),
    ({"queue_size": 1.5}, "node in: /config/queue_size: must be a whole number"),
    ({"deadband": {"percent": 150}}, "node in: /config/deadband/percent: must be at most 100"),
    ({"deadband": {"absolute": -1}}, "node in: /config/deadband/absolute: must be at least 0"),
    ({"deadband": 0.5}, "node in: /config/deadband: must be an object or null"),
    ({"deadband": {}}, "node in: /config/deadband: must hold at least 1 field"),
    ({"deadband": {"absolute": 1, "percent": 2}},
     "node in: /config/deadband: must hold at most 1 field"),
]


@pytest.mark.parametrize(("config", "expected"), READER_CASES)
def test_reader_config_refused(registry: Registry, config: dict[str, Any],
                               expected: str) -> None:
    assert any(error.startswith(expected) for error in errors(registry, reader=config))


WRITER_CASES = [
    ({"node_id": "Valve1.Flow"}, "node out: /config/node_id: " + NODE_ID),
    ({"node_id": "ns=2;s=\u0000"}, "node out: /config/node_id: " + NODE_ID),
    ({"fields": [{"field": "", "node_id": "i=85"}]},
     "node out: /config/fields/0/field: must not be empty"),
    ({"fields": [{"field": "flow", "node_id": "flow"}]},
     "node out: /config/fields/0/node_id: " + NODE_ID),
    ({"fields": [{"field": "flow"}]}, "node out: /config/fields/0/node_id: required field "
     "is missing"),
    ({"fields": [{"field": "f", "node_id": "i=85"}] * 1001},
     "node out: /config/fields: must hold at most 1000 items"),
    ({"connect_wait": -1}, "node out: /config/connect_wait: must be at least 0"),
    ({"input_queue": {"size": 10**9}}, "node out: /config/input_queue/size: must be at most "
     "10000"),
]


@pytest.mark.parametrize(("config", "expected"), WRITER_CASES)
def test_writer_config_refused(registry: Registry, config: dict[str, Any],
                               expected: str) -> None:
    assert any(error.startswith(expected) for error in errors(registry, writer=config))


@pytest.mark.parametrize("node_id", [
    "ns=2;s=Valve1.Flow", "i=2258", "ns=1;i=5", "ns=3;s=Ventil Ä/Durchfluss",
    "ns=2;g=09087e75-8e5e-499b-954f-f2a9603db28a", "ns=4;b=aGVsbG8="])
def test_node_id_forms_accepted(registry: Registry, node_id: str) -> None:
    assert errors(registry, reader={"items": [{"node_id": node_id}]}) == []


def test_password_from_the_environment_is_accepted(registry: Registry) -> None:
    assert errors(registry, {"username": "operator", "password": "${PLC_PASSWORD}"},
                  reader={}) == []


def test_node_types_load_without_asyncua() -> None:
    """Registering the OPC UA node types (as every `portless run` does) imports no
    asyncua: it costs half a second, paid only by flows that use it."""
    code = ("import sys; from portless.runtime import Registry; Registry.discover(); "
            "print('asyncua' in sys.modules, 'cryptography' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True)
    assert result.stdout.split() == ["False", "False"]
