"""sparkplug-out: messages to metrics of a sparkplug-node (NDATA, or DDATA of a device)."""

from __future__ import annotations

from typing import Any, cast

from portless.nodes.sparkplug.datatypes import DATATYPES, PROPERTY_DATATYPES
from portless.nodes.sparkplug.sparkplug_node import SparkplugNode
from portless.runtime import Message, Node
from portless.runtime.config import items_with_defaults


class SparkplugOut(Node):
    type = "sparkplug-out"
    category = "network"
    color = "#d8bfd8"
    icon = "bridge"
    inputs = 1
    outputs = 0
    schema = {
        "title": "Sparkplug out",
        "description": (
            "Publishes `msg.payload` as the value of a metric (named by `metric`, or by "
            "`msg.topic`) of the edge node or one of its devices. The datatype is the "
            "configured one, or inferred from the first value (boolean: Boolean, integer: "
            "Int64, number: Double, string: String, bytes: Bytes, a list: an array), and "
            "then fixed: a value of another type is an error, never a change of type. A "
            "metric the last birth did not carry makes the node send its births again "
            "first. Data is QoS 0: while there is no Sparkplug session it is dropped "
            "and counted. Report by exception: put an exception-filter in front. For a "
            "device, a message with `msg.death` true sends its DDEATH (the host marks it "
            "stale); its next value sends its DBIRTH again. Properties (engineering "
            "units, a description, Quality) go with the metric in every birth."),
        "type": "object",
        "additionalProperties": False,
        "required": ["node"],
        "properties": {
            "node": {"title": "Edge node", "type": "string", "x-ref": "sparkplug-node",
                     "description": "The sparkplug-node to publish through."},
            "device": {"title": "Device", "type": "string", "default": "",
                       "description": "One of the node's devices (DDATA); empty: the "
                                      "edge node's own metrics (NDATA)."},
            "metric": {"title": "Metric", "type": "string", "default": "",
                       "maxLength": 1000,
                       "description": "Metric name, e.g. Valve/Flow; empty: msg.topic."},
            "datatype": {"title": "Datatype", "enum": ["", *DATATYPES], "default": "",
                         "description": "Empty: inferred from the first value. With a "
                                        "metric name, the metric is in the first birth, "
                                        "null until its first value."},
            "properties": {
                "title": "Properties", "type": "array", "default": [], "maxItems": 100,
                "description": "Metric properties, carried in every birth of the metric "
                               "(NBIRTH or DBIRTH), e.g. engUnit = m3/h. The datatype is "
                               "inferred when empty (Boolean, Int64, Double, String); "
                               "Quality, the one the specification names, is an Int32 "
                               "of 0 (bad), 192 (good) or 500 (stale).",
                "items": {"type": "object", "additionalProperties": False,
                          "required": ["name", "value"], "properties": {
                              "name": {"title": "Name", "type": "string", "minLength": 1,
                                       "maxLength": 1000},
                              "value": {"title": "Value",
                                        "type": ["string", "number", "boolean"]},
                              "datatype": {"title": "Datatype",
                                           "enum": ["", *PROPERTY_DATATYPES],
                                           "default": ""}}}},
        },
    }

    async def start(self) -> None:
        from portless.nodes.sparkplug.metric_properties import properties_from_config  # protobuf

        config = self.config
        self._node = cast(SparkplugNode, self.shared_node(config["node"]))
        self._device = config["device"]
        if self._device and not self._node.book.has_device(self._device):
            raise ValueError(f"device: {self._device!r} is not one of the devices of "
                             f"sparkplug-node {config['node']}")
        try:
            self._properties = properties_from_config(items_with_defaults(
                self.schema["properties"]["properties"], config["properties"]))
        except ValueError as exc:
            raise ValueError(f"properties: {exc}") from None
        if config["metric"]:
            try:
                self._node.book.declare(self._device, config["metric"],
                                        config["datatype"] or None, self._properties)
            except ValueError as exc:  # MetricValueError too
                raise ValueError(f"metric: {exc}") from None

    def on_input(self, msg: Message) -> None:
        if msg.get("death") is True:
            if not self._device:
                self.error("msg.death is for a device: the edge node's own death is "
                           "NDEATH, sent when its connection ends", msg)
            else:
                self._node.device_death(self._device)
            return
        name: Any = self.config["metric"] or msg.get("topic")
        if not name or not isinstance(name, str):
            self.error("no metric name: set the node's metric or msg.topic", msg)
            return
        datatype = self.config["datatype"]
        try:
            if (datatype or self._properties) and not self.config["metric"]:
                # a name from msg.topic: typed, and given its properties, now
                self._node.book.declare(self._device, name, datatype or None,
                                        self._properties)
            self._node.publish_metric(self._device, name, msg.get("payload"))
        except ValueError as exc:  # MetricValueError too
            self.error(f"metric {name}: {exc}", msg)
