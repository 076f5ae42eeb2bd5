"""Subflows: a flow file with an input, outputs and parameters used as a node type,
expanded per instance (the cases of Node-RED's Subflow_spec re-expressed: an instance
and its stop, a subflow inside a subflow, an input passed straight to an output,
rewiring on deploy, parameters as the instance's env, nested env)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from portless.runtime import FlowInvalid, Registry, check_flow, load_flow, load_subflows
from portless.testing import FlowHarness
from tests.nodetypes import TEST_TYPES

DOUBLE = {"version": 1, "name": "Double it", "subflow": {
    "input": ["double"], "outputs": [[{"node": "double"}], [{"input": True}]],
    "parameters": {"description": "Multiplies the payload.", "properties": {
        "factor": {"type": "number", "default": 2}}}},
    "nodes": [{"id": "double", "type": "test-double", "config": {"factor": "${factor}"}}]}
"""Output 0: the payload times the factor; output 1: the input as it came."""


def write(path: Path, document: dict[str, Any]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


def flow(*nodes: dict[str, Any]) -> dict[str, Any]:
    return {"version": 1, "nodes": list(nodes)}


@pytest.fixture
def registry(tmp_path: Path) -> Registry:
    """Built-ins, the test types, and the subflows written to tmp_path/subflows."""
    registry = Registry.discover()
    for cls in TEST_TYPES:
        registry.add(cls, "test")
    write(tmp_path / "subflows" / "double.json", DOUBLE)
    load_subflows(registry, tmp_path / "subflows")
    return registry


def errors_of(tmp_path: Path, document: dict[str, Any], registry: Registry,
              env: dict[str, str] | None = None) -> list[str]:
    with pytest.raises(FlowInvalid) as caught:
        load_flow(write(tmp_path / "a.json", document), registry, env=env or {})
    return [str(error).removeprefix(f"{tmp_path}/") for error in caught.value.errors]


async def test_an_instance_runs_the_subflow_nodes_with_its_parameters(tmp_path: Path) -> None:
    write(tmp_path / "subflows" / "double.json", DOUBLE)
    path = write(tmp_path / "a.json", flow(
        {"id": "twice", "type": "subflow:double"},
        {"id": "five-times", "type": "subflow:double", "config": {"factor": 5}}))
    async with FlowHarness(path, node_types=TEST_TYPES) as h:  # finds a.json's subflows/
        h.inject("twice", {"payload": 3})
        h.inject("five-times", {"payload": 3})
        assert [m["payload"] for m in await h.wait_for("twice")] == [6]
        assert [m["payload"] for m in await h.wait_for("five-times")] == [15]
        # The input passed straight through to output 1, as it came.
        assert [m["payload"] for m in await h.wait_for("twice", port=1)] == [3]
        assert {"five-times/double", "twice/double"} <= set(h.engine.nodes)
        assert "twice" not in h.engine.nodes  # an instance is no node of its own


async def test_wires_to_and_from_an_instance_reach_through_it(tmp_path: Path) -> None:
    write(tmp_path / "subflows" / "double.json", DOUBLE)
    path = write(tmp_path / "a.json", flow(
        {"id": "source", "type": "test-double", "config": {"factor": 1},
         "wires": [["sf"]]},
        {"id": "sf", "type": "subflow:double", "config": {"factor": 10},
         "wires": [["after"], ["after"]]},
        {"id": "after", "type": "test-double", "config": {"factor": 1}}))
    async with FlowHarness(path, node_types=TEST_TYPES) as h:
        assert h.engine.flow is not None
        assert h.engine.flow.spec("source").wires[0][0] == "sf/double"
        h.inject("source", {"payload": 4})
        assert sorted(m["payload"] for m in await h.wait_for("after", 2)) == [4, 40]


async def test_a_subflow_inside_a_subflow_sees_the_outer_parameters(tmp_path: Path) -> None:
    """Node-RED's nested env: an inner instance's nodes see its own parameters, then
    those of the instances around it, then the environment."""
    write(tmp_path / "subflows" / "double.json", DOUBLE)
    write(tmp_path / "subflows" / "outer.json", {"version": 1, "subflow": {
        "input": ["inner"], "outputs": [[{"node": "tag"}]],
        "parameters": {"properties": {"gain": {"type": "number", "default": 3},
                                      "label": {"type": "string", "default": "x"}}}},
        "nodes": [
            {"id": "inner", "type": "subflow:double", "config": {"factor": "${gain}"},
             "wires": [["tag"]]},
            {"id": "tag", "type": "test-client",
             "config": {"connection": "conn", "label": "${label}-${HOME}"}},
            {"id": "conn", "type": "test-connection"}]})
    path = write(tmp_path / "a.json", flow({"id": "o", "type": "subflow:outer",
                                            "config": {"gain": 7, "label": "pump"}}))
    async with FlowHarness(path, node_types=TEST_TYPES, env={"HOME": "/h"}) as h:
        assert h.engine.flow is not None
        assert h.engine.flow.spec("o/inner/double").config == {"factor": 7}
        assert h.engine.flow.spec("o/tag").config["label"] == "pump-/h"
        h.inject("o", {"payload": 2})
        (out,) = await h.wait_for("o")
        assert out["payload"] == 14
        assert out["via"] == "o/conn"  # the instance's own connection


def test_a_parameter_is_found_before_the_environment_and_keeps_its_type(
        tmp_path: Path, registry: Registry) -> None:
    write(tmp_path / "subflows" / "p.json", {"version": 1, "subflow": {
        "input": ["c"], "parameters": {"properties": {
            "HOME": {"type": "string", "default": "param"},
            "conn": {"type": "string", "x-ref": "test-connection", "default": "broker"}}}},
        "nodes": [{"id": "c", "type": "test-client",
                   "config": {"connection": "${conn}", "label": "${HOME}:${USER}"}}]})
    load_subflows(registry, tmp_path / "subflows")
    checked = load_flow(write(tmp_path / "a.json", flow(
        {"id": "broker", "type": "test-connection"},
        {"id": "p", "type": "subflow:p"})), registry, env={"HOME": "/home", "USER": "u"})
    # HOME is a parameter: it shadows the variable; USER is not: the environment's.
    assert checked.spec("p/c").config == {"connection": "broker", "label": "param:u"}
    assert checked.spec("p/c").refs == ("broker",)  # the outer flow's connection
    assert checked.spec("p/c").instance == "p"


def test_errors_name_the_instance_and_the_inner_node(tmp_path: Path,
                                                     registry: Registry) -> None:
    write(tmp_path / "subflows" / "loose.json", {"version": 1, "subflow": {
        "parameters": {"properties": {"factor": {"default": 2}}}},  # any type
        "nodes": [{"id": "double", "type": "test-double", "config": {"factor": "${factor}"}}]})
    load_subflows(registry, tmp_path / "subflows")
    assert errors_of(tmp_path, flow(
        {"id": "d", "type": "subflow:double", "config": {"factor": "big"}},
        {"id": "e", "type": "subflow:double", "config": {"factr": 1}},
        {"id": "f", "type": "subflow:doubel"},
        {"id": "g", "type": "subflow:loose", "config": {"factor": "big"}}), registry) == [
        # Its own parameter is wrong: what follows from it inside is not said again.
        "a.json: node d: /config/factor: must be a number",
        "a.json: node e: /config/factr: unknown field 'factr'; did you mean 'factor'?",
        "a.json: node f: /type: unknown node type 'subflow:doubel'; "
        "did you mean 'subflow:double'?",
        "a.json: node g (subflow:loose, inner node double): /config/factor: must be a number"]


def test_a_misspelt_parameter_gets_a_hint(tmp_path: Path, registry: Registry) -> None:
    write(tmp_path / "subflows" / "typo.json", {**DOUBLE, "nodes": [
        {"id": "double", "type": "test-double", "config": {"factor": "${factr}"}}]})
    load_subflows(registry, tmp_path / "subflows")
    assert errors_of(tmp_path, flow({"id": "t", "type": "subflow:typo"}), registry)[0] == (
        "a.json: node t (subflow:typo, inner node double): /config/factor: environment "
        "variable factr is not set, and no parameter is named so; did you mean 'factor'?")


def test_a_nested_error_names_the_path_inside(tmp_path: Path, registry: Registry) -> None:
    write(tmp_path / "subflows" / "outer.json", {"version": 1, "subflow": {
        "input": ["inner"], "parameters": {"properties": {
            "gain": {"type": "string", "default": "x"}}}},
        "nodes": [{"id": "inner", "type": "subflow:double", "config": {"factor": 1},
                   "wires": [["nowhere"]]},
                  {"id": "c", "type": "test-client", "config": {"connection": "${PLANT}"}}]})
    load_subflows(registry, tmp_path / "subflows")
    assert errors_of(tmp_path, flow({"id": "o", "type": "subflow:outer"}), registry) == [
        "a.json: node o (subflow:outer, inner node inner): /wires/0/0: "
        "wire to missing node 'o/nowhere'",
        "a.json: node o (subflow:outer, inner node c): /config/connection: "
        "environment variable PLANT is not set",
        "a.json: node o (subflow:outer, inner node c): /config/connection: "
        "refers to missing test-connection '${PLANT}'"]


def test_a_subflow_that_uses_itself_names_the_chain(tmp_path: Path,
                                                    registry: Registry) -> None:
    for name, uses in (("a", "b"), ("b", "a")):
        write(tmp_path / "subflows" / f"{name}.json", {"version": 1, "subflow": {},
              "nodes": [{"id": "x", "type": f"subflow:{uses}"}]})
    load_subflows(registry, tmp_path / "subflows")
    assert errors_of(tmp_path, flow({"id": "top", "type": "subflow:a"}), registry) == [
        "a.json: node top (subflow:a, inner node x/x): /type: "
        "subflow:a uses itself: subflow:a -> subflow:b -> subflow:a"]
    with pytest.raises(FlowInvalid) as caught:  # and the file on its own says so too
        load_flow(tmp_path / "subflows" / "a.json", registry)
    assert [str(e).removeprefix(f"{tmp_path}/") for e in caught.value.errors] == [
        "subflows/a.json: node x (subflow:b, inner node x): /type: "
        "subflow:a uses itself: subflow:a -> subflow:b -> subflow:a"]


def test_a_subflow_file_is_checked_on_its_own_with_its_defaults(
        tmp_path: Path, registry: Registry) -> None:
    checked = load_flow(tmp_path / "subflows" / "double.json", registry)
    assert checked.spec("double").config == {"factor": 2}
    broken = {**DOUBLE, "subflow": {"input": ["dubble"], "status": "gone",
                                    "outputs": [[{"node": "double", "port": 1}]]}}
    assert errors_of(tmp_path, broken, registry) == [
        "a.json: /subflow/input/0: names missing node 'dubble'",
        "a.json: /subflow/outputs/0/0/port: output port 1 does not exist: "
        "test-double has 1 output(s)",
        "a.json: /subflow/status: names missing node 'gone'",
        # Without its parameters, ${factor} is an environment variable.
        "a.json: node double: /config/factor: environment variable factor is not set",
        "a.json: node double: /config/factor: must be a number"]


def test_a_subflow_output_from_an_inner_node_counts_the_ports_of_its_config(
        tmp_path: Path, registry: Registry) -> None:
    def router(port: int) -> dict[str, Any]:
        return {"version": 1, "subflow": {"input": ["route"],
                                          "outputs": [[{"node": "route", "port": port}]]},
                "nodes": [{"id": "route", "type": "test-rules",
                           "config": {"rules": [1, 2, 3]}}]}

    assert load_flow(write(tmp_path / "a.json", router(2)), registry).spec("route")
    assert errors_of(tmp_path, router(3), registry) == [
        "a.json: /subflow/outputs/0/0/port: output port 3 does not exist: "
        "test-rules has 3 output(s)"]


def test_a_subflow_file_that_does_not_load_is_said_where_it_is_used(
        tmp_path: Path, registry: Registry) -> None:
    write(tmp_path / "subflows" / "bad.json", {"version": 1, "subflow": {
        "parameters": {"properties": {"level": {"type": "number"}}}}, "nodes": []})
    load_subflows(registry, tmp_path / "subflows")
    (line,) = errors_of(tmp_path, flow({"id": "b", "type": "subflow:bad"}), registry)
    assert line.startswith("a.json: node b: /type: unknown node type 'subflow:bad' "
                           "(it did not load: subflow file ")
    assert line.endswith("/subflow/parameters/properties/level/default: required field is "
                         "missing)")


def test_the_registry_describes_a_subflow_like_any_node_type(registry: Registry) -> None:
    cls = registry.get("subflow:double")
    assert cls is not None
    described = registry.describe(cls)
    assert (described["inputs"], described["outputs"], described["category"]) == (
        1, 2, "subflows")
    assert described["source"].startswith("subflow file ")
    assert described["schema"]["title"] == "Double it"
    assert described["schema"]["properties"]["factor"]["default"] == 2


async def test_deploy_restarts_whole_instances_and_only_the_changed_ones(
        tmp_path: Path) -> None:
    """A changed definition restarts every instance of it; changed parameters only
    that instance."""
    write(tmp_path / "subflows" / "double.json", DOUBLE)
    path = write(tmp_path / "a.json", flow(
        {"id": "a", "type": "subflow:double"},
        {"id": "b", "type": "subflow:double", "config": {"factor": 3}},
        {"id": "plain", "type": "test-double"}))
    async with FlowHarness(path, node_types=TEST_TYPES) as h:
        h.document["nodes"][1]["config"] = {"factor": 4}
        report = await h.engine.deploy(check_flow(h.document, h.registry, str(path)))
        assert report.stopped == ("b/double",)
        with_two = {**DOUBLE, "nodes": [*DOUBLE["nodes"],
                                        {"id": "extra", "type": "test-double"}]}
        write(tmp_path / "subflows" / "double.json", with_two)
        load_subflows(h.registry, tmp_path / "subflows")  # read again: the type is replaced
        report = await h.engine.deploy(check_flow(h.document, h.registry, str(path)))
        assert sorted(report.stopped) == ["a/double", "b/double"]
        assert sorted(report.started) == ["a/double", "a/extra", "b/double", "b/extra"]
        assert "plain" in report.unchanged
        h.inject("b", {"payload": 1})
        assert [m["payload"] for m in await h.wait_for("b")] == [4]


def test_the_shipped_subflow_checks_on_its_own_taking_its_connection_from_the_user(
        ) -> None:
    """Its broker parameter's default names a connection the using flow provides."""
    root = Path(__file__).resolve().parents[2]
    registry = Registry.discover()
    load_subflows(registry, root / "flows" / "subflows")
    checked = load_flow(root / "flows" / "subflows" / "deadband-report.json", registry)
    assert checked.spec("publish").config["broker"] == "plant-broker"
    used = load_flow(root / "flows" / "two-valves.json", registry)
    assert used.spec("valve-2-report/deadband").config["band"] == 2.5
    assert used.spec("valve-2-report/publish").config["qos"] == 0
    assert used.spec("valve-1-flow").wires == (("valve-1-report/deadband",),)
    assert used.spec("valve-1-report/deadband").wires == (
        ("valve-1-report/publish", "reported"),)


async def test_a_subflow_file_runs_on_its_own_with_its_defaults(tmp_path: Path) -> None:
    """What a subflow's author tests first: the file itself, as a flow."""
    path = write(tmp_path / "subflows" / "double.json", DOUBLE)
    async with FlowHarness(path, node_types=TEST_TYPES) as h:
        h.inject("double", {"payload": 4})
        assert [m["payload"] for m in await h.wait_for("double")] == [8]


async def test_a_disabled_instance_runs_none_of_its_nodes(tmp_path: Path) -> None:
    write(tmp_path / "subflows" / "double.json", DOUBLE)
    path = write(tmp_path / "a.json", flow(
        {"id": "src", "type": "test-double", "config": {"factor": 1},
         "wires": [["off", "on"]]},
        {"id": "off", "type": "subflow:double", "disabled": True, "wires": [["after"]]},
        {"id": "on", "type": "subflow:double"},
        {"id": "after", "type": "test-double"}))
    async with FlowHarness(path, node_types=TEST_TYPES) as h:
        assert "off/double" not in h.engine.nodes
        assert "on/double" in h.engine.nodes
        h.inject("src", {"payload": 3})
        assert [m["payload"] for m in await h.wait_for("on")] == [6]
        assert h.received("after") == []
