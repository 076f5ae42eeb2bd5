"""The sparkplug-node's config schema: its Sparkplug fields, then mqtt-broker's fields
that Sparkplug leaves as they are, with the other servers of a multiple-server
infrastructure after the port."""

from __future__ import annotations

from typing import Any

from portless.nodes.mqtt.mqtt_broker import MqttBroker
from portless.nodes.sparkplug.topics import ID_ERROR, ID_PATTERN

_NOT_SPARKPLUG = {"clean_start", "session_expiry", "state_topic", "birth_payload",
                  "will_payload"}
"""mqtt-broker fields that Sparkplug decides instead."""

OTHER_SERVERS: dict[str, Any] = {
    "title": "Other servers", "type": "array", "default": [], "maxItems": 100,
    "x-destination": True,
    "description": "MQTT servers after host:port, in order, for a Sparkplug infrastructure "
                   "with several: the node is connected to one at a time and moves to the "
                   "next (after the last: host:port) on Node Control/Next Server, when the "
                   "primary host is offline there, and when a connection fails or is "
                   "lost. Each takes the same TLS, credentials and client id.",
    "items": {"type": "object", "additionalProperties": False, "required": ["host"],
              "properties": {
                  "host": {"title": "Host", "type": "string", "minLength": 1,
                           "description": "Server host name or address."},
                  "port": {"title": "Port", "type": ["integer", "null"], "minimum": 1,
                           "maximum": 65535, "default": None,
                           "description": "null: 1883, or 8883 with TLS."}}}}
"""Sparkplug's multiple MQTT server topology: where Next Server and the walk go."""


def _broker_fields() -> dict[str, Any]:
    """mqtt-broker's fields that Sparkplug leaves as they are, other servers after port."""
    fields: dict[str, Any] = {}
    for name, field in MqttBroker.schema["properties"].items():
        if name not in _NOT_SPARKPLUG:
            fields[name] = field
        if name == "port":
            fields["other_servers"] = OTHER_SERVERS
    return fields


def _sparkplug_id(title: str, description: str) -> dict[str, Any]:
    return {"title": title, "type": "string", "minLength": 1, "maxLength": 1000,
            "pattern": ID_PATTERN, "x-error": ID_ERROR, "description": description}


SCHEMA: dict[str, Any] = {
    "title": "Sparkplug edge node",
    "description": (
        "A Sparkplug B 3.0 edge node: the device's one outbound MQTT connection, "
        "speaking Sparkplug for the sparkplug-out and sparkplug-in nodes that name "
        "it. Sparkplug overrides mqtt-broker's habits here: a clean session (MQTT 5: "
        "Clean Start, session expiry 0), so commands sent while the device is away "
        "are not kept; the will is NDEATH with bdSeq (QoS 1, not retained) instead of "
        "a retained offline state; births and data are QoS 0. bdSeq is kept in the "
        "state directory and goes up by one on every CONNECT. Answers the host's "
        "Node Control/Rebirth itself; Node Control/Next Server moves it to the next "
        "of its servers. With a primary host, waits for its STATE online before "
        "NBIRTH, and on its offline publishes NDEATH, disconnects and starts again "
        "(on the next server, if there are several). Values made while there is no "
        "session are kept on disk and sent after the next birth as historical data "
        "(store and forward)."),
    "type": "object",
    "additionalProperties": False,
    "required": ["host", "group_id", "edge_node_id"],
    "properties": {
        "group_id": _sparkplug_id("Group id", "The Sparkplug group of this edge node."),
        "edge_node_id": _sparkplug_id("Edge node id", "This edge node's id in its "
                                                      "group."),
        "primary_host_id": {
            **_sparkplug_id("Primary host id", "Empty: none. Otherwise births wait "
                                               "for spBv1.0/STATE/<this id> online."),
            "minLength": 0, "pattern": f"({ID_PATTERN})|^$", "default": ""},
        "devices": {"title": "Devices", "type": "array",
                    "items": _sparkplug_id("Device id", "A device of this node."),
                    "default": [],
                    "description": "Device ids, each once: each gets a DBIRTH after "
                                   "NBIRTH and takes DCMD."},
        "store_and_forward": {
            "title": "Store and forward", "type": "boolean", "default": True,
            "description": "Keep values produced while there is no Sparkplug session "
                           "(link or primary host down) on disk, bounded by the outbox "
                           "limits below, and send them after the next birth, oldest "
                           "first, with is_historical and their own timestamps. Off: "
                           "they are dropped and counted."},
        **_broker_fields(),
    },
}
