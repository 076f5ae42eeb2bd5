"""Sparkplug B topics: ``spBv1.0/<group>/<verb>/<edge node>[/<device>]`` and the
primary host's ``spBv1.0/STATE/<host>`` (specification chapter 4)."""

from __future__ import annotations

from dataclasses import dataclass

NAMESPACE = "spBv1.0"
ID_PATTERN = r"^[^+/#\u0000-\u001f\u007f-\u009f]+$"
"""A group, edge node, device or host id: UTF-8 without ``+``, ``/``, ``#`` (the
specification's rule) and without control characters (a topic cannot hold NUL)."""
ID_ERROR = "must be a Sparkplug id: not empty, no + / # and no control characters"


@dataclass(frozen=True)
class EdgeTopics:
    """The topics of one edge node."""

    group_id: str
    edge_node_id: str

    def node(self, verb: str) -> str:
        """NBIRTH, NDEATH, NDATA, NCMD."""
        return f"{NAMESPACE}/{self.group_id}/{verb}/{self.edge_node_id}"

    def device(self, verb: str, device_id: str) -> str:
        """DBIRTH, DDEATH, DDATA, DCMD of one device."""
        return f"{NAMESPACE}/{self.group_id}/{verb}/{self.edge_node_id}/{device_id}"

    def command_device(self, topic: str) -> str | None:
        """The device a DCMD topic names ("" for this node's NCMD); None if neither."""
        prefix = f"{NAMESPACE}/{self.group_id}/"
        if topic == self.node("NCMD"):
            return ""
        head = f"{prefix}DCMD/{self.edge_node_id}/"
        if topic.startswith(head) and "/" not in topic[len(head):]:
            return topic[len(head):]
        return None


def state_topic(host_id: str) -> str:
    """Where a Sparkplug 3.0 primary host says whether it is online (retained)."""
    return f"{NAMESPACE}/STATE/{host_id}"
