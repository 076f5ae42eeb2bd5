"""Differential runs against Node-RED 4: the same messages through Node-RED's own node
and through portless's, so a table of cases checks both.

``run_in_node_red(cases)`` starts Node-RED embedded (tests/node_red_runner.js: no HTTP
at all, so it opens no port) on one flow holding every case: each case's node on a tab
of its own (so its flow context is its own), fed its input messages in order, with a
collector on each output port. It returns, per case, the messages each port sent
(without ``_msgid``). Node-RED is found where bench/ installs it
(~/.cache/portless-bench/node-red) or at $PORTLESS_NODE_RED; ``node_red_or_skip`` installs
it with bench's locked installer when npm is there, and skips with the reason otherwise.

Node-RED delivers messages asynchronously, so "no more messages" is a quiet period
(``quiet_ms`` with none arriving, 150 ms by default) in the Node-RED process, bounded
by ``timeout_ms``; timing cases (delay, trigger) give ``after_ms`` per input.
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from bench.nodered import RED_JS, node_red

RUNNER = Path(__file__).with_name("node_red_runner.js")
NODES_DIR = Path(__file__).with_name("node_red_nodes")


@dataclass
class NodeRedCase:
    """One node of Node-RED's (its config as in a Node-RED export, without id, z and
    wires), the messages it is given, and how many output ports to collect."""

    node: dict[str, Any]
    inputs: list[dict[str, Any]]
    outputs: int = 1
    after_ms: list[int] = field(default_factory=list)
    """Milliseconds to wait before each input (missing entries: none)."""
    flow_context: dict[str, Any] = field(default_factory=dict)
    global_context: dict[str, Any] = field(default_factory=dict)
    extra_nodes: list[dict[str, Any]] = field(default_factory=list)
    """Config nodes or other nodes the case needs, with their own ids."""


def node_red_js() -> Path | None:
    """Node-RED's red.js: $PORTLESS_NODE_RED (a node-red package directory), else bench's."""
    given = os.environ.get("PORTLESS_NODE_RED")
    if given:
        path = Path(given) / "red.js"
        return path if path.exists() else None
    return RED_JS if RED_JS.exists() else None


def node_red_or_skip() -> Path:
    """red.js, installing Node-RED 4 with bench's locked installer if need be; skips the
    test with the reason where node or npm is missing."""
    found = node_red_js()
    if found is not None:
        return found
    installed, why = node_red()
    if installed is None:
        pytest.skip(why)
    return installed


def run_in_node_red(cases: list[NodeRedCase], *, quiet_ms: int = 150,
                    timeout_ms: int = 20_000) -> list[list[list[dict[str, Any]]]]:
    """What each case's node sent on each port, in order: result[case][port] is a list
    of messages (``_msgid`` removed)."""
    red = node_red_or_skip()
    flows: list[dict[str, Any]] = []
    inputs: list[dict[str, Any]] = []
    context: dict[str, dict[str, dict[str, Any]]] = {}
    for index, case in enumerate(cases):
        tab, node_id = f"case-{index}-tab", f"case-{index}"
        flows.append({"id": tab, "type": "tab", "label": f"case {index}"})
        flows.append({**case.node, "id": node_id, "z": tab, "wires": [
            [f"{node_id}-port-{port}"] for port in range(case.outputs)]})
        flows.extend({"id": f"{node_id}-port-{port}", "type": "portless-collector",
                      "z": tab, "wires": []} for port in range(case.outputs))
        # A node with wires goes on the case's tab; a config node (no wires) is global.
        flows.extend({"z": tab, **extra} if "wires" in extra else extra
                     for extra in case.extra_nodes)
        for number, msg in enumerate(case.inputs):
            wait = case.after_ms[number] if number < len(case.after_ms) else 0
            inputs.append({"node": node_id, "msg": msg, "afterMs": wait})
        if case.flow_context or case.global_context:
            context[node_id] = {"flow": case.flow_context, "global": case.global_context}
    with tempfile.TemporaryDirectory(prefix="portless-node-red-") as user_dir:
        job = {"red": str(red.parent), "nodesDir": str(NODES_DIR), "userDir": user_dir,
               "flows": flows, "inputs": inputs, "context": context,
               "quietMs": quiet_ms, "timeoutMs": timeout_ms}
        done = subprocess.run(["node", str(RUNNER)], input=json.dumps(job),
                              capture_output=True, text=True, check=False,
                              timeout=timeout_ms / 1000 + 60)
    if done.returncode != 0:
        raise RuntimeError(f"Node-RED run failed ({done.returncode}): "
                           f"{done.stdout[-2000:]} {done.stderr[-2000:]}")
    # the answer is the last line: Node-RED logs a node's errors to stdout before it
    answer = json.loads(done.stdout.rstrip().rpartition("\n")[2])
    results: list[list[list[dict[str, Any]]]] = [
        [[] for _ in range(case.outputs)] for case in cases]
    for item in answer["received"]:
        case_id, _, port = item["collector"].rpartition("-port-")
        msg = item["msg"]
        msg.pop("_msgid", None)
        results[int(case_id.removeprefix("case-"))][int(port)].append(msg)
    return results
