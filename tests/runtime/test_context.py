"""Node, flow and global context (runtime/context.py), through portless.testing as a
plugin's tests would: scopes, Node-RED's memory semantics, what a deploy keeps and
deletes, the persistent store across restarts, and what it refuses."""

from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from portless.runtime import (
    DeployService,
    Engine,
    EventBus,
    FlowInvalid,
    Message,
    Node,
    Registry,
    check_flow,
)
from portless.runtime.state import StateDirs, flow_state_dir
from portless.testing import FlowHarness


class Probe(Node):
    """Does to a context what a message says: {"scope", "op", "key", "value"}; sends what
    it then reads (``keys()`` for op "keys")."""

    type = "test-context"

    def on_input(self, msg: Message) -> None:
        context = {"node": self.node_context, "flow": self.flow_context,
                   "global": self.global_context}[msg["scope"]]
        if msg["op"] == "set":
            context.set(msg["key"], msg["value"])
        elif msg["op"] == "delete":
            context.delete(msg["key"])
        msg["payload"] = context.keys() if msg["op"] == "keys" else \
            context.get(msg["key"], "absent")
        self.send(msg)


def flow(*ids: str, store: str | None = None) -> dict[str, Any]:
    document: dict[str, Any] = {"version": 1, "nodes": [
        {"id": node_id, "type": Probe.type} for node_id in ids]}
    if store is not None:
        document["context"] = {"store": store}
    return document


def harness(document: dict[str, Any], state_dir: Path | None = None) -> FlowHarness:
    return FlowHarness(document, node_types=[Probe], state_dir=state_dir)


def rows(state_dir: Path) -> dict[tuple[str, str], str]:
    with sqlite3.connect(state_dir / "context.sqlite") as db:
        return {(scope, key): value
                for scope, key, value in db.execute("SELECT scope, key, value FROM context")}


async def test_node_context_is_a_nodes_own_and_flow_and_global_context_are_shared() -> None:
    async with harness(flow("a", "b")) as h:
        a, b = h.engine.nodes["a"], h.engine.nodes["b"]
        a.node_context.set("count", 1)
        a.flow_context.set("mode", "auto")
        a.global_context.set("site", "plant-1")
        assert b.node_context.get("count") is None
        assert b.node_context.get("count", 0) == 0
        assert b.flow_context.get("mode") == "auto"
        assert b.global_context.get("site") == "plant-1"
        assert a.node_context.keys() == ["count"]
        a.node_context.set("none", None)  # None is a value (JSON null), not a deletion
        assert a.node_context.get("none", "absent") is None
        a.node_context.delete("count")
        a.node_context.delete("count")  # deleting what is not there is no error
        assert a.node_context.keys() == ["none"]


async def test_the_memory_store_hands_back_the_stored_object_itself() -> None:
    """As Node-RED's memory store: a node may change a stored list in place."""
    async with harness(flow("a")) as h:
        context = h.engine.nodes["a"].flow_context
        readings: list[Any] = [1]
        context.set("readings", readings)
        context.get("readings").append(2)
        assert context.get("readings") is readings
        assert readings == [1, 2]
        context.set("anything", {1, 2})  # memory keeps any object
        assert context.get("anything") == {1, 2}


async def test_a_context_key_is_a_non_empty_string_and_the_error_names_the_node() -> None:
    async with harness(flow("a")) as h:
        context = h.engine.nodes["a"].node_context
        for key in ("", 3, None):
            with pytest.raises(TypeError, match=r"node a: a node context key is a non-empty "):
                context.set(key, 1)  # type: ignore[arg-type]
        with pytest.raises(TypeError, match="non-empty string, not ''"):
            context.get("")


@pytest.mark.parametrize("store", ["memory", "persistent"])
async def test_a_key_may_be_a_property_path_into_the_context(
        tmp_path: Path, store: str) -> None:
    """As Node-RED's flow.set("totals.valves[2]", 5): what is missing on the way is
    made, reads and deletes follow the path, keys() lists the top-level names."""
    async with harness(flow("a", store=store), tmp_path) as h:
        context = h.engine.nodes["a"].flow_context
        context.set("totals.valves[2]", 5)
        context.set('labels["valve 1"]', "inlet")
        context.set("msg.topic", "kept")  # a leading msg. is a key like any other
        assert context.get("totals") == {"valves": [None, None, 5]}
        assert context.get("totals.valves[2]") == 5
        assert context.get("totals.valves[7]", "absent") == "absent"
        assert context.get("labels") == {"valve 1": "inlet"}
        assert context.get("msg") == {"topic": "kept"}
        context.delete("totals.valves[0]")  # a list item is cut out
        assert context.get("totals.valves") == [None, 5]
        assert context.keys() == ["totals", "labels", "msg"]
        context.set("count", 1)
        with pytest.raises(ValueError, match=r"node a: cannot set flow context key "
                                             r"'count.x': a step on the way holds"):
            context.set("count.x", 2)
        with pytest.raises(ValueError, match=r"node a: the flow context key 'a..b' is "
                                             r"not a property path"):
            context.get("a..b")
    if store == "persistent":
        async with harness(flow("a", store=store), tmp_path) as h:
            assert h.engine.nodes["a"].flow_context.get("totals.valves") == [None, 5]


async def test_a_refused_value_under_a_path_changes_nothing(tmp_path: Path) -> None:
    async with harness(flow("a", store="persistent"), tmp_path) as h:
        context = h.engine.nodes["a"].node_context
        context.set("settings", {"limit": 3})
        with pytest.raises(ValueError, match=r"key 'settings.bad' in the persistent "
                                             r"store: the value holds a set at bad"):
            context.set("settings.bad", {1})
        assert context.get("settings") == {"limit": 3}


async def test_flow_context_belongs_to_a_tab_which_chooses_its_store(tmp_path: Path) -> None:
    """Two flow files run together: each has its own flow context, in its own store."""
    registry = Registry([Probe])
    (tmp_path / "kept.json").write_text(json.dumps(flow("a", "b", store="persistent")))
    (tmp_path / "lost.json").write_text(json.dumps(flow("c")))
    for run in range(2):
        engine = Engine(registry, events=EventBus(), state_dir=tmp_path)
        deploys = DeployService(engine, registry, [tmp_path / "kept.json",
                                                   tmp_path / "lost.json"])
        deploys.load()
        await deploys.start()
        a, b, c = (engine.nodes[node_id] for node_id in "abc")
        if run == 0:
            a.flow_context.set("mode", "auto")
            c.flow_context.set("mode", "manual")
            a.global_context.set("site", "plant-1")
            assert b.flow_context.get("mode") == "auto"
            assert c.flow_context.get("mode") == "manual"
            assert c.global_context.get("site") == "plant-1"
        else:
            assert b.flow_context.get("mode") == "auto"
            assert c.flow_context.get("mode") is None
            assert c.global_context.get("site") is None  # global: memory by default
        await engine.stop()


async def test_a_files_persistent_context_stays_with_the_file_whichever_set_it_runs_in(
        tmp_path: Path) -> None:
    """As an outbox: node and flow context are in the file's own state directory, global
    context in the process's (that of the first path named)."""
    registry = Registry([Probe])
    one, two = tmp_path / "one.json", tmp_path / "two.json"
    one.write_text(json.dumps(flow("a", store="persistent")))
    two.write_text(json.dumps(flow("b", store="persistent")))
    base = tmp_path / "state"

    async def run(files: list[Path]) -> tuple[Engine, StateDirs]:
        engine = Engine(registry, events=EventBus(), global_context_store="persistent")
        states = StateDirs(base, files[0])
        deploys = DeployService(engine, registry, files, states=states)
        deploys.load()
        deploys.claim_state()
        await deploys.start()
        return engine, states

    engine, states = await run([one, two])
    engine.nodes["b"].node_context.set("mine", "b's")
    engine.nodes["b"].flow_context.set("shared", "two's")
    engine.nodes["b"].global_context.set("site", "plant-1")
    await engine.stop()
    states.release_all()
    assert rows(flow_state_dir(base, two)) == {
        ("node:b", "mine"): '"b\'s"', (f"flow:{two.resolve()}", "shared"): '"two\'s"'}
    assert rows(flow_state_dir(base, one)) == {("global", "site"): '"plant-1"'}

    engine, states = await run([two])  # alone: its own directory is the process's too
    try:
        assert engine.nodes["b"].node_context.get("mine") == "b's"
        assert engine.nodes["b"].flow_context.get("shared") == "two's"
        assert engine.nodes["b"].global_context.get("site") is None
    finally:
        await engine.stop()
        states.release_all()


async def test_a_subflow_instance_has_its_own_flow_context_and_reaches_its_parents(
        tmp_path: Path) -> None:
    """As in Node-RED: two instances of one subflow do not share their flow context;
    $parent.key is the flow context of the tab the instance is used in."""
    subflows = tmp_path / "subflows"
    subflows.mkdir()
    (subflows / "counter.json").write_text(json.dumps({
        "version": 1, "nodes": [{"id": "inner", "type": Probe.type}],
        "subflow": {"input": ["inner"], "outputs": [[{"node": "inner"}]]}}))
    document = {"version": 1, "nodes": [
        {"id": "top", "type": Probe.type},
        {"id": "one", "type": "subflow:counter"}, {"id": "two", "type": "subflow:counter"}]}
    async with FlowHarness(document, node_types=[Probe], subflows=[subflows]) as h:
        top, one, two = (h.engine.nodes[node_id] for node_id in ("top", "one/inner",
                                                                  "two/inner"))
        one.flow_context.set("count", 1)
        assert two.flow_context.get("count") is None
        assert top.flow_context.get("count") is None
        top.flow_context.set("mode", "auto")
        assert one.flow_context.get("$parent.mode") == "auto"
        two.flow_context.set("$parent.seen", True)
        assert top.flow_context.get("seen") is True
        assert top.flow_context.get("$parent.mode", "none") == "none"  # a tab has none
        with pytest.raises(ValueError, match=r"node top: the flow context key "
                                             r"'\$parent.x' names \$parent"):
            top.flow_context.set("$parent.x", 1)
        two.flow_context.set("mine", 2)
        report = await h.deploy({**document, "nodes": document["nodes"][:2]})
        assert "two/inner" in report.stopped
        await h.deploy(document)  # an instance removed and added again starts empty
        assert h.engine.nodes["two/inner"].flow_context.get("mine") is None
        assert h.engine.nodes["one/inner"].flow_context.get("count") == 1


async def test_a_deploy_keeps_the_context_of_kept_nodes_and_deletes_a_removed_nodes() -> None:
    """Unchanged and changed nodes keep their context (Node-RED does with a configured
    store); a node the deploy removes loses its own, so one added later with the same id
    starts empty. Flow and global context stay."""
    async with harness(flow("kept", "changed", "removed")) as h:
        for node_id in ("kept", "changed", "removed"):
            h.engine.nodes[node_id].node_context.set("mine", node_id)
        h.engine.nodes["removed"].flow_context.set("shared", 1)
        changed = flow("kept", "changed")
        changed["nodes"][1]["name"] = "renamed"
        report = await h.deploy(changed)
        assert report.started == ("changed",)
        assert h.engine.nodes["kept"].node_context.get("mine") == "kept"
        assert h.engine.nodes["changed"].node_context.get("mine") == "changed"
        await h.deploy(flow("kept", "changed", "removed"))
        assert h.engine.nodes["removed"].node_context.keys() == []
        assert h.engine.nodes["removed"].flow_context.get("shared") == 1


class FailsToStart(Node):
    type = "test-fails-to-start"

    async def start(self) -> None:
        raise RuntimeError("no device")


@pytest.mark.parametrize("store", ["memory", "persistent"])
async def test_a_rolled_back_deploy_gives_removed_nodes_their_context_back(
        tmp_path: Path, store: str) -> None:
    registry = Registry([Probe, FailsToStart])
    tab = tmp_path / "flow.json"
    tab.write_text(json.dumps(flow("kept", "removed", store=store)))
    engine = Engine(registry, events=EventBus(), state_dir=tmp_path / "state")
    deploys = DeployService(engine, registry, [tab])
    deploys.load()
    await deploys.start()
    try:
        engine.nodes["removed"].node_context.set("count", 7)
        broken = flow("kept", store=store)
        broken["nodes"].append({"id": "new", "type": FailsToStart.type})
        outcome = await deploys.deploy(tab, broken)
        assert outcome.rollback is not None  # "new" failed to start: the flow ran before
        assert engine.nodes["removed"].node_context.get("count") == 7
        await engine.contexts.flush()
        if store == "persistent":
            assert rows(tmp_path / "state") == {("node:removed", "count"): "7"}
    finally:
        await engine.stop()


async def test_persistent_context_survives_a_restart_and_reads_are_copies(
        tmp_path: Path) -> None:
    async with harness(flow("a", store="persistent"), tmp_path) as h:
        node = h.engine.nodes["a"]
        node.node_context.set("settings", {"limits": [1, 2]})
        node.flow_context.set("count", 7)
        node.node_context.get("settings")["limits"].append(3)  # a copy: not stored
        assert node.node_context.get("settings") == {"limits": [1, 2]}
    async with harness(flow("a", store="persistent"), tmp_path) as h:
        node = h.engine.nodes["a"]
        assert node.node_context.get("settings") == {"limits": [1, 2]}
        assert node.flow_context.get("count") == 7


async def test_sets_between_two_commits_write_each_key_once(tmp_path: Path) -> None:
    h = harness(flow("a", store="persistent"), tmp_path)
    h.engine.contexts.flush_interval = 3600  # no commit but the one asked for
    async with h:
        context = h.engine.nodes["a"].node_context
        for count in range(1000):
            context.set("count", count)
        context.set("gone", 1)
        context.delete("gone")
        assert rows(tmp_path) == {}
        await h.engine.contexts.flush()
        assert rows(tmp_path) == {("node:a", "count"): "999"}


@pytest.mark.parametrize(("value", "reason"), [
    ({1, 2}, "holds a set, which is not JSON"),
    (float("nan"), "holds nan, which is not a JSON number"),
    ({"a": [1, float("inf")]}, r"holds inf at a\[1\], which is not a JSON number"),
    ((1, 2), "holds a tuple"),
    ({1: "one"}, "has the key 1: keys of a stored dict must be strings"),
    ("x" * (1024 * 1024), "bytes as JSON, more than the 1,048,576 a key may hold"),
    ("\ud800", "lone UTF-16 surrogate"),
])
async def test_the_persistent_store_refuses_what_json_cannot_hold_naming_node_and_key(
        tmp_path: Path, value: Any, reason: str) -> None:
    async with harness(flow("a", store="persistent"), tmp_path) as h:
        h.inject("a", {"scope": "flow", "op": "set", "key": "bad", "value": value})
        error = await h.wait_event(lambda event: event.kind == "error")
        assert "node a: cannot keep flow context key 'bad' in the persistent store: " \
               "the value" in error.data["text"]
        assert re.search(reason, error.data["text"])
        h.inject("a", {"scope": "flow", "op": "set", "key": "good", "value": 1})
        assert (await h.wait_for("a"))[0]["payload"] == 1  # the store still works
        assert h.engine.nodes["a"].flow_context.keys() == ["good"]


async def test_too_deep_a_value_is_refused_without_recursing(tmp_path: Path) -> None:
    deep: list[Any] = []
    for _ in range(100_000):
        deep = [deep]
    async with harness(flow("a", store="persistent"), tmp_path) as h:
        with pytest.raises(ValueError, match="nested deeper than 32 levels"):
            h.engine.nodes["a"].node_context.set("deep", deep)


async def test_a_removed_nodes_persistent_context_is_deleted_from_disk(tmp_path: Path) -> None:
    async with harness(flow("a", "b", store="persistent"), tmp_path) as h:
        h.engine.nodes["a"].node_context.set("mine", 1)
        h.engine.nodes["b"].node_context.set("mine", 2)
        await h.engine.contexts.flush()
        await h.deploy(flow("a", store="persistent"))
        await h.engine.contexts.flush()
        assert rows(tmp_path) == {("node:a", "mine"): "1"}


async def test_a_tab_that_changes_its_store_keeps_its_context(tmp_path: Path) -> None:
    async with harness(flow("a"), tmp_path) as h:
        node = h.engine.nodes["a"]
        node.node_context.set("count", 3)
        node.flow_context.set("handle", object())  # cannot be kept on disk: dropped
        await h.deploy(flow("a", store="persistent"))
        assert node.node_context.get("count") == 3
        assert node.flow_context.keys() == []
    async with harness(flow("a"), tmp_path) as h:  # back to memory: read once more
        node = h.engine.nodes["a"]
        assert node.node_context.get("count") == 3
        await h.engine.contexts.flush()
        assert rows(tmp_path) == {}


async def test_global_context_can_be_persistent_while_the_flow_uses_memory(
        tmp_path: Path) -> None:
    for run in range(2):
        h = harness(flow("a"), tmp_path)
        h.engine.contexts.global_store = "persistent"
        async with h:
            context = h.engine.nodes["a"].global_context
            assert context.get("runs", 0) == run
            context.set("runs", run + 1)
            h.engine.nodes["a"].node_context.set("lost", True)
    assert rows(tmp_path) == {("global", "runs"): "2"}


def test_the_flow_file_names_a_store_it_knows() -> None:
    with pytest.raises(FlowInvalid) as caught:
        check_flow(flow("a", store="disk"), Registry([Probe]), "f.json")
    [error] = caught.value.errors
    assert (error.pointer, error.message) == (
        "/context/store", 'must be one of "memory" or "persistent"')

