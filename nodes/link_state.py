"""The state of a shared connection's link as the nodes using it show it (mqtt-broker's,
modbus-connection's units)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from portless.runtime.node import Fill


@dataclass(frozen=True)
class LinkState:
    """What the connection is doing, as nodes show it under themselves."""

    fill: Fill
    text: str
    connected: bool = False


StateListener = Callable[[LinkState], None]
