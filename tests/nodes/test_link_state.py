"""The link state helpers every connection node shares (nodes/link_state.py): who is told
of a change, what is logged, what the node shows."""

from __future__ import annotations

import logging

import pytest

from portless.nodes.link_state import (
    CONNECTED,
    CONNECTING,
    FailureLog,
    LinkState,
    LinkStatus,
    StateListeners,
)
from portless.runtime import Node
from portless.testing import arun_node

log = logging.getLogger("portless.test-link")
REFUSED = LinkState("red", "connection refused")


def test_a_listener_hears_the_state_now_and_each_change_once_until_removed() -> None:
    states = StateListeners()
    heard: list[LinkState] = []
    remove = states.add_listener(heard.append)
    for state in (CONNECTING, REFUSED, REFUSED, CONNECTED):
        states.set(state)
    remove()
    remove()  # twice is harmless
    states.set(REFUSED)
    assert heard == [CONNECTING, REFUSED, CONNECTED]
    assert states.state == REFUSED


def test_a_failure_is_logged_once_per_change_of_words_and_again_after_a_connect(
        caplog: pytest.LogCaptureFixture) -> None:
    failures = FailureLog(log, "plc")
    with caplog.at_level(logging.WARNING, "portless.test-link"):
        failures.failed("10.0.0.5:502", "connection refused")
        failures.failed("10.0.0.5:502", "connection refused")
        failures.failed("10.0.0.5:502", "timeout")
        failures.connected()
        failures.failed("10.0.0.5:502", "timeout")
    assert [r.getMessage() for r in caplog.records] == [
        "node plc: 10.0.0.5:502: connection refused", "node plc: 10.0.0.5:502: timeout",
        "node plc: 10.0.0.5:502: timeout"]


class _Linked(Node):
    """A node that shows a few link states through LinkStatus, as a connection does."""

    type = "test-linked"
    inputs = 0
    outputs = 0
    schema = {"type": "object", "properties": {}}

    async def start(self) -> None:
        link = LinkStatus(self, "broker.local:8883", log)
        for state in (CONNECTING, REFUSED, CONNECTING, REFUSED, CONNECTED,
                      LinkState("yellow", "connected; busy", connected=True), REFUSED):
            link.set(state)


async def test_link_status_shows_tells_and_logs_red_states_once_per_failure(
        caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, "portless.test-link"):
        run = await arun_node(_Linked)
    # it starts "connecting", so the first shown is the first change
    assert [(s["fill"], s["shape"], s["text"]) for s in run.statuses] == [
        ("red", "ring", "connection refused"),
        ("yellow", "ring", "connecting"), ("red", "ring", "connection refused"),
        ("green", "dot", "connected"), ("yellow", "dot", "connected; busy"),
        ("red", "ring", "connection refused")]
    # yellow is not a failure; the same refusal again is not news until a connect
    assert [r.getMessage() for r in caplog.records if r.name == "portless.test-link"] == [
        "node node-under-test: broker.local:8883: connection refused"] * 2
