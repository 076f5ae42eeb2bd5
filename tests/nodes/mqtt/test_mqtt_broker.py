"""mqtt-broker against a real mosquitto: TLS, passwords from ${ENV} that never reach a log,
birth and last will (also of a SIGKILLed `portless run`), clear one-line failures that
leave the rest of the flow running, ACL refusals, reconnects with the outbox, keepalive,
and persistent sessions."""

from __future__ import annotations

import asyncio
import json
import logging
import re
import signal
import ssl
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import trustme

from portless.runtime import Event
from portless.testing import FlowHarness
from tests.mosquitto import Mosquitto, free_port
from tests.mqtt_client import Watcher

pytestmark = pytest.mark.broker

NOT_AUTHORISED = "refused: not authorised (check the username and password)"

STATE = "device/valve-1/state"
CMD = "device/valve-1/cmd"
SECRET = "Valve-Secret-4711-xyzzy"
USERS = {"valve-1": SECRET, "operator": "operator-secret"}
ACL = ("user valve-1\n"
       "topic write device/valve-1/#\n"
       "topic read device/valve-1/cmd/#\n"
       "\n"
       "user operator\n"
       "topic readwrite #\n")
OPERATOR = {"username": "operator", "password": "operator-secret"}


@pytest.fixture
def secured(mosquitto_factory: Callable[..., Mosquitto]) -> Mosquitto:
    """mosquitto with TLS (a trustme CA made for this test), a password file and an ACL:
    valve-1 may write only device/valve-1/# and read only device/valve-1/cmd/#."""
    return mosquitto_factory("secured", users=USERS, acl=ACL, tls=True)


def ca_file(broker: Mosquitto) -> str:
    assert broker.tls_files is not None
    return str(broker.tls_files.ca_file)


def operator_tls(broker: Mosquitto) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=ca_file(broker))


def flow(broker: dict[str, Any], *nodes: dict[str, Any]) -> dict[str, Any]:
    """A device flow: the broker node (fast reconnects for tests), the given nodes, and an
    independent branch (io-in counter -> debug) that must keep running whatever MQTT does."""
    return {"version": 1, "nodes": [
        {"id": "broker", "type": "mqtt-broker",
         "config": {"host": "127.0.0.1", "reconnect_min_delay": 0.05,
                    "reconnect_max_delay": 0.2, **broker}},
        *nodes,
        {"id": "counter", "type": "io-in",
         "config": {"signal": "counter", "interval": 0.05, "topic": "local/count"},
         "wires": [["show"]]},
        {"id": "show", "type": "debug", "config": {}},
    ]}


def out(node_id: str = "out", **config: Any) -> dict[str, Any]:
    return {"id": node_id, "type": "mqtt-out", "config": {"broker": "broker", **config}}


def mqtt_in(node_id: str, topic: str, **config: Any) -> dict[str, Any]:
    return {"id": node_id, "type": "mqtt-in",
            "config": {"broker": "broker", "topic": topic, **config}}


def status_is(node_id: str, check: Callable[[str], bool]) -> Callable[[Event], bool]:
    return lambda e: e.node_id == node_id and e.kind == "status" and check(
        e.data.get("text", ""))


async def wait_after(h: FlowHarness, start: int, predicate: Callable[[Event], bool], *,
                     timeout: float = 5.0) -> Event:
    """The first event from ``h.events[start:]`` on that matches ``predicate``."""
    return await h.wait_event(predicate, since=start, timeout=timeout)


def after(h: FlowHarness, event: Event) -> int:
    """The index just past ``event`` in ``h.events`` (by identity: equal events recur)."""
    return next(i for i, e in enumerate(h.events) if e is event) + 1


async def connected(h: FlowHarness, start: int = 0, timeout: float = 5.0) -> None:
    await wait_after(h, start, status_is("broker", lambda text: text == "connected"),
                     timeout=timeout)


async def still_running(h: FlowHarness, start: int) -> None:
    """The flow's other branch keeps delivering: new readings reach the debug node."""
    for _ in range(3):
        event = await wait_after(h, start, lambda e: e.kind == "debug" and e.node_id == "show")
        start = after(h, event)


async def until(h: FlowHarness, condition: Callable[[], bool], *, timeout: float = 5.0
                ) -> None:
    """Wait until ``condition()`` holds, checked at every event or message (or 5 ms)."""
    async with asyncio.timeout(timeout):
        while not condition():
            await h.changed()


def tracebacks(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [f"{r.name}: {r.getMessage()}" for r in caplog.records
            if r.name.startswith("portless") and r.exc_info]


# --- TLS, credentials, birth and will ------------------------------------------------

async def test_tls_with_password_from_env_connects_publishes_and_never_logs_the_password(
        secured: Mosquitto, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    document = flow({"port": secured.tls_port, "tls": {"ca_file": ca_file(secured)},
                     "username": "${VALVE_USER}", "password": "${VALVE_PASSWORD}",
                     "state_topic": STATE},
                    out(topic="device/valve-1/flow"))
    async with Watcher(secured.tls_port, "device/valve-1/#", ssl_context=operator_tls(secured),
                       **OPERATOR) as operator, \
            FlowHarness(document, env={"VALVE_USER": "valve-1",
                                       "VALVE_PASSWORD": SECRET}) as h:
        await connected(h)
        h.inject("out", {"payload": {"flow": 12.5}})
        await operator.wait_for(1, "device/valve-1/flow")
        events = list(h.events)
    (got,) = operator.on("device/valve-1/flow")
    assert json.loads(got.payload) == {"flow": 12.5}
    # The device came in over the TLS listener, authenticated as valve-1.
    assert re.search(rf"New connection from 127\.0\.0\.1:(\d+) on port {secured.tls_port}\.\n"
                     rf".*New client connected from 127\.0\.0\.1:\1 as portless-\S+ "
                     rf"\(p5, c0, k60, u'valve-1'\)", secured.log), secured.log
    assert caplog.records, "nothing logged at DEBUG: the check below would prove nothing"
    for record in caplog.records:
        assert SECRET not in record.getMessage(), record.name
        assert SECRET not in repr(record.args), record.name
    assert SECRET not in repr(events)
    assert tracebacks(caplog) == []


async def test_birth_is_retained_online_and_a_clean_stop_leaves_offline(
        mosquitto: Mosquitto) -> None:
    document = flow({"port": mosquitto.port, "state_topic": STATE})
    async with Watcher(mosquitto.port, STATE, client_id="early") as early, \
            FlowHarness(document):
        await early.wait_for(1)  # mosquitto has the birth message
        async with Watcher(mosquitto.port, STATE, client_id="late-subscriber") as late:
            (birth,) = await late.wait_for(1)
    async with Watcher(mosquitto.port, STATE, client_id="after-stop") as newcomer:
        (will,) = await newcomer.wait_for(1)
    assert early.received[0].payload == b"online"
    assert (birth.payload, birth.retain) == (b"online", True)
    assert (will.payload, will.retain) == (b"offline", True)


@pytest.mark.slow  # portless as a subprocess, killed
async def test_broker_publishes_the_will_when_the_device_process_is_killed(
        mosquitto: Mosquitto, tmp_path: Path, write_flow: Callable[..., Path]) -> None:
    flow_file = write_flow({"version": 1, "nodes": [
        {"id": "broker", "type": "mqtt-broker",
         "config": {"host": "127.0.0.1", "port": mosquitto.port, "client_id": "valve-1",
                    "keepalive": 2, "state_topic": STATE}}]})
    log_file = tmp_path / "portless.log"
    async with Watcher(mosquitto.port, STATE) as watcher:
        with log_file.open("wb") as log:
            device = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "portless", "run", str(flow_file), "--no-editor",
                "--state-dir", str(tmp_path / "state"), stdout=log, stderr=log)
            try:
                (birth,) = await watcher.wait_for(1, timeout=30)
                device.send_signal(signal.SIGKILL)
                await device.wait()
                will = (await watcher.wait_for(2, timeout=10))[1]
            finally:
                if device.returncode is None:
                    device.kill()
                    await device.wait()
    assert birth.payload == b"online", log_file.read_text()
    assert will.payload == b"offline"
    assert device.returncode == -signal.SIGKILL
    async with Watcher(mosquitto.port, STATE, client_id="after-kill") as newcomer:
        (retained,) = await newcomer.wait_for(1)
    assert (retained.payload, retained.retain) == (b"offline", True)


# --- failures: one clear line, no traceback, the rest of the flow runs on --------------

def _bad_password(broker: Mosquitto, tmp_path: Path) -> dict[str, Any]:
    return {"port": broker.port, "username": "valve-1", "password": "wrong"}


def _unknown_ca(broker: Mosquitto, tmp_path: Path) -> dict[str, Any]:
    other = tmp_path / "other-ca.pem"
    trustme.CA().cert_pem.write_to_path(str(other))
    return {"port": broker.tls_port, "tls": {"ca_file": str(other)}, **_credentials()}


def _wrong_server_name(broker: Mosquitto, tmp_path: Path) -> dict[str, Any]:
    return {"port": broker.tls_port, "tls": {"ca_file": ca_file(broker),
                                             "server_name": "broker.example.com"},
            **_credentials()}


def _nobody_listening(broker: Mosquitto, tmp_path: Path) -> dict[str, Any]:
    return {"port": free_port()}


def _unresolvable(broker: Mosquitto, tmp_path: Path) -> dict[str, Any]:
    return {"host": "no-such-host.invalid", "port": 1883}


def _credentials() -> dict[str, str]:
    return {"username": "valve-1", "password": SECRET}


FAILURES = [
    # mosquitto 2.0.11 answers any failed login (wrong password, unknown user, none)
    # with CONNACK 0x87 (MQTT 5) / 5 (3.1.1), "not authorised"; it never sends 0x86/4
    # ("bad user name or password"), which portless would show as such.
    pytest.param(_bad_password, lambda text, port: text == NOT_AUTHORISED,
                 id="bad-password"),
    pytest.param(_unknown_ca, lambda text, port: text.startswith(
        "TLS: certificate verify failed: "), id="unknown-ca"),
    pytest.param(_wrong_server_name, lambda text, port: text == (
        "TLS: certificate verify failed: Hostname mismatch, certificate is not valid "
        "for 'broker.example.com'."), id="wrong-server-name"),
    pytest.param(_nobody_listening, lambda text, port: text == (
        f"connection refused by 127.0.0.1:{port}"), id="nobody-listening"),
    pytest.param(_unresolvable, lambda text, port: text == (
        "DNS failure: cannot resolve no-such-host.invalid"), id="unresolvable-host"),
]


@pytest.mark.parametrize(("make_config", "expected"), FAILURES)
async def test_a_failing_connection_shows_one_clear_line_and_the_flow_runs_on(
        secured: Mosquitto, tmp_path: Path, caplog: pytest.LogCaptureFixture,
        make_config: Callable[[Mosquitto, Path], dict[str, Any]],
        expected: Callable[[str, int], bool]) -> None:
    config = make_config(secured, tmp_path)
    document = flow(config, out(topic="device/valve-1/flow"))
    async with FlowHarness(document) as h:
        first = await wait_after(h, 0, lambda e: e.node_id == "broker"
                                 and e.kind == "status" and e.data.get("fill") == "red")
        # And again after a retry: still one log line, not one per attempt.
        retry = await wait_after(h, after(h, first),
                                 status_is("broker", lambda text: text == "connecting"))
        await wait_after(h, after(h, retry), lambda e: e.node_id == "broker"
                         and e.kind == "status" and e.data.get("fill") == "red")
        h.inject("out", {"payload": 1})  # kept in the outbox, nothing raises
        out_status = await wait_after(h, 0, status_is("out", lambda t: t.endswith("1 waiting")))
        await still_running(h, len(h.events))
    text = first.data["text"]
    assert expected(text, config["port"]), text
    assert out_status.data["shape"] == "ring"
    lines = [r for r in caplog.records
             if r.levelno >= logging.WARNING and "node broker" in r.getMessage()]
    assert [r.levelname for r in lines] == ["WARNING"]
    assert lines[0].getMessage().endswith(text)
    assert tracebacks(caplog) == []
    assert [e for e in h.events if e.kind == "error"] == []


async def test_the_log_tells_each_outage_once_without_gmqtt_narrating_every_attempt(
        secured: Mosquitto, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """Headless, the log is what a user reads. portless says what went wrong once per
    change of link state; gmqtt's own narration stays below WARNING. Unfiltered, gmqtt
    logs at every attempt "CONNACK: 0x87" (WARNING), "CONNACK 0x87 is permanent, not
    reconnecting" and "not reconnecting after a permanent CONNACK refusal" (ERROR, and
    wrong: portless does reconnect) and "[TRYING WRITE TO CLOSED SOCKET]" (WARNING)."""
    document = flow(_bad_password(secured, tmp_path))
    async with FlowHarness(document) as h:
        start = 0
        for _ in range(3):  # three refused attempts
            event = await wait_after(h, start, status_is("broker", lambda t: t.startswith(
                "refused")))
            start = after(h, event)
    lost = flow({"port": secured.port, **_credentials()})
    async with FlowHarness(lost) as h:
        await connected(h)
        start = len(h.events)
        secured.stop()  # a lost connection, then refused reconnects
        down = await wait_after(h, start, status_is("broker", lambda t: t.startswith(
            "disconnected")))
        await wait_after(h, start, status_is("broker", lambda t: t.startswith(
            "connection refused")))
    noise = [f"{r.name} {r.levelname}: {r.getMessage()}" for r in caplog.records
             if r.levelno >= logging.WARNING and r.name != "portless.mqtt"]
    ours = [r.getMessage() for r in caplog.records
            if r.levelno >= logging.WARNING and r.name == "portless.mqtt"]
    assert not noise, "\n".join(noise)
    where = f"node broker: 127.0.0.1:{secured.port}: "
    assert [line.removeprefix(where) for line in ours] == [
        NOT_AUTHORISED, down.data["text"],
        f"connection refused by 127.0.0.1:{secured.port}"]


async def test_connecting_by_address_to_a_certificate_for_a_name_needs_server_name(
        mosquitto_factory: Callable[..., Mosquitto]) -> None:
    """A broker whose certificate names only broker.plant.example, reached by address
    (no DNS on the plant network): refused as a mismatch, until tls.server_name says
    which name to expect."""
    broker = mosquitto_factory("named", tls=True)
    assert broker.tls_files is not None
    ca = trustme.CA()
    server = ca.issue_cert("broker.plant.example")  # and not 127.0.0.1, unlike the fixture's
    ca.cert_pem.write_to_path(str(broker.tls_files.ca_file))
    server.cert_chain_pems[0].write_to_path(str(broker.tls_files.cert_file))
    server.private_key_pem.write_to_path(str(broker.tls_files.key_file))
    broker.stop()
    broker.start()  # with that certificate
    tls = {"ca_file": str(broker.tls_files.ca_file)}
    async with FlowHarness(flow({"port": broker.tls_port, "tls": tls})) as h:
        refused = await wait_after(h, 0, lambda e: e.node_id == "broker"
                                   and e.data.get("fill") == "red")
    named = flow({"port": broker.tls_port, "tls": {**tls, "server_name": "broker.plant.example"}})
    async with FlowHarness(named) as h:
        await connected(h)
    assert refused.data["text"] == (
        "TLS: certificate verify failed: IP address mismatch, certificate is not valid "
        "for '127.0.0.1'.")


@pytest.mark.parametrize("protocol", ["5", "3.1.1"])
async def test_a_publish_the_acl_denies_is_dropped_with_a_warning_and_later_ones_arrive(
        secured: Mosquitto, caplog: pytest.LogCaptureFixture, protocol: str) -> None:
    """Over MQTT 5 the broker says so (PUBACK 0x87) and the outbox drops the message with a
    warning instead of resending it forever; over 3.1.1 it cannot be told apart from a
    delivery. mosquitto 2.0.11 also closes the connection after a denied QoS 1 publish
    (over both protocols): portless reconnects and sends what followed, in order."""
    document = flow({"port": secured.port, "protocol": protocol, **_credentials()},
                    out("foreign", topic="device/valve-2/flow"),
                    out("own", topic="device/valve-1/flow"))
    async with Watcher(secured.port, "device/#", **OPERATOR) as operator, \
            FlowHarness(document) as h:
        await connected(h)
        h.inject("foreign", {"payload": "not mine"})
        for n in range(3):
            h.inject("own", {"payload": n})
        await operator.wait_for(3, "device/valve-1/flow")
        warnings = [e.data["text"] for e in h.events if e.kind == "warning"]
        await still_running(h, len(h.events))
    own = [json.loads(m.payload) for m in operator.on("device/valve-1/flow")]
    assert list(dict.fromkeys(own)) == [0, 1, 2]  # QoS 1: at least once, in order
    assert operator.on("device/valve-2/flow") == []
    if protocol == "5":
        assert warnings == ["publish to device/valve-2/flow refused by the broker: "
                            "not authorised; message dropped"]
    else:
        assert warnings == []
    assert tracebacks(caplog) == []


@pytest.mark.parametrize("protocol", ["5", "3.1.1"])
async def test_a_subscription_the_acl_forbids_is_granted_and_silently_filtered(
        secured: Mosquitto, caplog: pytest.LogCaptureFixture, protocol: str) -> None:
    """mosquitto 2.0.11's ACL file never refuses a SUBSCRIBE (SUBACK grants it, even with
    `topic deny`); it filters what it delivers. So mqtt-in cannot warn: it shows
    "connected" and receives nothing. (A broker that refuses, with SUBACK 0x87/0x80, gets
    "subscription to ... refused by the broker" from mqtt-in.)"""
    document = flow({"port": secured.port, "protocol": protocol, **_credentials()},
                    mqtt_in("foreign", "device/valve-2/cmd/#"),
                    mqtt_in("own", CMD + "/#"))
    async with Watcher(secured.port, **OPERATOR) as operator, FlowHarness(document) as h:
        await connected(h)
        operator.publish(CMD + "/ready", b"0", qos=1, retain=True)
        await h.wait_for("own", 1)  # both SUBSCRIBEs (foreign's first) are through
        operator.publish("device/valve-2/cmd/open", b"1", qos=1)
        operator.publish(CMD + "/open", b"2", qos=1)
        (_, got) = await h.wait_for("own", 2)  # same connection, in order: had the
        foreign = list(h.received("foreign"))  # other been delivered, it came first
        foreign_status = h.engine.nodes["foreign"].last_status
    assert got["payload"] == 2
    assert foreign == []
    assert foreign_status == {"fill": "green", "shape": "dot", "text": "connected"}
    assert [e for e in h.events if e.kind == "warning"] == []
    assert tracebacks(caplog) == []


# --- reconnect, keepalive, sessions ----------------------------------------------------

async def test_reconnects_after_a_broker_restart_and_sends_what_waited_in_order(
        mosquitto: Mosquitto, caplog: pytest.LogCaptureFixture) -> None:
    document = flow({"port": mosquitto.port}, out(topic="device/valve-1/flow", qos=1))
    # A persistent operator session (mosquitto persists it over the restart), so it
    # gets what the device sends even if the device reconnects first.
    async with Watcher(mosquitto.port, "device/valve-1/flow", client_id="operator",
                       clean=False) as operator, FlowHarness(document) as h:
        await connected(h)
        h.inject("out", {"payload": "before"})
        await operator.wait_for(1)
        start = len(h.events)
        mosquitto.stop()
        down = await wait_after(h, start, status_is(
            "broker", lambda text: text.startswith("disconnected")))
        refused = await wait_after(h, start, status_is(
            "broker", lambda text: text.startswith("connection refused by")))
        for n in range(5):
            h.inject("out", {"payload": n})
        waiting = await wait_after(h, start, status_is("out", lambda t: t.endswith(
            "; 5 waiting")))
        await still_running(h, len(h.events))
        mosquitto.start()
        await connected(h, start, timeout=10)
        got = await operator.wait_for(6, timeout=10)
        outbox = h.engine.nodes["broker"].outbox  # type: ignore[attr-defined]
        await until(h, lambda: outbox.count == 0)  # every PUBACK came back
    assert down.data["fill"] == "red"
    assert refused.data["text"] == f"connection refused by 127.0.0.1:{mosquitto.port}"
    assert waiting.data["shape"] == "ring"
    assert list(dict.fromkeys(json.loads(m.payload) for m in got)) == [
        "before", 0, 1, 2, 3, 4]
    assert tracebacks(caplog) == []


@pytest.mark.slow  # waits out 3.5 s of real time
async def test_keepalive_keeps_an_idle_connection_up(mosquitto: Mosquitto) -> None:
    """keepalive 1 s: mosquitto drops a client silent for 1.5 s, so only the PINGREQ
    heartbeat keeps this idle connection (no other traffic for 3.5 s) alive."""
    document = flow({"port": mosquitto.port, "keepalive": 1},
                    mqtt_in("cmd", CMD, format="text"))
    async with FlowHarness(document) as h, Watcher(mosquitto.port) as operator:
        await connected(h)
        operator.publish(CMD, b"ready", qos=1, retain=True)
        await h.wait_for("cmd", 1)
        start = len(h.events)
        # Waiting for a change of link state that must not come: 3.5 s is more than
        # twice the 1.5 s mosquitto allows a silent client.
        with pytest.raises(TimeoutError):
            await wait_after(h, start, lambda e: e.node_id == "broker", timeout=3.5)
        operator.publish(CMD, b"open", qos=1)
        (_, got) = await h.wait_for("cmd", 2)
    assert got["payload"] == "open"
    assert re.search(r"as portless-\S+ \(p5, c0, k1\)", mosquitto.log)  # asked for 1 s
    assert "exceeded timeout" not in mosquitto.log
    assert mosquitto.log.count("as portless-") == 1  # one connection throughout


@pytest.mark.parametrize("protocol", ["5", "3.1.1"])
async def test_a_persistent_session_delivers_commands_sent_while_the_device_was_stopped(
        mosquitto: Mosquitto, tmp_path: Path, protocol: str) -> None:
    document = flow({"port": mosquitto.port, "protocol": protocol, "client_id": "valve-1",
                     "clean_start": False, "state_topic": STATE},
                    mqtt_in("cmd", CMD + "/#", qos=1, format="text"))
    state_dir = tmp_path / "state"
    async with Watcher(mosquitto.port, "sync") as operator:
        async with FlowHarness(document, state_dir=state_dir) as h:
            # Subscribed, in the session: a retained marker arrives (whichever of the
            # SUBSCRIBE and the marker reached mosquitto first), then its clearing.
            operator.publish(CMD + "/first", b"first", qos=1, retain=True)
            await h.wait_for("cmd", 1)
            operator.publish(CMD + "/first", b"", qos=1, retain=True)
            await h.wait_for("cmd", 2)
        # The device is away (a clean stop). The command waits in its session; the
        # operator's own round trip proves mosquitto has it before the device is back.
        operator.publish(CMD + "/open", b"while-away", qos=1)
        operator.publish("sync", b"", qos=1)
        await operator.wait_for(1, "sync")
        async with FlowHarness(document, state_dir=state_dir) as h:
            (got,) = await h.wait_for("cmd", 1)
            operator.publish(CMD + "/close", b"after", qos=1)
            (_, live) = await h.wait_for("cmd", 2)
    assert (got["topic"], got["payload"]) == (CMD + "/open", "while-away")
    assert got["qos"] == 1
    assert live["payload"] == "after"

