"""The one status a subflow instance shows, made from its inner nodes' statuses.

A subflow that names a ``status`` node shows that node's status (Node-RED's subflow
status node, without a message to it); one that names none shows the worst of its
nodes' (red before yellow before any other, the first in the file among equals), so a
failing inner node is never hidden behind a healthy one. Nested instances count as one
node of the instance around them, with the status they show.

It follows the bus's status events only while the flow has instances: a flow without
subflows pays nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from .events import Event, EventBus
from .subflow import SubflowInstance

Status = dict[str, Any]
_SEVERITY = {"red": 0, "yellow": 1}


class InstanceStatuses:
    """Publishes a ``status`` event for an instance (its id) whenever what it shows
    changes; ``shown`` is what each shows now."""

    def __init__(self, events: EventBus) -> None:
        self._events = events
        self._unsubscribe: Callable[[], None] | None = None
        self._parent: dict[str, str] = {}
        """Inner node or nested instance -> the instance it is directly in."""
        self._members: dict[str, list[str]] = {}
        self._declared: dict[str, str | None] = {}
        self._seen: dict[str, Status] = {}
        self.shown: dict[str, Status] = {}

    def follow(self, instances: Iterable[SubflowInstance], node_ids: Iterable[str],
               statuses: Mapping[str, Status]) -> None:
        """Follow a flow's instances (none: stop following), starting from what its
        nodes show now; an instance gone, or showing something else, is published."""
        instances = list(instances)
        before, self.shown = self.shown, {}
        self._parent, self._members, self._seen = {}, {}, {}
        self._declared = {instance.id: instance.status for instance in instances}
        for member in [*node_ids, *self._declared]:
            parent = member.rpartition("/")[0]
            if parent in self._declared:
                self._parent[member] = parent
                self._members.setdefault(parent, []).append(member)
        self._seen = {node_id: status for node_id, status in statuses.items()
                      if node_id not in self._declared}
        if instances and self._unsubscribe is None:
            self._unsubscribe = self._events.subscribe(self._on_event)
        elif not instances and self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        # Innermost first: an instance shows what its nested instances show.
        for instance in sorted(self._declared, key=lambda id_: -id_.count("/")):
            self.shown[instance] = self._seen[instance] = self._status_of(instance)
        for instance in before.keys() - self.shown.keys():
            self._events.publish(Event("status", instance, {}))
        for instance, status in self.shown.items():
            if before.get(instance, {}) != status:
                self._events.publish(Event("status", instance, status))

    def _on_event(self, event: Event) -> None:
        parent = self._parent.get(event.node_id) if event.kind == "status" else None
        if parent is None or event.node_id in self._declared:
            return  # an instance's own event: _update already recorded it
        self._seen[event.node_id] = event.data
        self._update(parent)

    def _update(self, instance: str) -> None:
        status = self._status_of(instance)
        if status == self.shown.get(instance, {}):
            return
        self.shown[instance] = self._seen[instance] = status
        self._events.publish(Event("status", instance, status))
        parent = self._parent.get(instance)
        if parent is not None:
            self._update(parent)

    def _status_of(self, instance: str) -> Status:
        declared = self._declared[instance]
        if declared is not None:
            return self._seen.get(declared, {})
        shown = [status for member in self._members.get(instance, ())
                 if (status := self._seen.get(member))]
        return min(shown, key=lambda status: _SEVERITY.get(str(status.get("fill")), 2),
                   default={})
