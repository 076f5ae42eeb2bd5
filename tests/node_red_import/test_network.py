"""mqtt in, mqtt out and mqtt-broker: topics, QoS, formats, the broker's address, TLS and
login, and that no credential of the export ever reaches the converted config."""

from __future__ import annotations

import json
from typing import Any

import pytest

from portless.node_red_import.source import NotConvertible, Source
from tests.node_red_import.mapping import mapped, same_config

SECRET = "s3cret-do-not-copy"


@pytest.mark.parametrize(("datatype", "fmt"), [("auto-detect", "auto"), ("auto", "text"),
                                               ("utf8", "text"), ("buffer", "raw"),
                                               ("json", "json")])
def test_mqtt_in_formats(datatype: str, fmt: str) -> None:
    assert same_config({"type": "mqtt in", "topic": "plant/+/temp", "qos": "1",
                        "datatype": datatype, "broker": "b1", "nl": False, "rap": True,
                        "rh": 0, "inputs": 0}, "mqtt-in",
                       {"broker": "b1", "topic": "plant/+/temp", "qos": 1, "format": fmt})


@pytest.mark.parametrize(("node", "why"), [
    ({"topicType": "dynamic", "inputs": 1}, "dynamic subscriptions"),
    ({"datatype": "base64"}, "base64"),
    ({"qos": "3"}, "qos: '3' is not 0, 1 or 2"),
])
def test_mqtt_in_refused(node: dict[str, Any], why: str) -> None:
    with pytest.raises(NotConvertible, match=why):
        mapped({"type": "mqtt in", "topic": "t", "broker": "b1", **node})


def test_mqtt_out_publishes_text_as_node_red_does() -> None:
    made, notes = mapped({"type": "mqtt out", "topic": "", "qos": "", "retain": "",
                          "broker": "b1"})
    assert made.config == {"broker": "b1", "format": "text", "qos": 0}
    assert "msg.qos and msg.retain are not read" in notes[0]
    made, notes = mapped({"type": "mqtt out", "topic": "a/b", "qos": "2", "retain": "true",
                          "expiry": "60", "broker": "b1", "respTopic": "r"})
    assert made.config == {"broker": "b1", "format": "text", "qos": 2, "topic": "a/b",
                           "retain": True, "message_expiry": 60}
    assert "response topic" in notes[0]


def broker(**fields: Any) -> dict[str, Any]:
    return {"id": "b1", "type": "mqtt-broker", "broker": "broker.example", "port": "1883",
            "clientid": "", "usetls": False, "protocolVersion": "4", "keepalive": "60",
            "cleansession": True, "birthTopic": "", "willTopic": "", "closeTopic": "",
            **fields}


def test_a_broker_without_a_login_in_the_export_says_where_one_would_go() -> None:
    made, notes = mapped(broker())
    assert made.config == {"host": "broker.example", "port": 1883, "protocol": "3.1.1",
                           "keepalive": 60, "clean_start": True, "state_topic": ""}
    assert notes == ["Node-RED keeps a broker's login out of its export: if it needs one, "
                     "set username and password to ${MQTT_B1_USERNAME} and "
                     "${MQTT_B1_PASSWORD}"]


def test_credentials_in_the_export_become_placeholders_never_values() -> None:
    made, notes = mapped(broker(credentials={"user": "plant", "password": SECRET}))
    assert made.config["username"] == "${MQTT_B1_USERNAME}"
    assert made.config["password"] == "${MQTT_B1_PASSWORD}"
    assert SECRET not in json.dumps(made.config) + " ".join(notes)
    assert "plant" not in json.dumps(made.config)


def test_tls_settings_come_from_the_tls_config() -> None:
    tls = {"id": "t1", "type": "tls-config", "cert": "/etc/dev.crt", "key": "/etc/dev.key",
           "ca": "/etc/ca.pem", "servername": "mqtt.example", "verifyservercert": True,
           "credentials": {"passphrase": SECRET}}
    source = Source(broker(usetls=True, tls="t1", port="8883", protocolVersion="5",
                           sessionExpiry="3600"), lookup={"t1": tls}.get)
    made = mapped_with(source)
    assert made["tls"] == {"ca_file": "/etc/ca.pem", "cert_file": "/etc/dev.crt",
                           "key_file": "/etc/dev.key", "server_name": "mqtt.example"}
    assert made["protocol"] == "5"
    assert made["session_expiry"] == 3600
    assert SECRET not in json.dumps(made) + " ".join(source.notes)


def test_uploaded_certificates_are_placeholders_and_no_verify_is_said_loudly() -> None:
    tls = {"id": "t1", "type": "tls-config", "caname": "ca.pem", "verifyservercert": False}
    source = Source(broker(usetls=True, tls="t1"), lookup={"t1": tls}.get)
    made = mapped_with(source)
    assert made["tls"] == {"ca_file": "${MQTT_B1_CA_FILE}", "verify": False}
    assert any("NOT verified" in note for note in source.notes)


def mapped_with(source: Source) -> dict[str, Any]:
    from portless.node_red_import.network import mqtt_broker

    return mqtt_broker(source).config


@pytest.mark.parametrize(("address", "host", "port", "tls"), [
    ("mqtts://broker.example:8884", "broker.example", 8884, True),
    ("mqtt://10.0.0.5", "10.0.0.5", 1883, False),
])
def test_a_broker_given_as_url(address: str, host: str, port: int, tls: bool) -> None:
    made, _ = mapped(broker(broker=address))
    assert (made.config["host"], made.config["port"], "tls" in made.config) == (host, port, tls)


def test_mqtt_over_websocket_is_not_converted() -> None:
    with pytest.raises(NotConvertible, match="WebSocket"):
        mapped(broker(broker="wss://broker.example/mqtt"))


def test_birth_and_will_share_the_state_topic() -> None:
    made, notes = mapped(broker(birthTopic="dev/1/state", birthPayload="up",
                                willTopic="dev/1/state", willPayload="down"))
    assert (made.config["state_topic"], made.config["birth_payload"],
            made.config["will_payload"]) == ("dev/1/state", "up", "down")
    assert any("one retained state topic" in note for note in notes)


def test_every_http_request_row_measured_against_node_red_comes_back() -> None:
    """test_http_request_node_red's rows: a portless config and the Node-RED node that
    answered the same (its node_red_node, the importer's inverse)."""
    from tests.nodes.http.test_http_request_node_red import ROWS, node_red_node

    assert len(ROWS) >= 20
    wrong = [case.id for case in ROWS
             if not same_config(node_red_node(case.config), "http-request", case.config)]
    assert wrong == []


def test_http_request_login_tls_and_proxy_are_placeholders_and_settings() -> None:
    tls = {"id": "t1", "type": "tls-config", "ca": "/etc/ca.pem", "verifyservercert": True}
    proxy = {"id": "p1", "type": "http proxy", "url": "http://proxy.example:3128",
             "noproxy": ["localhost", ".internal"], "credentials": {"username": "u",
                                                                    "password": SECRET}}
    node = {"id": "get", "type": "http request", "method": "use", "ret": "obj",
            "paytoqs": True, "url": "https://api.example/{{topic}}", "tls": "t1",
            "proxy": "p1", "persist": True, "authType": "bearer",
            "credentials": {"password": SECRET},
            "headers": [{"keyType": "Accept", "keyValue": "", "valueType": "other",
                         "valueValue": "application/json"},
                        {"keyType": "msg", "keyValue": "msg.name", "valueType": "msg",
                         "valueValue": "value"}]}
    source = Source(node, lookup={"t1": tls, "p1": proxy}.get)
    from portless.node_red_import.network import http_request

    config = http_request(source).config
    assert config == {
        "method": "msg.method", "url": "https://api.example/{{topic}}",
        "response_as": "json", "get_payload": "query", "keep_alive": True,
        "errors_to_catch_only": False, "auth_type": "bearer",
        "token": "${HTTP_GET_TOKEN}", "tls": {"ca_file": "/etc/ca.pem"},
        "proxy": "http://proxy.example:3128", "no_proxy": ["localhost", ".internal"],
        "proxy_username": "${HTTP_GET_PROXY_USERNAME}",
        "proxy_password": "${HTTP_GET_PROXY_PASSWORD}",
        "headers": [{"name": "Accept", "value": "application/json"},
                    {"name": "name", "name_from": "msg", "value": "value",
                     "value_from": "msg"}]}
    assert SECRET not in json.dumps(config) + " ".join(source.notes)
