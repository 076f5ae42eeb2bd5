"""What a Sparkplug host makes of the messages it receives: the topic's parts and the
payload, decoded with the datatypes each birth declared (data carries aliases only).
Used by ``portless sparkplug watch`` and the tests' host."""

from __future__ import annotations

from dataclasses import dataclass

from portless.nodes.sparkplug.metric import Metric
from portless.nodes.sparkplug.payload import Decoded, decode_payload
from portless.nodes.sparkplug.topics import NAMESPACE


@dataclass(frozen=True)
class Seen:
    """One Sparkplug message as a host reads it."""

    topic: str
    verb: str
    group: str
    edge_node: str
    device: str  # "" for the edge node's own messages
    payload: Decoded
    qos: int = 0
    retain: bool = False

    def metric(self, name: str) -> Metric:
        (found,) = [m for m in self.payload.metrics if m.name == name]
        return found

    @property
    def values(self) -> dict[str | int | None, object]:
        """Metric values by name (births) or alias (data)."""
        return {m.name if m.name is not None else m.alias: m.value
                for m in self.payload.metrics}


class HostView:
    """Decodes the messages of many edge nodes, remembering each birth's datatypes."""

    def __init__(self) -> None:
        self._known: dict[tuple[str, str, str], dict[str | int, str]] = {}

    def read(self, topic: str, data: bytes, qos: int = 0, retain: bool = False
             ) -> Seen | None:
        """The message decoded; None for a topic that is not a Sparkplug B one (STATE
        is JSON). MetricValueError if the payload does not decode."""
        parts = topic.split("/")
        if len(parts) not in (4, 5) or parts[0] != NAMESPACE or parts[1] == "STATE":
            return None
        group, verb, edge_node = parts[1:4]
        device = parts[4] if len(parts) == 5 else ""
        known = self._known.setdefault((group, edge_node, device), {})
        payload = decode_payload(data, known)
        if verb in ("NBIRTH", "DBIRTH"):
            known.clear()
            for metric in payload.metrics:
                if metric.alias is not None:
                    known[metric.alias] = metric.datatype
                if metric.name is not None:
                    known[metric.name] = metric.datatype
        return Seen(topic, verb, group, edge_node, device, payload, qos, retain)
