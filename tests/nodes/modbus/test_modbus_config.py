"""Bad and hostile Modbus configs are refused when the flow is checked, each with a
sentence naming the node and the field, before anything is sent to a device."""

from __future__ import annotations

from typing import Any

import pytest

from portless.runtime import FlowInvalid, Registry, check_flow
from tests.nodes.modbus.flows import connection, flow, poll

REGISTRY = Registry.discover()


def errors_of(document: dict[str, Any]) -> list[str]:
    with pytest.raises(FlowInvalid) as caught:
        check_flow(document, REGISTRY)
    return [f"{error.node_id} {error.pointer}: {error.message}"
            for error in caught.value.errors]


def point(**fields: Any) -> dict[str, Any]:
    return {"name": "p", "address": 0, **fields}


@pytest.mark.parametrize(("points", "expected"), [
    ([point(address=70000)], "group /config/points/0/address: must be at most 65535"),
    ([point(address=-1)], "group /config/points/0/address: must be at least 0"),
    ([point(type="string", registers=0)],
     "group /config/points/0/registers: must be at least 1"),
    ([point(type="string", registers=1000)],
     "group /config/points/0/registers: must be at most 123"),
    ([], "group /config/points: must hold at least 1 item"),
    ([point(type="float64", address=65533)],
     "group /config/points/0/address: a float64 at 65533 would end at 65536, past the "
     "last address (65535)"),
    ([point(type="string", registers=100, address=65500)],
     "group /config/points/0/address: a string at 65500 would end at 65599, past the "
     "last address (65535)"),
    ([point(type="bool")], "group /config/points/0/type: a holding register holds a "
                           "number or a string, not a bool (use a coil)"),
    ([point(table="coil", type="int16")],
     "group /config/points/0/type: a coil or discrete input is a bool"),
    ([point(scale=0)], "group /config/points/0/scale: must not be 0"),
    ([point(), point(address=1)],
     "group /config/points/1/name: another point (/points/0) has the same name"),
    ([point(name="a\nb")], "group /config/points/0/name: must be a name without control "
                           "characters (1 to 200 characters)"),
    ([point(type="float128")], "group /config/points/0/type: must be one of"),
    ([point(order="ADBC")], "group /config/points/0/order: must be one of"),
    ([point(address=1.5)], "group /config/points/0/address: must be a whole number"),
    ([point(deadband=-1)], "group /config/points/0/deadband: must be at least 0"),
    ([{"address": 0}], "group /config/points/0/name: required field is missing"),
])
def test_bad_points_are_refused(points: list[dict[str, Any]], expected: str) -> None:
    errors = errors_of(flow(connection(502), poll("group", points)))
    assert any(error.startswith(expected) for error in errors), errors


@pytest.mark.parametrize(("config", "expected"), [
    ({"host": ""}, "plc /config/host: a TCP connection needs a host"),
    ({"transport": "rtu"}, "plc /config/serial_port: an RTU connection needs a serial port"),
    ({"transport": "rtu", "serial_port": "COM3"},
     "plc /config/serial_port: must be the path of a serial device"),
    ({"port": 70000}, "plc /config/port: must be at most 65535"),
    ({"timeout": 0}, "plc /config/timeout: must be more than 0"),
    ({"max_read_registers": 126}, "plc /config/max_read_registers: must be at most 125"),
    ({"max_read_bits": 2001}, "plc /config/max_read_bits: must be at most 2000"),
    ({"reconnect_min_delay": 5, "reconnect_max_delay": 1},
     "plc /config/reconnect_max_delay: must be at least the first reconnect delay"),
])
def test_bad_connections_are_refused(config: dict[str, Any], expected: str) -> None:
    plc = connection(502)
    plc["config"].update(config)
    errors = errors_of(flow(plc, poll("group", [point()])))
    assert any(error.startswith(expected) for error in errors), errors


@pytest.mark.parametrize(("config", "expected"), [
    ({"interval": 0}, "group /config/interval: must be at least 0.01"),
    ({"unit": 256}, "group /config/unit: must be at most 255"),
    ({"connection": "nowhere"}, "group /config/connection:"),
    ({"points": [point()] * 10_001}, "group /config/points: must hold at most"),
])
def test_bad_poll_groups_are_refused(config: dict[str, Any], expected: str) -> None:
    group = poll("group", [point()])
    group["config"].update(config)
    errors = errors_of(flow(connection(502), group))
    assert any(error.startswith(expected) for error in errors), errors


def test_a_good_config_passes() -> None:
    check_flow(flow(connection(502), poll("group", [
        point(name="a", type="string", registers=123, address=65413),
        point(name="b", table="coil", type="bool", address=65535)])), REGISTRY)
