"""A whole export into files: one per tab, subflows, connections; ids, junctions,
groups, disabled nodes and tabs, placeholders for what is not converted; and a result
that always validates. The export used is fixtures/every-option.json (written for these
tests: every mapped node with its options)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from portless.node_red_import.convert import convert
from portless.node_red_import.export import read_export
from tests.node_red_import.convert_helpers import (
    FIXTURES,
    accounted,
    converted,
    written_and_valid,
)

EVERY_OPTION = FIXTURES / "every-option.json"
SECRET = "hunter2-never-copied"


@pytest.fixture
def every_option(tmp_path: Path) -> dict[str, Any]:
    nodes = read_export(EVERY_OPTION)
    conversion = convert(nodes, EVERY_OPTION.name)
    accounted(nodes, conversion)
    files = written_and_valid(conversion, tmp_path / "out")
    text = "".join(path.read_text() for path in (tmp_path / "out").rglob("*.json"))
    return {"report": conversion.report, "files": files, "nodes": nodes, "text": text}


def node_in(files: dict[str, Any], node_id: str) -> dict[str, Any]:
    return next(node for document in files.values() for node in document["nodes"]
                if node["id"] == node_id)


def test_one_file_per_tab_named_by_its_label_subflows_and_connections(
        every_option: dict[str, Any]) -> None:
    files = every_option["files"]
    assert sorted(files) == ["connections.json", "etc.json", "old-tests.json",
                             "plant-floor.json", "subflows/scale-reading.json"]
    assert files["plant-floor.json"]["name"] == "Plant floor"
    assert files["etc.json"]["name"] == "../../etc"  # a label, never a path
    assert [n["type"] for n in files["connections.json"]["nodes"]] == ["mqtt-broker"]


def test_the_report_counts_every_type_and_says_what_was_not_converted(
        every_option: dict[str, Any]) -> None:
    report = every_option["report"]
    assert report.converted["change"] == 3
    assert report.converted["tls-config"] == 2  # one in the broker, one in http request
    assert report.converted["http proxy"] == 1
    assert dict(report.flattened) == {"group": 1, "junction": 2}
    assert [(e.node_id, e.type) for e in report.kept_disabled] == [("js", "function")]
    assert [(e.node_id, e.type) for e in report.refused] == [("web", "http in")]
    assert "would open a listening port" in report.refused[0].text
    assert not report.complete
    assert report.environment == ["MQTT_BROKER_PASSWORD", "MQTT_BROKER_USERNAME"]


def test_junctions_become_direct_wires(every_option: dict[str, Any]) -> None:
    switch = node_in(every_option["files"], "switch-temp")
    assert switch["wires"] == [["alarm-out", "debug-hot"], ["scale-1"]]


def test_positions_names_and_disabled_are_kept(every_option: dict[str, Any]) -> None:
    files = every_option["files"]
    rbe = node_in(files, "rbe-temp")
    assert (rbe["type"], rbe["name"], rbe["x"], rbe["y"]) == (
        "exception-filter", "Deadband 0.5", 300, 80)
    assert rbe["config"] == {"band": 0.5, "mode": "deadband"}
    assert node_in(files, "debug-off")["disabled"] is True  # d: true
    assert node_in(files, "old-inject")["disabled"] is True  # on a disabled tab
    assert "disabled" not in node_in(files, "tick")


def test_the_javascript_function_is_kept_disabled_wired_with_its_code(
        every_option: dict[str, Any]) -> None:
    function = node_in(every_option["files"], "js")
    assert function["disabled"] is True
    assert function["wires"] == [["delay-1"]]
    assert "# msg.payload.n += 1;" in function["config"]["code"]


def test_what_is_not_converted_stays_on_the_canvas_as_a_note(
        every_option: dict[str, Any]) -> None:
    note = node_in(every_option["files"], "web")
    assert (note["type"], note["name"], note["x"], note["y"]) == (
        "comment", "not converted: http in 'REST'", 120, 300)
    assert "would open a listening port" in note["config"]["text"]
    assert '"url": "/temp"' in note["config"]["text"]
    assert "wires" not in note


def test_subflow_parameters_and_instance(every_option: dict[str, Any]) -> None:
    subflow = every_option["files"]["subflows/scale-reading.json"]
    assert subflow["subflow"]["input"] == ["sf-range"]
    assert subflow["subflow"]["outputs"] == [[{"node": "sf-range", "port": 0}],
                                             [{"input": True}]]
    assert subflow["subflow"]["parameters"]["properties"] == {
        "top": {"type": "number", "default": 1000},
        "unit": {"type": "string", "default": "bar"}}
    instance = node_in(every_option["files"], "scale-1")
    assert (instance["type"], instance["config"]) == ("subflow:scale-reading", {"top": 10})


def test_the_broker_gets_tls_and_placeholders_never_the_secret(
        every_option: dict[str, Any]) -> None:
    broker = node_in(every_option["files"], "broker")
    assert broker["config"]["tls"] == {"ca_file": "/etc/portless/ca.pem",
                                       "cert_file": "/etc/portless/line-4.crt",
                                       "key_file": "/etc/portless/line-4.key",
                                       "server_name": "broker.plant.example"}
    assert broker["config"]["password"] == "${MQTT_BROKER_PASSWORD}"
    assert SECRET not in every_option["text"]
    assert SECRET not in every_option["report"].text()
    assert "line-4\"" not in json.dumps(broker["config"]["username"])


def test_links_across_tabs_and_link_calls(every_option: dict[str, Any]) -> None:
    files = every_option["files"]
    assert node_in(files, "alarm-out")["config"] == {"links": ["alarm-in"]}
    assert node_in(files, "call")["config"] == {"links": ["lookup-in"], "timeout": 5}
    assert node_in(files, "lookup-back")["config"] == {"mode": "return"}


def test_ids_that_are_no_portless_ids_are_renamed_everywhere(tmp_path: Path) -> None:
    nodes = [{"id": "../../etc", "type": "tab", "label": ""},
             {"id": "a/b", "type": "inject", "z": "../../etc", "wires": [["c d"]]},
             {"id": "c d", "type": "link out", "z": "../../etc", "links": ["_in"],
              "wires": []},
             {"id": "_in", "type": "link in", "z": "../../etc", "wires": [["w"]]},
             {"id": "w", "type": "catch", "z": "../../etc", "scope": ["a/b"], "wires": []}]
    conversion = converted(nodes)
    files = written_and_valid(conversion, tmp_path)
    assert list(files) == ["tab-etc.json"]
    assert [n["id"] for n in files["tab-etc.json"]["nodes"]] == ["a-b", "c-d", "in", "w"]
    assert files["tab-etc.json"]["nodes"][0]["wires"] == [["c-d"]]
    assert files["tab-etc.json"]["nodes"][1]["config"] == {"links": ["in"]}
    assert files["tab-etc.json"]["nodes"][3]["config"] == {"nodes": ["a-b"], "scope": "nodes"}


def test_nodes_of_no_tab_go_to_a_file_named_after_the_export(tmp_path: Path) -> None:
    conversion = converted([{"id": "a", "type": "comment", "z": "gone", "wires": []}],
                           "01 - My Flow.json")
    assert list(written_and_valid(conversion, tmp_path)) == ["01-my-flow.json"]


def test_a_conversion_portless_refuses_is_mended_or_replaced(tmp_path: Path) -> None:
    nodes = [{"id": "c", "type": "catch", "scope": None, "wires": [["s"]]},  # s: no input
             {"id": "s", "type": "status", "scope": None, "wires": []},
             {"id": "d", "type": "delay", "pauseType": "rate", "rate": "1", "drop": False,
              "outputs": 2, "wires": [[], ["s2"]]},  # no second output in this mode
             {"id": "s2", "type": "debug", "wires": []},
             {"id": "x", "type": "inject", "props": [{"p": "payload", "v": "${X}",
                                                      "vt": "num"}], "wires": []}]
    conversion = converted(nodes)
    accounted(nodes, conversion)
    files = written_and_valid(conversion, tmp_path)["export.json"]["nodes"]
    assert "wires" not in files[0]
    assert "wires" not in files[2]
    dropped = [e.text for e in conversion.report.approximated if "wire was dropped" in e.text]
    assert len(dropped) == 2
    assert files[4]["type"] == "comment"  # ${X} is no number outside a subflow
    assert "portless refused what it became" in conversion.report.refused[0].text


def test_users_of_a_disabled_broker_are_disabled_too(tmp_path: Path) -> None:
    nodes = [{"id": "b", "type": "mqtt-broker", "broker": "localhost", "d": True},
             {"id": "o", "type": "mqtt out", "broker": "b", "topic": "t", "wires": []}]
    conversion = converted(nodes)
    files = written_and_valid(conversion, tmp_path)
    assert files["export.json"]["nodes"][0]["disabled"] is True
    assert any("written disabled" in e.text for e in conversion.report.approximated)


def test_the_sequence_chain_and_http_request_convert_with_their_settings(
        every_option: dict[str, Any]) -> None:
    files = every_option["files"]
    get = node_in(files, "get-limits")
    assert get["config"]["tls"] == {"ca_file": "/etc/portless/api-ca.pem"}
    assert get["config"]["proxy"] == "http://proxy.plant.example:3128"
    assert node_in(files, "split-1")["config"] == {"delimiter": "\n", "property": "payload"}
    assert node_in(files, "sort-1")["config"] == {"as_number": True, "key_property": "payload",
                                                 "order": "descending", "target": "sequence"}
    assert node_in(files, "join-1")["config"]["timeout"] == 2
    assert node_in(files, "batch-1")["config"]["overlap"] == 1
    assert node_in(files, "yaml-1")["type"] == "yaml"


def test_a_subflow_using_the_flow_s_broker_names_it_by_a_parameter(tmp_path: Path) -> None:
    """Node-RED shares a config node outside a subflow with every instance; a portless
    subflow reaches the flow's connection through a parameter marked x-ref."""
    nodes = [{"id": "b", "type": "mqtt-broker", "broker": "localhost"},
             {"id": "sf", "type": "subflow", "name": "Publish", "env": [],
              "in": [{"x": 1, "y": 1, "wires": [{"id": "o"}]}], "out": []},
             {"id": "o", "type": "mqtt out", "z": "sf", "broker": "b", "topic": "t",
              "wires": []},
             {"id": "t", "type": "tab", "label": "Main"},
             {"id": "i", "type": "subflow:sf", "z": "t", "wires": []}]
    conversion = converted(nodes)
    assert conversion.report.complete
    files = written_and_valid(conversion, tmp_path)
    subflow = files["subflows/publish.json"]
    assert subflow["nodes"][0]["config"]["broker"] == "${mqtt_broker_b}"
    assert subflow["subflow"]["parameters"]["properties"]["mqtt_broker_b"] == {
        "title": "mqtt-broker (imported: b)", "type": "string", "x-ref": "mqtt-broker",
        "default": "b"}
    assert files["main.json"]["nodes"] == [{"id": "i", "type": "subflow:publish",
                                           "config": {}}]


def test_template_and_csv_convert_with_their_settings(every_option: dict[str, Any]) -> None:
    files = every_option["files"]
    assert node_in(files, "tpl")["config"] == {
        "output": "text", "property": {"kind": "flow", "value": "report"},
        "syntax": "mustache", "template": "Alarm on {{topic}}: {{payload}}"}
    csv = node_in(files, "csv-1")["config"]
    assert (csv["mode"], csv["separator"], csv["line_end"], csv["rows_as"]) == (
        "rfc", "\t", "\r\n", "array")


def test_a_subflow_input_into_a_node_without_an_input_is_left_out(tmp_path: Path) -> None:
    nodes = [{"id": "sf", "type": "subflow", "name": "Odd", "env": [], "out": [],
              "in": [{"x": 1, "y": 1, "wires": [{"id": "c"}, {"id": "d"}]}]},
             {"id": "c", "type": "catch", "z": "sf", "scope": None, "wires": []},
             {"id": "d", "type": "debug", "z": "sf", "wires": []}]
    files = written_and_valid(converted(nodes), tmp_path)
    assert files["subflows/odd.json"]["subflow"]["input"] == ["d"]
