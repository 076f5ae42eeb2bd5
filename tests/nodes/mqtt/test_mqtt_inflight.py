"""The QoS 1 window (nodes/mqtt/mqtt_inflight.py) against a real mosquitto, observed on the
wire: over MQTT 5 exactly the broker's receive maximum (the birth message included,
SUBSCRIBE not counted), over 3.1.1 the configured ``inflight_window``; never one more."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from portless.nodes.mqtt.mqtt_broker import MqttBroker
from portless.testing import FlowHarness
from tests.mosquitto import Mosquitto
from tests.mqtt_proxy import InFlightProxy
from tests.nodes.mqtt.test_mqtt_broker import connected, flow, mqtt_in, out, until

pytestmark = pytest.mark.broker

MESSAGES = 300


@pytest.mark.parametrize(("protocol", "receive_maximum", "inflight_window", "window"), [
    ("5", 10, 100, 10),      # MQTT 5: the broker's receive maximum, not the setting
    ("3.1.1", 10, 7, 7),     # 3.1.1 has no receive maximum: the setting
])
async def test_qos1_in_flight_never_exceeds_the_window_and_fills_it(
        mosquitto_factory: Callable[..., Mosquitto], protocol: str, receive_maximum: int,
        inflight_window: int, window: int) -> None:
    broker = mosquitto_factory(max_inflight_messages=receive_maximum)
    async with InFlightProxy(broker.port) as proxy:
        document = flow({"port": proxy.port, "protocol": protocol,
                         "inflight_window": inflight_window,
                         "state_topic": "device/valve-1/state"},
                        out(topic="device/valve-1/flow", qos=1),
                        mqtt_in("cmd", "device/valve-1/cmd/#"))
        # The broker receives everything; the device hears no PUBACK, and no SUBACK: an
        # unacknowledged SUBSCRIBE takes no place in the window.
        proxy.hold_acks()
        async with FlowHarness(document) as h:
            await connected(h)
            node = h.engine.nodes["broker"]
            assert isinstance(node, MqttBroker)
            for n in range(MESSAGES):
                h.inject("out", {"payload": n})
            # The sender stops when its window is full, and all it sent is on the wire.
            await until(h, lambda: node._tracker is not None and node._tracker.full
                        and len(proxy.in_flight) >= window)
            assert proxy.peak == window
            proxy.release_acks()
            await until(h, lambda: node.outbox.count == 0, timeout=20)
    assert proxy.peak == window
    assert proxy.publishes == MESSAGES + 2  # and birth and offline state; nothing twice
    assert proxy.refusals == []             # mosquitto never said "quota exceeded"
