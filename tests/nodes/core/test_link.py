"""link-in / link-out: a link-out's messages reach the link-ins it names, in its own
flow file or another; Node-RED's 60-link_spec (link in/out part) as rows."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from portless.nodes.core.link import LinkIn, LinkOut
from portless.runtime import DeployService, Engine, FlowInvalid, Registry
from portless.runtime.tabs import check_tabs
from portless.testing import Collector, FlowHarness
from tests.nodetypes import TEST_TYPES


def node(node_id: str, type_: str, config: dict[str, Any] | None = None,
         wires: list[list[str]] | None = None, name: str = "") -> dict[str, Any]:
    return {"id": node_id, "type": type_, "name": name, "config": config or {},
            "wires": wires or []}


def flow(*nodes: dict[str, Any]) -> dict[str, Any]:
    return {"version": 1, "nodes": list(nodes)}


# Node-RED's cases: (what it checks, the flow, messages into link-outs, what each
# link-in sends on).
LINKED = [
    ("a link-in loads with its name",
     [node("in", "link-in", name="link-in")], [], {"in": []}),
    ("a link-out loads with its name",
     [node("out", "link-out", name="link-out")], [("out", "hello")], {}),
    ("a link-out reaches the link-in it names",
     [node("out", "link-out", {"links": ["in"]}), node("in", "link-in")],
     [("out", "hello")], {"in": ["hello"]}),
    ("a link-out reaches each link-in it names",
     [node("out", "link-out", {"links": ["in0", "in1"]}), node("in0", "link-in"),
      node("in1", "link-in")], [("out", "hello")], {"in0": ["hello"], "in1": ["hello"]}),
    ("a link-in passes on what each link-out naming it sends",
     [node("out0", "link-out", {"links": ["in"]}),
      node("out1", "link-out", {"links": ["in"]}), node("in", "link-in")],
     [("out0", "hello"), ("out1", "world")], {"in": ["hello", "world"]}),
]


@pytest.mark.parametrize(("nodes", "sent", "expected"),
                         [row[1:] for row in LINKED], ids=[row[0] for row in LINKED])
async def test_link_out_sends_to_the_link_ins_it_names(
        nodes: list[dict[str, Any]], sent: list[tuple[str, str]],
        expected: dict[str, list[str]]) -> None:
    async with FlowHarness(flow(*nodes)) as h:
        for node_id, payload in sent:
            h.inject(node_id, {"payload": payload})
        await h.engine.wait_idle(5)
        for entry in nodes:
            assert h.engine.nodes[entry["id"]].name == entry["name"]
        assert {link_in: [msg["payload"] for msg in h.received(link_in)]
                for link_in in expected} == expected


async def test_each_link_in_gets_its_own_copy() -> None:
    nodes = [node("out", "link-out", {"links": ["a", "b"]}), node("a", "link-in"),
             node("b", "link-in")]
    async with FlowHarness(flow(*nodes)) as h:
        h.inject("out", {"payload": {"n": 1}})
        [got_a] = await h.wait_for("a")
        [got_b] = await h.wait_for("b")
    assert got_a == got_b
    assert got_a is not got_b
    assert got_a["payload"] is not got_b["payload"]


BROKEN = [
    ("a missing link-in", [node("out", "link-out", {"links": ["gone"]})],
     "node out: /config/links/0: refers to missing link-in 'gone'"),
    ("a node that is no link-in",
     [node("out", "link-out", {"links": ["in", "other"]}), node("in", "link-in"),
      node("other", "link-out")],
     "node out: /config/links/1: refers to 'other', a link-out, but must refer to "
     "a link-in"),
    ("links in return mode", [node("out", "link-out", {"mode": "return", "links": ["in"]}),
                              node("in", "link-in")],
     "node out: /config/links"),
    ("a wire into a link-in: only links reach it",
     [node("src", "test-double", wires=[["in"]]), node("in", "link-in")],
     "node src: /wires/0/0: wire to node 'in', but link-in has no input"),
]


@pytest.mark.parametrize(("nodes", "error"), [row[1:] for row in BROKEN],
                         ids=[row[0] for row in BROKEN])
async def test_a_link_to_no_link_in_is_refused_at_load(
        nodes: list[dict[str, Any]], error: str) -> None:
    with pytest.raises(FlowInvalid, match=error):
        async with FlowHarness(flow(*nodes), node_types=TEST_TYPES):
            pass


async def test_return_mode_without_a_waiting_call_warns_and_sends_nothing() -> None:
    async with FlowHarness(flow(node("back", "link-out", {"mode": "return"}))) as h:
        h.inject("back", {"payload": 1})
        event = await h.wait_event(lambda event: event.kind == "warning")
    assert event.node_id == "back"
    assert "no link-call is waiting" in event.data["text"]


# --- across flow files ---------------------------------------------------------------
REGISTRY = Registry([*TEST_TYPES, LinkIn, LinkOut, Collector])
SENDER = flow(node("out", "link-out", {"links": ["in"]}))


def receiver(*extra: dict[str, Any]) -> dict[str, Any]:
    return flow(node("in", "link-in", wires=[["sink"]]),
                node("sink", Collector.type), *extra)


def test_a_link_out_names_a_link_in_of_another_file() -> None:
    flows = check_tabs({Path("a.json"): SENDER, Path("b.json"): receiver()}, REGISTRY)
    assert flows[Path("a.json")].spec("out").refs == ("in",)
    with pytest.raises(FlowInvalid, match=r"a\.json: node out: /config/links/0: refers to "
                                          "missing link-in 'in'"):
        check_tabs({Path("a.json"): SENDER, Path("b.json"): flow()}, REGISTRY)


async def test_a_deploy_of_one_file_relinks_the_link_outs_of_another(tmp_path: Path) -> None:
    files = {tmp_path / "a.json": SENDER, tmp_path / "b.json": receiver()}
    for path, document in files.items():
        path.write_text(json.dumps(document))
    engine = Engine(REGISTRY, state_dir=tmp_path / "state")
    service = DeployService(engine, REGISTRY, list(files))
    service.load()
    await service.start()
    try:
        engine.inject("out", {"payload": "before"})
        # b.json's link-in changes (a name): a new node object, which the link-out reaches.
        changed = receiver()
        changed["nodes"][0]["name"] = "renamed"
        outcome = await service.deploy(tmp_path / "b.json", changed)
        assert "out" in outcome.report.started
        engine.inject("out", {"payload": "after"})
        await engine.wait_idle(5)
        sink = engine.nodes["sink"]
        assert isinstance(sink, Collector)
        assert [msg["payload"] for msg in sink.received] == ["before", "after"]
        # Taking the link-in away while a.json still names it is refused, as at load.
        with pytest.raises(FlowInvalid, match="refers to missing link-in 'in'"):
            await service.deploy(tmp_path / "b.json", flow())
    finally:
        await engine.stop()
