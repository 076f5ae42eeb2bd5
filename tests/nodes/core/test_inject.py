"""inject: Node-RED's inject-node cases (test/nodes/core/common/20-inject_spec.js),
re-expressed as table rows, plus portless's own (marked "").

Of Node-RED's 42 cases, 18 are here. Left out: a Buffer payload (portless has no binary
kind), the NR_NODE_*/NR_FLOW_*/NR_GROUP_* environment variables (14: portless sets none),
the per-key context store prefix #:(store):: (6), the editor overriding the properties
for one inject (2) and the pre-props legacy config (1, the importer's job). Node-RED's
delays of 0.5 to 2 s run here as tenths of those, and its cron case on a test clock.
"""

from __future__ import annotations

import asyncio
import time
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from portless.nodes.core.inject import Inject
from portless.runtime import FlowInvalid, Message
from portless.testing import FlowHarness, run_node

NR = "20-inject_spec: "


def prop(name: str, kind: str, value: Any = None) -> dict[str, Any]:
    return {"property": name, "value": {"kind": kind, **({} if value is None else
                                                           {"value": value})}}


def topic_and_payload(kind: str, value: Any) -> list[dict[str, Any]]:
    return [prop("topic", "string", "t1"), prop("payload", kind, value)]


def document(config: dict[str, Any], node_type: str = "inject") -> dict[str, Any]:
    return {"version": 1, "nodes": [{"id": "n", "type": node_type, "config": config}]}


def shown(msg: Message) -> dict[str, Any]:
    return {key: value for key, value in msg.items() if key not in ("_msgid", "ts")}


VALUES = [  # (Node-RED case, properties, context before, what is sent)
    (NR + "inject value (num)", topic_and_payload("number", 10), {},
     {"topic": "t1", "payload": 10}),
    (NR + "inject value (str)", topic_and_payload("string", "10"), {},
     {"topic": "t1", "payload": "10"}),
    (NR + "inject value (bool)", topic_and_payload("boolean", True), {},
     {"topic": "t1", "payload": True}),
    (NR + "inject value (json)", topic_and_payload("json", {"x": "vx", "y": "vy", "z": "vz"}),
     {}, {"topic": "t1", "payload": {"x": "vx", "y": "vy", "z": "vz"}}),
    (NR + "inject value of environment variable", topic_and_payload("env", "PORTLESS_NR_TEST"),
     {}, {"topic": "t1", "payload": "foo"}),
    (NR + "sets the value of flow context property", topic_and_payload("flow", "flowValue"),
     {"flow": {"flowValue": "changeMe"}}, {"topic": "t1", "payload": "changeMe"}),
    (NR + "sets the value of global context property",
     topic_and_payload("global", "globalValue"), {"global": {"globalValue": "changeMe"}},
     {"topic": "t1", "payload": "changeMe"}),
    (NR + "should inject multiple properties",
     [prop("topic", "string", "t1"), prop("payload", "string", "foo"),
      prop("x", "number", 10), prop("y", "jsonata", "x+2")], {},
     {"topic": "t1", "payload": "foo", "x": 10, "y": 12}),
    ("", [prop("payload", "flow", "absent")], {}, {"topic": ""}),
    ("", [prop("payload", "flow", "line.level")], {"flow": {"line": {"level": 3}}},
     {"topic": "", "payload": 3}),
    ("", [prop("reading.value", "number", 1), prop("reading.unit", "string", "bar")], {},
     {"topic": "", "reading": {"value": 1, "unit": "bar"}}),
    ("", [prop("payload", "json", [1, {"a": None}])], {},
     {"topic": "", "payload": [1, {"a": None}]}),
    ("", [prop("payload", "timestamp", "iso")], {}, None),
]


async def pressed(properties: list[dict[str, Any]],
                  context: dict[str, dict[str, Any]]) -> Message:
    """What an inject node with these properties sends when its button is pressed."""
    async with FlowHarness(document({"properties": properties})) as h:
        for kind, values in context.items():
            for key, value in values.items():
                h.engine.context_of("n", kind).set(key, value)  # type: ignore[arg-type]
        h.inject("n")  # what the editor's button does
        [msg] = await h.wait_for("n")
    return msg


@pytest.mark.parametrize(("properties", "context", "expected"),
                         [row[1:] for row in VALUES],
                         ids=[row[0] or f"portless-{n}" for n, row in enumerate(VALUES)])
async def test_the_button_sends_the_properties(properties: list[dict[str, Any]],
                                               context: dict[str, dict[str, Any]],
                                               expected: dict[str, Any] | None,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PORTLESS_NR_TEST", "foo")
    msg = await pressed(properties, context)
    if expected is None:  # an ISO time in UTC
        assert datetime.fromisoformat(msg["payload"]).tzinfo is not None
    else:
        assert shown(msg) == expected


def test_the_default_sends_the_time_in_milliseconds_and_an_empty_topic() -> None:
    # Node-RED: "should inject once with default delay"
    before = int(time.time() * 1000)  # the node truncates to whole milliseconds
    run = run_node("inject", {"once": True})
    [msg] = run.outputs[0]
    assert msg["topic"] == ""
    assert before <= msg["payload"] <= time.time() * 1000


def test_a_property_the_message_cannot_hold_warns() -> None:
    run = run_node("inject", {"once": True, "once_delay": 0, "properties": [
        prop("payload", "string", "text"), prop("payload.level", "number", 1)]})
    assert shown(run.outputs[0][0]) == {"topic": "", "payload": "text"}
    assert run.warnings == ["cannot set msg.payload.level: a part of the way is not an "
                            "object or list"]


def test_an_expression_failing_on_the_message_is_an_error() -> None:
    run = run_node("inject", {"once": True, "once_delay": 0, "properties": [
        prop("payload", "jsonata", '$error("no level")')]})
    assert run.outputs == [[]]
    assert len(run.errors) == 1
    assert "no level" in run.errors[0]


@pytest.mark.parametrize(("config", "pointer"), [
    ({"properties": [prop("payload", "jsonata", "@")]}, "/properties/0/value/value"),
    ({"repeat": "cron"}, "/cron"),
    ({"repeat": "cron", "cron": "0 25 * * *"}, "/cron"),
    ({"repeat": "daily", "at": "7:30"}, "/at"),
    ({"days": []}, "/days"),
    ({"time_zone": "Mars/Olympus"}, "/time_zone"),
    ({"properties": [prop("payload", "msg", "topic")]}, "/properties/0/value/kind"),
])
def test_a_bad_config_is_refused_at_load(config: dict[str, Any], pointer: str) -> None:
    # Node-RED: "should report invalid JSONata expression" (on each inject, there)
    with pytest.raises(FlowInvalid, match=f"/config{pointer}"):
        run_node("inject", config)


TIMING = [  # (Node-RED case, config, messages to wait for, the soonest the first comes)
    (NR + "should inject once with default delay property", {"once": True}, 1, 0.1),
    (NR + "should inject once with 500 msec. delay", {"once": True, "once_delay": 0.05},
     1, 0.05),
    (NR + "should inject once with delay of two seconds", {"once": True, "once_delay": 0.2},
     1, 0.2),
    (NR + "should inject repeatedly", {"repeat": "interval", "interval": 0.02}, 3, 0.02),
    (NR + "should inject once with delay of two seconds and repeatedly",
     {"once": True, "once_delay": 0.12, "repeat": "interval", "interval": 0.02}, 3, 0.12),
]


@pytest.mark.parametrize(("config", "count", "soonest"), [row[1:] for row in TIMING],
                         ids=[row[0] for row in TIMING])
async def test_once_and_every_interval(config: dict[str, Any], count: int,
                                       soonest: float) -> None:
    loop = asyncio.get_running_loop()
    started = loop.time()  # before the node starts: its timer begins inside the harness
    async with FlowHarness(document(config)) as h:
        await h.wait_for("n", count)
        assert loop.time() - started >= soonest * 0.99
        assert [msg["topic"] for msg in h.received("n")][:count] == [""] * count


class ClockedInject(Inject):
    """An inject whose wall clock is the real one shifted: when it starts, it reads
    ``lead`` seconds before ``moment`` (a test sets both with ``clock_at``)."""

    type = "test-clocked-inject"
    moment = datetime(2026, 12, 7, tzinfo=ZoneInfo("UTC"))
    lead = 0.0
    offset = 0.0

    async def start(self) -> None:
        ClockedInject.offset = self.moment.timestamp() - self.lead - time.time()
        await super().start()

    def wall_clock(self) -> float:
        return time.time() + self.offset


def clock_at(moment: datetime, lead: float) -> None:
    """The next ClockedInject starts ``lead`` seconds before ``moment`` by its clock."""
    ClockedInject.moment, ClockedInject.lead = moment, lead


async def test_a_cron_schedule_fires_on_time() -> None:  # NR: "should inject with cron"
    clock_at(datetime(2026, 12, 7, 8, 0, 0, tzinfo=ZoneInfo("UTC")), 0.03)
    config = {"repeat": "cron", "cron": "* * * * * *", "time_zone": "UTC",
              "properties": [prop("topic", "string", "t3"), prop("payload", "timestamp",
                                                                 "milliseconds")]}
    async with FlowHarness(document(config, ClockedInject.type),
                           node_types=[ClockedInject]) as h:
        [msg] = await h.wait_for("n", timeout=2)
    assert msg["topic"] == "t3"
    assert isinstance(msg["payload"], int)


@pytest.mark.parametrize(("repeat", "zone"), [
    ({"repeat": "daily", "at": "12:00", "days": ["mon"]}, "Europe/Berlin"),
    ({"repeat": "cron", "cron": "0 12 * * MON-FRI"}, "Europe/Berlin"),
    ({"repeat": "daily", "at": "06:00", "days": ["mon", "sun"]}, "America/New_York"),
])
async def test_a_time_of_day_fires_in_its_zone(repeat: dict[str, Any], zone: str) -> None:
    hour = int(repeat.get("at", "12:00")[:2])
    clock_at(datetime(2026, 12, 7, hour, 0, tzinfo=ZoneInfo(zone)), 0.05)  # a Monday
    async with FlowHarness(document({**repeat, "time_zone": zone}, ClockedInject.type),
                           node_types=[ClockedInject]) as h:
        await h.wait_for("n", timeout=2)
        node = h.engine.nodes["n"]
        # the next is a day or a week away: its timer waits the longest step, then asks
        handle = min(node._timers, key=lambda timer: timer.when())
        assert handle.when() - asyncio.get_running_loop().time() > 59


async def test_a_clock_stepped_back_does_not_fire_early() -> None:
    clock_at(datetime(2026, 12, 7, 12, 0, tzinfo=ZoneInfo("UTC")), 0.05)
    config = {"repeat": "cron", "cron": "0 12 * * *", "time_zone": "UTC"}
    async with FlowHarness(document(config, ClockedInject.type),
                           node_types=[ClockedInject]) as h:
        ClockedInject.offset -= 3600  # NTP steps the clock back an hour meanwhile
        with pytest.raises(TimeoutError):
            await h.wait_for("n", timeout=0.15)
