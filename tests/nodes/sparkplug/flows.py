"""Flows and waits shared by the Sparkplug tests."""

from __future__ import annotations

from typing import Any

from portless.testing import FlowHarness
from tests.sparkplug_host import SparkplugHost

GROUP, EDGE = "plant", "valve-1"


def edge_flow(port: int, node: dict[str, Any] | None = None,
              outs: list[dict[str, Any]] | None = None, with_in: bool = False
              ) -> dict[str, Any]:
    """A sparkplug-node (devices pump-1 and pump-2), sparkplug-outs ``out0``, ``out1``…
    and optionally a sparkplug-in ``in``."""
    nodes: list[dict[str, Any]] = [
        {"id": "edge", "type": "sparkplug-node",
         "config": {"host": "127.0.0.1", "port": port, "group_id": GROUP,
                    "edge_node_id": EDGE, "devices": ["pump-1", "pump-2"],
                    "reconnect_min_delay": 0.05, "reconnect_max_delay": 0.2,
                    **(node or {})}}]
    for index, out in enumerate(outs if outs is not None else [{}]):
        nodes.append({"id": f"out{index}", "type": "sparkplug-out",
                      "config": {"node": "edge", **out}})
    if with_in:
        nodes.append({"id": "in", "type": "sparkplug-in", "config": {"node": "edge"}})
    return {"version": 1, "nodes": nodes}


async def connected(h: FlowHarness, text: str = "connected") -> None:
    await h.wait_event(lambda e: e.node_id == "edge" and e.kind == "status"
                       and e.data.get("text") == text)


async def born(h: FlowHarness, host: SparkplugHost) -> None:
    """Wait until the node is connected and the host has its NBIRTH and both DBIRTHs."""
    await connected(h)
    await host.wait_for("DBIRTH", 2)
