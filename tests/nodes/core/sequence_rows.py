"""Table rows for the sequence nodes (split, join, batch, sort): a config, the messages
fed in, and the messages expected out, shown the same way for portless and Node-RED
(no ``_msgid``, ``ts`` or empty ``topic``; bytes as a Node.js Buffer's JSON; sequence
ids the node made replaced by ``"id-0"``, ``"id-1"``... in order of appearance), so one
table checks both (test_*_node_red.py)."""

from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass, field
from typing import Any
from unittest import mock

import pytest

from portless.runtime import Message
from portless.testing import FlowHarness, NodeRun, arun_node

UNDER_TEST = "node-under-test"


@dataclass
class Row:
    """One case: ``sent`` the messages out (shown), ``errors``/``warnings`` the start of
    each error or warning text portless reports (not compared with Node-RED)."""

    config: dict[str, Any]
    inputs: list[dict[str, Any]]
    sent: list[dict[str, Any]]
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    node_red: bool = True
    """False: not run through Node-RED (it differs on purpose, or cannot take it)."""
    after_ms: list[int] = field(default_factory=list)
    flow_context: dict[str, Any] = field(default_factory=dict)
    global_context: dict[str, Any] = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=dict)


def row(name: str, config: dict[str, Any], inputs: list[dict[str, Any]],
        sent: list[dict[str, Any]], **more: Any) -> Any:
    return pytest.param(Row(config, inputs, sent, **more), id=name)


def buffer(text: str | bytes) -> dict[str, Any]:
    """A Node.js Buffer as JSON shows it (what Node-RED's collector sends for bytes)."""
    data = text.encode() if isinstance(text, str) else text
    return {"type": "Buffer", "data": list(data)}


def shown(messages: list[dict[str, Any]], inputs: list[dict[str, Any]]
          ) -> list[dict[str, Any]]:
    """The messages as a table writes them: see the module's docstring."""
    given = {repr(sequence_id) for msg in inputs for sequence_id in _parts_ids(msg)}
    names: dict[str, str] = {}
    return [_shown_message(msg, given, names) for msg in messages]


def _parts_ids(msg: dict[str, Any]) -> list[Any]:
    """The ids of a message's msg.parts and of those nested in it."""
    ids, parts = [], msg.get("parts")
    while isinstance(parts, dict):
        ids.append(parts.get("id"))
        parts = parts.get("parts")
    return ids


def _shown_message(msg: dict[str, Any], given: set[str], names: dict[str, str]
                   ) -> dict[str, Any]:
    out = _shown_value({"_msgid": "", **msg})  # a message, even with its id taken off
    parts = out.get("parts")
    while isinstance(parts, dict):
        if "id" in parts and repr(parts["id"]) not in given:
            parts["id"] = names.setdefault(repr(parts["id"]), f"id-{len(names)}")
        parts = parts.get("parts")
    return out


def _shown_value(value: Any) -> Any:
    """Bytes as a Buffer's JSON; a message (a dict with ``_msgid``, at any depth: a join
    of whole messages) without ``_msgid``, ``ts`` and an empty ``topic``."""
    if isinstance(value, bytes | bytearray):
        return buffer(bytes(value))
    if isinstance(value, dict):
        message = "_msgid" in value
        return {key: _shown_value(item) for key, item in value.items()
                if not (message and (key in ("_msgid", "ts")
                                     or (key == "topic" and item == "")))}
    if isinstance(value, list):
        return [_shown_value(item) for item in value]
    return value


def as_input(msg: dict[str, Any]) -> dict[str, Any]:
    """A table's input for Node-RED as portless's harness gives it to a node: with a
    ``topic`` ("" if none), bytes as a Buffer's JSON (the runner revives it)."""
    shown: dict[str, Any] = _shown_value(msg)
    return {"topic": "", **shown}


def check_row(node_type: str, case: Row) -> None:
    """Run one row through portless's node and compare with the table."""
    with mock.patch.dict(os.environ, case.env):
        run = asyncio.run(_run(node_type, case))
    assert shown(run.outputs[0], case.inputs) == case.sent
    assert len(run.errors) == len(case.errors), run.errors
    for text, start in zip(run.errors, case.errors, strict=True):
        assert text.startswith(start), (text, start)
    assert len(run.warnings) == len(case.warnings), run.warnings
    for text, start in zip(run.warnings, case.warnings, strict=True):
        assert text.startswith(start), (text, start)


async def _run(node_type: str, case: Row) -> NodeRun:
    """run_node, with the row's flow and global context set before the first message."""
    if not (case.flow_context or case.global_context):
        return await arun_node(node_type, case.config, case.inputs)
    document = {"version": 1, "nodes": [
        {"id": UNDER_TEST, "type": node_type, "config": case.config}]}
    async with FlowHarness(document) as harness:
        node = harness.engine.nodes[UNDER_TEST]
        for key, value in case.flow_context.items():
            node.flow_context.set(key, value)
        for key, value in case.global_context.items():
            node.global_context.set(key, value)
        for msg in case.inputs:
            harness.inject(UNDER_TEST, dict(msg))
        async with asyncio.timeout(5):
            await harness.engine.wait_idle()
            while node.pending:
                await harness.changed()
            await harness.engine.wait_idle()
        events = [e for e in harness.events if e.node_id == UNDER_TEST]
        return NodeRun(outputs=[harness.received(UNDER_TEST)],
                       warnings=[e.data["text"] for e in events if e.kind == "warning"],
                       errors=[e.data["text"] for e in events if e.kind == "error"])


def agree_with_node_red(cases: Any, node_red_config: Any) -> None:
    """Run the table's rows marked ``node_red`` through Node-RED 4 (one run), each with
    ``node_red_config(config)``, and check it sends what the table says."""
    from tests.node_red import NodeRedCase, run_in_node_red  # only the slow tests need it

    rows: list[tuple[str, Row]] = [(case.id, case.values[0]) for case in cases
                                   if case.values[0].node_red]
    env = {key: value for _, r in rows for key, value in r.env.items()}
    with mock.patch.dict(os.environ, env):  # Node.js inherits the environment
        theirs = run_in_node_red([
            NodeRedCase(node_red_config(r.config), [as_input(m) for m in r.inputs],
                        flow_context=r.flow_context, global_context=r.global_context)
            for _, r in rows])
    for (name, r), [port] in zip(rows, theirs, strict=True):
        assert shown(port, r.inputs) == r.sent, name


async def heard(node_type: str, config: dict[str, Any], inputs: list[dict[str, Any]],
                completed: int, caught: int) -> tuple[list[Message], list[Message]]:
    """Feed a node in a flow with a complete node and a catch node watching it; the
    messages each heard of, once ``completed`` and ``caught`` of them are in."""
    document = {"version": 1, "nodes": [
        {"id": "n", "type": node_type, "config": config},
        {"id": "done", "type": "complete", "config": {"scope": "nodes", "nodes": ["n"]}},
        {"id": "caught", "type": "catch", "config": {"scope": "nodes", "nodes": ["n"]}}]}
    async with FlowHarness(document) as h:
        for msg in inputs:
            h.inject("n", dict(msg))
        done = await h.wait_for("done", completed, timeout=5)
        errors = await h.wait_for("caught", caught, timeout=5) if caught else []
    return done, errors
