"""sparkplug-in: the host's commands (NCMD, DCMD) to a sparkplug-node, as messages."""

from __future__ import annotations

from typing import cast

from portless.nodes.sparkplug.metric import Metric
from portless.nodes.sparkplug.sparkplug_node import SparkplugNode
from portless.runtime import Node, make_message


class SparkplugIn(Node):
    type = "sparkplug-in"
    category = "network"
    color = "#d8bfd8"
    icon = "bridge"
    inputs = 0
    outputs = 1
    schema = {
        "title": "Sparkplug in",
        "description": (
            "Emits every command metric the host writes to the edge node (NCMD) or its "
            "devices (DCMD) as `{topic: metric name, payload: value, device, "
            "sparkplug: {datatype, alias, timestamp}}`; `device` is empty for NCMD. "
            "Node Control/Rebirth and Next Server are answered by the sparkplug-node "
            "itself and not emitted."),
        "type": "object",
        "additionalProperties": False,
        "required": ["node"],
        "properties": {
            "node": {"title": "Edge node", "type": "string", "x-ref": "sparkplug-node",
                     "description": "The sparkplug-node whose commands to emit."},
            "commands": {"title": "Commands", "enum": ["all", "node", "device"],
                         "default": "all",
                         "description": "all: NCMD and DCMD; node: NCMD only; device: "
                                        "DCMD of `device` only."},
            "device": {"title": "Device", "type": "string", "default": "",
                       "description": "With commands = device: which device."},
        },
    }

    async def start(self) -> None:
        node = cast(SparkplugNode, self.shared_node(self.config["node"]))
        if self.config["commands"] == "device" and not self.config["device"]:
            raise ValueError("device: commands = device needs a device id")
        self._unlisten = node.add_command_listener(self._on_command)

    async def stop(self) -> None:
        self._unlisten()

    def _on_command(self, device: str, metric: Metric, name: str) -> None:
        commands = self.config["commands"]
        if (commands == "node" and device) or (commands == "device"
                                              and device != self.config["device"]):
            return
        msg = make_message(metric.value, name)
        msg["device"] = device
        msg["sparkplug"] = {"datatype": metric.datatype, "alias": metric.alias,
                            "timestamp": metric.timestamp}
        self.send(msg)
