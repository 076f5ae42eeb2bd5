"""Tests of the append-file node, through portless's own test harness (as any plugin can)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from portless.runtime import FlowInvalid, Node, Registry, check_flow
from portless.testing import FlowHarness, run_node

# Run from portless's own checkout, these tests need this plugin installed as well
# (the README's test command does it); without it they are skipped, not failed.
slowwrite = pytest.importorskip(
    "portless_example_slowwrite",
    reason="pip install -e ./examples/portless-example-slowwrite")
AppendFile = slowwrite.AppendFile


def lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines()


@pytest.mark.parametrize(("config", "payloads", "expected"), [
    ({}, [1, "a", {"v": [1, 2]}, None], ["1", '"a"', '{"v": [1, 2]}', "null"]),
    ({"format": "text"}, ["first", "é", 2.5], ["first", "é", "2.5"]),
])
def test_each_payload_becomes_a_line_in_order_and_the_message_goes_on(
        tmp_path: Path, config: dict[str, Any], payloads: list[Any],
        expected: list[str]) -> None:
    path = tmp_path / "log.txt"
    run = run_node("append-file", {"path": str(path), **config},
                   [{"payload": p} for p in payloads])
    assert lines(path) == expected
    assert [msg["payload"] for msg in run.outputs[0]] == payloads
    assert run.statuses[-1] == {"fill": "green", "shape": "dot",
                                "text": f"written: {len(payloads)}"}
    assert run.errors == []


def test_a_payload_json_cannot_hold_is_that_messages_error_and_the_rest_is_written(
        tmp_path: Path) -> None:
    path = tmp_path / "log.txt"
    run = run_node("append-file", {"path": str(path)},
                   [{"payload": 1}, {"payload": float("nan")}, {"payload": 3}])
    assert lines(path) == ["1", "3"]
    assert run.errors == ["ValueError: Out of range float values are not JSON compliant"]


def test_the_runtime_adds_the_queue_to_the_schema_and_checks_it() -> None:
    assert AppendFile.async_input
    queue = AppendFile.schema["properties"]["input_queue"]
    assert queue["default"] == {"size": 100, "when_full": "block"}
    registry = Registry([AppendFile])
    document = {"version": 1, "nodes": [{"id": "log", "type": "append-file", "config": {
        "path": "x.log", "input_queue": {"size": 20_000}}}]}
    with pytest.raises(FlowInvalid) as caught:
        check_flow(document, registry, "flows/log.json")
    (error,) = caught.value.errors
    assert str(error).startswith("flows/log.json: node log: /config/input_queue/size: ")


async def test_a_slow_disk_makes_a_source_hold_off_instead_of_dropping(tmp_path: Path) -> None:
    """io-in reads every millisecond into a queue of 2: it skips readings while the
    queue is full, and everything that was read is written, in order."""
    path = tmp_path / "readings.log"
    document = {"version": 1, "nodes": [
        {"id": "in", "type": "io-in", "config": {"signal": "counter", "interval": 0.001},
         "wires": [["log"]]},
        {"id": "log", "type": "append-file",
         "config": {"path": str(path), "sync": True, "input_queue": {"size": 2}}}]}
    async with FlowHarness(document) as h:
        written = await h.wait_for("log", 30)
        log: Node = h.engine.nodes["log"]
        assert log.input_queue is not None
        assert log.input_queue.dropped == 0
    counted = [msg["payload"] for msg in written]
    assert counted == sorted(counted)
    assert [int(line) for line in lines(path)][:30] == counted


async def test_the_count_is_kept_in_node_context_across_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "log.txt"
    document = {"version": 1, "context": {"store": "persistent"}, "nodes": [
        {"id": "log", "type": "append-file", "config": {"path": str(path)}}]}
    for run in range(2):
        async with FlowHarness(document, state_dir=tmp_path / "state") as h:
            for value in range(3):
                h.inject("log", {"payload": value})
            await h.wait_for("log", 3)
            assert h.engine.nodes["log"].node_context.get("written") == 3 * (run + 1)
    assert len(lines(path)) == 6


@pytest.mark.slow  # portless as a subprocess
def test_portless_nodes_lists_append_file_with_its_queue() -> None:
    done = subprocess.run([sys.executable, "-m", "portless", "nodes", "--json"],
                          capture_output=True, text=True, check=True, timeout=60)
    entry = {e["type"]: e for e in json.loads(done.stdout)}["append-file"]
    assert "portless-example-slowwrite" in entry["source"]
    assert entry["schema"] == AppendFile.schema
