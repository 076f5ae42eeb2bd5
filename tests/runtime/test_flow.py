"""Flow files: every kind of bad input gives an error naming file, node and field;
canonical form is stable; ``${ENV}`` is resolved but never written back."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import pytest

from portless.runtime import (
    FlowInvalid,
    Node,
    Registry,
    canonical_text,
    check_flow,
    load_flow,
)
from portless.runtime.flow import check_shape, write_flow
from tests.nodetypes import TEST_TYPES


@pytest.fixture
def registry() -> Registry:
    registry = Registry.discover()
    for cls in TEST_TYPES:
        registry.add(cls, "test")
    return registry


def node(node_id: str, type_: str, config: dict[str, Any] | None = None,
         wires: list[list[str]] | None = None) -> dict[str, Any]:
    entry: dict[str, Any] = {"id": node_id, "type": type_, "config": config or {}}
    if wires is not None:
        entry["wires"] = wires
    return entry


def errors_of(document: Any, registry: Registry, env: dict[str, str] | None = None) -> list[str]:
    with pytest.raises(FlowInvalid) as caught:
        check_flow(document, registry, "flows/x.json", env=env or {})
    return [str(error) for error in caught.value.errors]


def test_valid_flow_fills_defaults_and_keeps_file_order(registry: Registry) -> None:
    flow = check_flow({"version": 1, "nodes": [
        node("a", "test-double", wires=[["b"]]), node("b", "test-double", {"factor": 3})]},
        registry, env={})
    assert [spec.id for spec in flow.nodes] == ["a", "b"]
    assert flow.spec("a").config == {"factor": 2}
    assert flow.spec("a").wires == (("b",),)
    assert flow.spec("b").config == {"factor": 3}


def test_not_json_names_line_and_column(write_flow: Any, registry: Registry) -> None:
    path = write_flow('{\n  "version": 1,\n  "nodes": [\n    {"id": "a",}\n  ]\n}\n')
    with pytest.raises(FlowInvalid) as caught:
        load_flow(path, registry)
    (error,) = caught.value.errors
    assert str(error).startswith(f"{path}: line 4, column")
    assert "not valid JSON" in str(error)


def test_missing_file_is_an_error_not_a_traceback(tmp_path: Path, registry: Registry) -> None:
    with pytest.raises(FlowInvalid) as caught:
        load_flow(tmp_path / "absent.json", registry)
    assert [str(e) for e in caught.value.errors] == [
        f"{tmp_path / 'absent.json'}: cannot read the file: No such file or directory"]


def test_a_file_that_is_not_utf8_names_the_line_and_byte(tmp_path: Path,
                                                          registry: Registry) -> None:
    path = tmp_path / "latin1.json"
    data = b'{"version": 1,\n "name": "caf\xe9", "nodes": []}'
    path.write_bytes(data)
    with pytest.raises(FlowInvalid) as caught:
        load_flow(path, registry)
    assert [str(e) for e in caught.value.errors] == [
        f"{path}: line 2: not UTF-8 text (byte 0xe9 at offset {data.index(0xe9)}); save "
        f"the file as UTF-8"]


@pytest.mark.parametrize(("document", "expected"), [
    ([], "a flow file is a JSON object"),
    ({"nodes": []}, "flows/x.json: /version: required field is missing"),
    ({"version": 2, "nodes": []}, "flows/x.json: /version: must be 1"),
    ({"version": 1, "nodes": {}}, "flows/x.json: /nodes: must be a list"),
    ({"version": 1, "nodes": [], "extra": 1}, "flows/x.json: /extra: unknown field 'extra'"),
    ({"version": 1, "nodes": [{"id": "a", "type": "test-double", "wire": []}]},
     "flows/x.json: node a: /wire: unknown field 'wire'; did you mean 'wires'?"),
    ({"version": 1, "nodes": [{"id": "a b", "type": "test-double"}]},
     "flows/x.json: node a b: /id: must start with a letter or digit and hold only "
     "letters, digits and _ . : -"),
    ({"version": 1, "nodes": [{"type": "test-double"}]},
     "flows/x.json: /nodes/0/id: required field is missing"),
])
def test_wrong_top_level_shape(document: Any, expected: str, registry: Registry) -> None:
    if not isinstance(document, dict):
        from portless.runtime.flow import parse_flow
        with pytest.raises(FlowInvalid, match=expected):
            parse_flow(json.dumps(document), "flows/x.json")
        return
    assert any(error.startswith(expected) for error in errors_of(document, registry))


def test_duplicate_ids(registry: Registry) -> None:
    errors = errors_of({"version": 1, "nodes": [node("a", "debug"), node("a", "debug")]},
                       registry)
    assert "flows/x.json: node a: /id: duplicate id: another node has the same id" in errors


def test_unknown_type_names_closest_known(registry: Registry) -> None:
    errors = errors_of({"version": 1, "nodes": [node("f", "exception-filtr")]}, registry)
    assert errors == ["flows/x.json: node f: /type: unknown node type 'exception-filtr'; "
                      "did you mean 'exception-filter'?"]


def test_config_error_names_the_field_pointer(registry: Registry) -> None:
    errors = errors_of({"version": 1, "nodes": [node("a", "test-double", {"factor": "x"})]},
                       registry)
    assert errors == ["flows/x.json: node a: /config/factor: must be a number"]


def test_unknown_config_field_suggests_the_known_one(registry: Registry) -> None:
    errors = errors_of({"version": 1, "nodes": [node("a", "test-double", {"factr": 3})]},
                       registry)
    assert errors == ["flows/x.json: node a: /config/factr: unknown field 'factr'; "
                      "did you mean 'factor'?"]


def test_wire_to_missing_node(registry: Registry) -> None:
    errors = errors_of({"version": 1, "nodes": [node("a", "test-double", wires=[["ghost"]])]},
                       registry)
    assert errors == ["flows/x.json: node a: /wires/0/0: wire to missing node 'ghost'"]


def test_wire_from_port_that_does_not_exist(registry: Registry) -> None:
    errors = errors_of({"version": 1, "nodes": [
        node("a", "test-double", wires=[["b"], ["b"]]), node("b", "debug")]}, registry)
    assert errors == ["flows/x.json: node a: /wires/1: output port 1 does not exist: "
                      "test-double has 1 output(s)"]


def test_a_wire_from_a_port_this_config_does_not_give_names_node_and_port(
        registry: Registry) -> None:
    errors = errors_of({"version": 1, "nodes": [
        node("r", "test-rules", {"rules": [7]}, wires=[["b"], [], ["b"]]), node("b", "debug")]},
        registry)
    assert errors == ["flows/x.json: node r: /wires/1: output port 1 does not exist: "
                      "test-rules has 1 output(s) with this config (one per rule)"]


def test_outputs_that_follow_the_config_take_wires_on_each_port(registry: Registry) -> None:
    flow = check_flow({"version": 1, "nodes": [
        node("r", "test-rules", {"rules": [1, 2, 3]}, wires=[["b"], ["b"], ["b"]]),
        node("d", "test-rules", wires=[["b"], ["b"]]),  # the default: two rules
        node("b", "debug")]}, registry, env={})
    assert flow.spec("r").wires == (("b",), ("b",), ("b",))


def test_an_invalid_config_is_said_once_not_also_as_every_wire(registry: Registry) -> None:
    errors = errors_of({"version": 1, "nodes": [
        node("r", "test-rules", {"rules": "many"}, wires=[["b"], ["b"], ["b"]]),
        node("b", "debug")]}, registry)
    assert errors == ["flows/x.json: node r: /config/rules: must be a list"]


@pytest.mark.parametrize(("answer", "said"), [
    ("raise", "test-answers's output_count raised RuntimeError: no idea"),
    ("two", "test-answers's output_count returned 'two', not a whole number of outputs"),
    (2.0, "returned 2.0, not a whole number of outputs"),
    (True, "returned True, not a whole number of outputs"),
    (-1, "returned -1: a node has 0 to 1,000 outputs"),
    (1001, "returned 1001: a node has 0 to 1,000 outputs"),
    ([1] * 100, "returned [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, ..., not a whole number"),
])
def test_an_output_count_that_misbehaves_is_an_error_naming_the_node(
        registry: Registry, answer: Any, said: str) -> None:
    errors = errors_of({"version": 1, "nodes": [
        node("bad", "test-answers", {"answer": answer}, wires=[["b"]]), node("b", "debug")]},
        registry)
    assert len(errors) == 1
    assert errors[0].startswith("flows/x.json: node bad: /config: cannot tell how many "
                                "outputs this config gives: ")
    assert said in errors[0]


def test_a_huge_output_count_is_said_briefly(registry: Registry) -> None:
    class Huge(Node):
        type = "test-huge"

        @classmethod
        def output_count(cls, config: Mapping[str, Any]) -> int:
            return 10 ** 5000  # too long even to print in decimal

    registry.add(Huge, "test")
    errors = errors_of({"version": 1, "nodes": [node("h", "test-huge")]}, registry)
    assert errors == ["flows/x.json: node h: /config: cannot tell how many outputs this "
                      "config gives: test-huge's output_count returned a 16610-bit number: "
                      "a node has 0 to 1,000 outputs"]


def test_an_output_count_written_as_a_plain_method_is_an_error_not_a_crash(
        registry: Registry) -> None:
    class Plain(Node):
        type = "test-plain"

        def output_count(self, config: Mapping[str, Any]) -> int:  # type: ignore[override]
            return 2

    registry.add(Plain, "test")
    errors = errors_of({"version": 1, "nodes": [node("p", "test-plain")]}, registry)
    assert len(errors) == 1
    assert errors[0].startswith("flows/x.json: node p: /config: cannot tell how many outputs "
                                "this config gives: test-plain's output_count raised "
                                "TypeError: ")


def test_wire_into_node_without_input(registry: Registry) -> None:
    errors = errors_of({"version": 1, "nodes": [
        node("a", "test-double", wires=[["src"]]), node("src", "io-in")]}, registry)
    assert errors == ["flows/x.json: node a: /wires/0/0: wire to node 'src', "
                      "but io-in has no input"]


def test_reference_to_missing_shared_connection(registry: Registry) -> None:
    errors = errors_of({"version": 1, "nodes": [
        node("c", "test-client", {"connection": "nowhere"})]}, registry)
    assert errors == ["flows/x.json: node c: /config/connection: "
                      "refers to missing test-connection 'nowhere'"]


def test_reference_to_wrong_type(registry: Registry) -> None:
    errors = errors_of({"version": 1, "nodes": [
        node("c", "test-client", {"connection": "d"}), node("d", "debug")]}, registry)
    assert errors == ["flows/x.json: node c: /config/connection: refers to 'd', a debug, "
                      "but must refer to a test-connection"]


def test_reference_names_the_type_with_the_right_article(registry: Registry) -> None:
    errors = errors_of({"version": 1, "nodes": [
        node("c", "test-client", {"connection": "src"}), node("src", "io-in")]}, registry)
    assert errors == ["flows/x.json: node c: /config/connection: refers to 'src', an io-in, "
                      "but must refer to a test-connection"]


def test_an_mqtt_node_is_named_with_an(registry: Registry) -> None:
    """MQTT is said letter by letter ("em-queue-tee-tee"): "an mqtt-broker"."""
    errors = errors_of({"version": 1, "nodes": [
        {"id": "b", "type": "mqtt-broker", "config": {"host": "h"}},
        node("c", "test-client", {"connection": "b"})]}, registry)
    assert errors == ["flows/x.json: node c: /config/connection: refers to 'b', "
                      "an mqtt-broker, but must refer to a test-connection"]


def test_an_unknown_key_does_not_hide_the_config_errors(registry: Registry) -> None:
    """Every Node-RED export has "z" (the tab) on each node: one shape error, and the
    config and wire errors of the same file are still reported with it."""
    errors = errors_of({"version": 1, "nodes": [
        {**node("a", "test-double", {"factor": "x"}, wires=[["ghost"]]), "z": "tab1"},
        node("b", "nope"),
        {"id": "c", "type": "test-double", "config": [], "wires": "b"},
        {"id": 7, "type": "test-double"}]}, registry)
    assert "flows/x.json: node a: /z: unknown field 'z'" in errors
    assert "flows/x.json: node a: /wires/0/0: wire to missing node 'ghost'" in errors
    assert any(line.startswith("flows/x.json: node a: /config/factor: ") for line in errors)
    assert "flows/x.json: node b: /type: unknown node type 'nope'" in errors
    assert any(line.startswith("flows/x.json: node c: /config: ") for line in errors)
    assert any(line.startswith("flows/x.json: node c: /wires: ") for line in errors)
    assert any(line.startswith("flows/x.json: /nodes/3/id: ") for line in errors)
    assert len(errors) == 7, errors


def test_missing_env_variable(registry: Registry) -> None:
    document = {"version": 1, "nodes": [
        node("conn", "test-connection", {"url": "mqtts://${HOST}:${PORT}"})]}
    errors = errors_of(document, registry, env={"HOST": "broker"})
    assert errors == ["flows/x.json: node conn: /config/url: environment variable PORT "
                      "is not set"]


def test_env_is_resolved_in_memory_and_never_written_back(
        write_flow: Any, registry: Registry) -> None:
    path = write_flow({"version": 1, "nodes": [
        node("conn", "test-connection", {"url": "${SECRET_URL}"})]})
    before = path.read_text()
    flow = load_flow(path, registry, env={"SECRET_URL": "s3cr3t"})
    assert flow.spec("conn").config["url"] == "s3cr3t"
    assert flow.document["nodes"][0]["config"]["url"] == "${SECRET_URL}"
    write_flow_path = path.with_name("saved.json")
    write_flow_path.write_text("")
    from portless.runtime import write_flow as save
    save(write_flow_path, flow.document)
    assert "s3cr3t" not in write_flow_path.read_text()
    assert path.read_text() == before


def test_unresolved_env_allowed_when_linting(registry: Registry) -> None:
    document = {"version": 1, "nodes": [node("conn", "test-connection", {"url": "${NOPE}"})]}
    flow = check_flow(document, registry, env={}, resolve_env=False)
    assert flow.spec("conn").config["url"] == "${NOPE}"


def test_every_error_is_reported_at_once(registry: Registry) -> None:
    errors = errors_of({"version": 1, "nodes": [
        node("a", "test-double", {"factor": "x"}, wires=[["ghost"]]),
        node("b", "nope")]}, registry)
    assert len(errors) == 3


CANONICAL = """\
{
  "version": 1,
  "nodes": [
    {
      "id": "a",
      "type": "test-double",
      "name": "Double",
      "config": {
        "factor": 2,
        "nested": {
          "a": [1, 2],
          "z": true
        }
      },
      "wires": [["b", "c"], []],
      "x": 10,
      "y": 21
    }
  ]
}
"""


def test_canonical_text_orders_keys_rounds_positions_and_ends_with_newline() -> None:
    messy = {"nodes": [{"y": 20.6, "wires": [["b", "c"], []], "x": 10.0, "name": "Double",
                        "config": {"nested": {"z": True, "a": [1, 2]}, "factor": 2},
                        "type": "test-double", "id": "a"}], "version": 1}
    assert canonical_text(messy) == CANONICAL
    assert canonical_text(json.loads(CANONICAL)) == CANONICAL


def test_write_flow_is_atomic_and_canonical(tmp_path: Path) -> None:
    path = tmp_path / "f.json"
    path.write_text("old")
    os.chmod(path, 0o640)
    write_flow(path, json.loads(CANONICAL))
    assert path.read_text() == CANONICAL
    assert (path.stat().st_mode & 0o777) == 0o640
    assert [p.name for p in tmp_path.iterdir()] == ["f.json"]  # no temp file left behind


def test_write_flow_failure_leaves_the_old_file(tmp_path: Path) -> None:
    path = tmp_path / "f.json"
    path.write_text("old")
    with pytest.raises(TypeError):
        write_flow(path, {"version": 1, "nodes": [{"id": "a", "config": {"x": object()}}]})
    assert path.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["f.json"]


def test_a_value_from_the_environment_is_never_echoed_in_an_error(registry: Registry) -> None:
    document = {"version": 1, "nodes": [node("a", "test-double", {"factor": "${FACTOR}"})]}
    errors = errors_of(document, registry, env={"FACTOR": "hunter2"})
    assert len(errors) == 1
    assert "hunter2" not in errors[0]
    assert errors == ["flows/x.json: node a: /config/factor: the value from the "
                      "environment (not shown) must be a number"]


def test_an_env_value_inside_an_object_is_not_echoed_either(registry: Registry) -> None:
    document = {"version": 1, "nodes": [{"id": "b", "type": "mqtt-broker", "config": {
        "host": "h", "tls": {"ca_file": "${CA}", "verify": "${VERIFY}"}}}]}
    errors = errors_of(document, registry, env={"CA": "/etc/ca.pem", "VERIFY": "s3cr3t-ish"})
    assert errors
    assert not any("s3cr3t-ish" in line for line in errors)


HOSTILE_NODE = '{"version": 1, "nodes": [{"id": "c", "type": "io-in", "config": {%s}}]}'


@pytest.mark.parametrize(("config", "pointer", "sentence"), [
    ('"interval": NaN', "/config/interval", "must be a finite number"),
    ('"interval": Infinity', "/config/interval", "must be a finite number"),
    ('"interval": -Infinity', "/config/interval", "must be a finite number"),
    ('"interval": 1e309', "/config/interval", "must be a finite number"),
    ('"interval": ' + "9" * 5000, "/config/interval", "integer out of range"),
    ('"interval": 1, "interval": 2', "/config/interval", "this key appears more than once"),
    ('"topic": "a\\ud800b"', "/config/topic", "holds a lone UTF-16 surrogate"),
    ('"topic": "' + "[" * 900 + "]" * 900 + '"', None, None),  # deep, but only as text
])
def test_hostile_values_are_errors_with_node_and_field(
        write_flow: Any, registry: Registry, config: str, pointer: str | None,
        sentence: str | None) -> None:
    path = write_flow(HOSTILE_NODE % config)
    if sentence is None:
        load_flow(path, registry)
        return
    with pytest.raises(FlowInvalid) as caught:
        load_flow(path, registry)
    (error,) = caught.value.errors
    assert str(error).startswith(f"{path}: node c: {pointer}: {sentence}")


def test_nesting_beyond_the_limit_is_an_error_not_a_recursion_error(
        write_flow: Any, registry: Registry) -> None:
    for depth in (40, 900, 100_000):
        path = write_flow(HOSTILE_NODE % ('"payload": ' + "[" * depth + "]" * depth))
        with pytest.raises(FlowInvalid) as caught:
            load_flow(path, registry)
        (error,) = caught.value.errors
        assert "nested deeper than 32 levels" in str(error)
        assert str(error).startswith(f"{path}: ")


def test_a_document_from_elsewhere_is_checked_for_hostile_values_too(
        registry: Registry) -> None:
    """The editor parses request bodies itself: check_flow (and check_shape) refuse
    what parse_flow refuses, with FlowInvalid, never a RecursionError."""
    deep: Any = []
    for _ in range(5000):
        deep = [deep]
    for config, expected in (({"interval": float("nan")}, "/config/interval: must be a finite"),
                             ({"interval": 10**400}, "/config/interval: integer out of range"),
                             ({"topic": "\udc00"}, "/config/topic: holds a lone UTF-16"),
                             ({"payload": deep}, "nested deeper than 32 levels")):
        document = {"version": 1, "nodes": [node("c", "io-in", config)]}
        for check in (lambda d: check_flow(d, registry, "flows/x.json", env={}),
                      lambda d: check_shape(d, "flows/x.json")):
            with pytest.raises(FlowInvalid) as caught:
                check(document)
            assert expected in str(caught.value.errors[0]), caught.value.errors
            assert str(caught.value.errors[0]).startswith("flows/x.json: node c: /config/")


@pytest.mark.parametrize(("node_id", "shown"), [
    ("valve\n", "valve\\n"), ("val\u0007ve", "val\\u0007ve"), ("valve\r\n", "valve\\r\\n")])
def test_an_id_with_a_newline_or_control_character_is_refused(
        registry: Registry, node_id: str, shown: str) -> None:
    errors = errors_of({"version": 1, "nodes": [node(node_id, "debug")]}, registry)
    assert errors == [f"flows/x.json: node {shown}: /id: must start with a letter or digit "
                      f"and hold only letters, digits and _ . : -"]
    assert "\n" not in errors[0]


def test_a_name_or_type_with_a_control_character_is_refused_on_one_line(
        registry: Registry) -> None:
    errors = errors_of({"version": 1, "name": "valve\u0007", "nodes": [
        {"id": "a", "type": "debug", "name": "tank\nlevel"},
        {"id": "b", "type": "deb\nug"}]}, registry)
    assert "flows/x.json: /name: must not hold control characters (such as a newline): " \
           "it is shown on one line in the editor" in errors  # the flow's own name too
    assert "flows/x.json: node a: /name: must not hold control characters (such as a " \
           "newline): it is shown on one line in the editor and the logs" in errors
    assert "flows/x.json: node b: /type: must not hold control characters (such as a " \
           "newline)" in errors
    assert any(line.startswith("flows/x.json: node b: /type: unknown node type 'deb\\nug'")
               for line in errors)


@pytest.mark.parametrize("topic", [
    "device/valve-1/cmd\u0000", "a/#/b", "a/b#", "a+/b", "$share//a", "$share/group/",
    "device/\n", "a\u0085b"])
def test_mqtt_in_refuses_a_malformed_topic_filter(registry: Registry, topic: str) -> None:
    errors = errors_of({"version": 1, "nodes": [
        node("b", "mqtt-broker", {"host": "h"}),
        node("i", "mqtt-in", {"broker": "b", "topic": topic})]}, registry)
    assert errors == ["flows/x.json: node i: /config/topic: must be an MQTT topic filter: "
                      "levels separated by /, + and # each a whole level, # only as the last "
                      "one, no control characters (such as NUL); shared: $share/GROUP/FILTER"]


@pytest.mark.parametrize("topic", ["a/b", "a/+/c", "#", "a/#", "+", "$share/g/a/#", "a//b"])
def test_mqtt_in_takes_a_well_formed_filter(registry: Registry, topic: str) -> None:
    check_flow({"version": 1, "nodes": [
        node("b", "mqtt-broker", {"host": "h"}),
        node("i", "mqtt-in", {"broker": "b", "topic": topic})]}, registry, env={})


@pytest.mark.parametrize("topic", ["a/+", "a/#", "a\u0000b", "a\nb"])
def test_mqtt_out_refuses_wildcards_and_control_characters(
        registry: Registry, topic: str) -> None:
    errors = errors_of({"version": 1, "nodes": [
        node("b", "mqtt-broker", {"host": "h"}),
        node("o", "mqtt-out", {"broker": "b", "topic": topic})]}, registry)
    assert errors == ["flows/x.json: node o: /config/topic: must be an MQTT topic: no + or # "
                      "(they are for subscriptions) and no control characters (such as NUL)"]


def test_a_fifo_or_a_device_is_not_read(tmp_path: Path, registry: Registry) -> None:
    fifo = tmp_path / "flow.json"
    os.mkfifo(fifo)  # opening it for reading would wait for a writer forever
    with pytest.raises(FlowInvalid) as caught:
        load_flow(fifo, registry)
    assert [str(e) for e in caught.value.errors] == [
        f"{fifo}: not a regular file (a FIFO); give a flow file"]
    with pytest.raises(FlowInvalid) as caught:
        load_flow("/dev/zero", registry)  # endless: would fill memory
    assert [str(e) for e in caught.value.errors] == [
        "/dev/zero: not a regular file (a character device); give a flow file"]
    with pytest.raises(FlowInvalid, match="not a regular file \\(a directory\\)"):
        load_flow(tmp_path, registry)


def test_a_file_over_the_size_limit_is_not_read(tmp_path: Path, registry: Registry) -> None:
    from portless.runtime.flow import MAX_FLOW_BYTES

    path = tmp_path / "huge.json"
    with path.open("wb") as stream:
        stream.truncate(MAX_FLOW_BYTES + 1)  # sparse: no disk used
    with pytest.raises(FlowInvalid) as caught:
        load_flow(path, registry)
    assert [str(e) for e in caught.value.errors] == [
        f"{path}: larger than {MAX_FLOW_BYTES} bytes, the most a flow file may hold"]


def test_connections_that_refer_to_each_other_are_an_error_at_check_time(
        registry: Registry) -> None:
    document = {"version": 1, "nodes": [
        node("t1", "test-tunnel", {"via": "t2"}), node("t2", "test-tunnel", {"via": "t1"}),
        node("t3", "test-tunnel", {"via": "t3"})]}
    assert errors_of(document, registry) == [
        "flows/x.json: node t1: /config/via: refers to 't2', which leads back to this node "
        "(t1 -> t2 -> t1): a shared connection cannot depend on itself",
        "flows/x.json: node t3: /config/via: refers to itself: a shared connection cannot "
        "depend on itself"]


@pytest.mark.parametrize(("config", "expected"), [
    ({"band": "wide"}, '/config/band: must be a number (0 or more) or a percentage like "10%"'),
    ({"mode": "sometimes"}, '/config/mode: must be one of "changed", "changed-ignore-initial", '
                            '"deadband", "deadband-or-equal", "narrowband" or '
                            '"narrowband-or-equal"'),
    ({"property": "a b"}, "/config/property: must be a message property path such as "
                          'payload, payload.values[2] or payload["a b"]: unexpected space '
                          "at position 1"),
    ({"min_interval": -1}, "/config/min_interval: must be at least 0"),
])
def test_config_errors_say_what_is_allowed_in_words(
        registry: Registry, config: dict[str, Any], expected: str) -> None:
    """Never "is not valid under any of the given schemas" or a regular expression."""
    errors = errors_of({"version": 1, "nodes": [node("f", "exception-filter", config)]},
                       registry)
    assert errors == [f"flows/x.json: node f: {expected}"]


def test_a_second_check_reuses_the_unchanged_nodes_and_rechecks_the_changed_one(
        registry: Registry) -> None:
    document = {"version": 1, "nodes": [node("a", "test-double", wires=[["b"]]),
                                        node("b", "test-double")]}
    first = check_flow(document, registry, "f.json", env={})
    document["nodes"][1]["config"]["factor"] = 5
    second = check_flow(document, registry, "f.json", env={})
    assert second.spec("a") is first.spec("a")
    assert second.spec("b").config == {"factor": 5}
    document["nodes"][1]["config"]["factor"] = "five"
    assert errors_of(document, registry) == [
        "flows/x.json: node b: /config/factor: must be a number"]


def test_a_remembered_node_is_checked_again_when_what_it_points_at_changes(
        registry: Registry) -> None:
    document = {"version": 1, "nodes": [
        node("conn", "test-connection"), node("a", "test-double", wires=[["b"]]),
        node("b", "test-double"), node("user", "test-client", {"connection": "conn"})]}
    check_flow(document, registry, "flows/x.json", env={})
    document["nodes"][2]["type"] = "test-connection"  # b no longer has an input
    document["nodes"][0]["type"] = "test-double"  # conn is no longer a connection
    assert errors_of(document, registry) == [
        "flows/x.json: node a: /wires/0/0: wire to node 'b', but test-connection has no input",
        "flows/x.json: node user: /config/connection: refers to 'conn', a test-double, but "
        "must refer to a test-connection"]


def test_a_node_with_an_env_reference_is_resolved_at_every_check(registry: Registry) -> None:
    document = {"version": 1, "nodes": [
        node("conn", "test-connection", {"url": "${CONN_URL}"})]}
    assert check_flow(document, registry, env={"CONN_URL": "one"}).spec("conn").config == \
        {"url": "one"}
    assert check_flow(document, registry, env={"CONN_URL": "two"}).spec("conn").config == \
        {"url": "two"}


def test_a_shape_error_is_reported_at_every_check_not_only_the_first(
        registry: Registry) -> None:
    document = {"version": 1, "nodes": [node("a", "test-double"), node("b", "test-double")]}
    check_flow(document, registry, "flows/x.json", env={})
    document["nodes"][0]["z"] = "tab-1"  # as every Node-RED export has
    for _ in range(2):
        assert errors_of(document, registry) == [
            "flows/x.json: node a: /z: unknown field 'z'"]
    document["nodes"][0].pop("z")
    document["nodes"][1]["config"]["factor"] = float("nan")
    assert [error.split(": ", 2)[1:] for error in errors_of(document, registry)] == [
        ["node b", "/config/factor: must be a finite number: NaN, Infinity and numbers "
                   "beyond 1.8e308 (such as 1e309) are not allowed"]]


def disabled(entry: dict[str, Any]) -> dict[str, Any]:
    return {**entry, "disabled": True}


def test_a_disabled_node_is_checked_but_not_run(registry: Registry) -> None:
    checked = check_flow({"version": 1, "nodes": [
        node("a", "test-double", wires=[["b", "c"]]),
        disabled(node("b", "test-double", wires=[["c"]])), node("c", "test-double")]},
        registry)
    assert [spec.id for spec in checked.nodes] == ["a", "c"]
    assert checked.spec("a").wires == (("c",),)  # the wire into b carries nothing
    with pytest.raises(FlowInvalid, match="node b: /config/factor: must be a number"):
        check_flow({"version": 1, "nodes": [
            disabled(node("b", "test-double", {"factor": "x"}))]}, registry)


def test_disabled_must_be_true_or_false(registry: Registry) -> None:
    errors = errors_of({"version": 1, "nodes": [
        {**node("a", "test-double"), "disabled": "yes"}]}, registry)
    assert errors == ["flows/x.json: node a: /disabled: must be true or false"]


def test_a_node_using_a_disabled_connection_is_an_error(registry: Registry) -> None:
    errors = errors_of({"version": 1, "nodes": [
        node("c", "test-client", {"connection": "conn"}),
        disabled(node("conn", "test-connection"))]}, registry)
    assert errors == ["flows/x.json: node c: /config/connection: refers to test-connection "
                      "'conn', which is disabled; enable it, or disable this node too"]
    both = check_flow({"version": 1, "nodes": [
        disabled(node("c", "test-client", {"connection": "conn"})),
        disabled(node("conn", "test-connection"))]}, registry)
    assert both.nodes == ()


def test_disabled_is_written_after_the_name() -> None:
    text = canonical_text({"version": 1, "nodes": [
        {"config": {}, "disabled": True, "name": "n", "type": "debug", "id": "d"}]})
    assert list(json.loads(text)["nodes"][0]) == ["id", "type", "name", "disabled", "config"]


class _Range(Node):
    """low must not exceed high: a rule across two fields, said by config_errors."""

    type = "test-range-rule"
    schema = {"type": "object", "additionalProperties": False, "properties": {
        "low": {"type": "number", "default": 0}, "high": {"type": "number", "default": 1},
        "broken": {"type": "boolean", "default": False}}}

    @classmethod
    def config_errors(cls, config: Mapping[str, Any]) -> Iterable[tuple[str, str]]:
        if config["broken"]:
            raise KeyError("oops")
        if config["low"] > config["high"]:
            yield "/high", "must be at least low"


def test_a_type_says_what_its_schema_cannot(registry: Registry) -> None:
    registry.add(_Range, "test")
    document = {"version": 1, "nodes": [node("r", "test-range-rule", {"low": 5})]}
    assert errors_of(document, registry) == [
        "flows/x.json: node r: /config/high: must be at least low"]
    # asked only once the schema is satisfied, and a crash in it is an error, not a crash
    document["nodes"][0]["config"] = {"low": "5"}
    assert errors_of(document, registry) == [
        "flows/x.json: node r: /config/low: must be a number"]
    document["nodes"][0]["config"] = {"broken": True}
    assert errors_of(document, registry) == [
        "flows/x.json: node r: /config: cannot check this config: test-range-rule's "
        "config_errors raised KeyError: 'oops'"]
