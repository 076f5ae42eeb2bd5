"""debug: shows a property or the whole message as a debug event (the log, the editor)."""

from __future__ import annotations

import pytest

from portless.testing import FlowHarness


@pytest.mark.parametrize(("config", "shown"), [
    ({}, "21.5"),
    ({"property": "payload.unit"}, "undefined"),
    ({"whole_message": True}, '"payload": 21.5'),
    ({"property": "topic.length"}, "1"),  # Node-RED's paths: a string's length
])
async def test_debug_shows_what_it_is_told_to(config: dict[str, object], shown: str) -> None:
    document = {"version": 1, "nodes": [{"id": "dbg", "type": "debug", "config": config}]}
    async with FlowHarness(document) as h:
        h.inject("dbg", {"payload": 21.5, "topic": "t"})
        event = await h.wait_event(lambda e: e.kind == "debug")
    assert shown in event.data["text"]
    assert event.data["topic"] == "t"


async def test_inactive_debug_is_silent_but_counts() -> None:
    document = {"version": 1, "nodes": [
        {"id": "dbg", "type": "debug", "config": {"active": False}}]}
    async with FlowHarness(document) as h:
        h.inject("dbg", {"payload": 1})
        await h.engine.wait_idle(timeout=5)
        assert h.engine.nodes["dbg"].count == 1  # type: ignore[attr-defined]
        assert [e for e in h.events if e.kind == "debug"] == []
