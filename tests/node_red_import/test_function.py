"""The function group's mappings, checked against the tables the node tests run through
Node-RED 4: each of those rows pairs a Node-RED config with the portless config that
behaves the same (measured), so the importer must turn the one into the other."""

from __future__ import annotations

from typing import Any

import pytest

from portless.node_red_import.source import NotConvertible
from tests.node_red_import.mapping import filled, mapped, same_config
from tests.nodes.core import test_delay_node_red, test_trigger_node_red
from tests.nodes.core.change_cases import CASES as CHANGE_CASES
from tests.nodes.core.test_change_node_red import node_red_rule as change_rule
from tests.nodes.core.test_range_node_red import node_red_range, random_cases
from tests.nodes.core.test_switch_node_red import _rows as switch_rows
from tests.nodes.core.test_switch_node_red import node_red_switch


@pytest.mark.parametrize(("node_red", "portless"),
                         [(nr, pl) for nr, pl, *_ in test_trigger_node_red.CASES])
def test_trigger_rows_measured_against_node_red(node_red: dict[str, Any],
                                                portless: dict[str, Any]) -> None:
    assert same_config(node_red, "trigger", portless)


@pytest.mark.parametrize(("node_red", "portless"),
                         [(nr, pl) for nr, pl, _ in test_delay_node_red.CASES])
def test_delay_rows_measured_against_node_red(node_red: dict[str, Any],
                                              portless: dict[str, Any]) -> None:
    assert same_config(node_red, "delay", portless)


def test_every_switch_rule_of_the_node_red_table_comes_back() -> None:
    rows = switch_rows()
    assert len(rows) >= 100
    for _, rule, _, prop, _ in rows:
        if rule.get("ignore_case") is False:  # the default, which Node-RED leaves out
            rule = {key: value for key, value in rule.items() if key != "ignore_case"}
        for check_all in (True, False):
            node = node_red_switch([rule], prop, check_all)
            assert same_config(node, "switch", {"property": prop, "rules": [rule],
                                                "check_all": check_all}), rule


def test_every_change_case_of_the_node_red_table_comes_back() -> None:
    assert len(CHANGE_CASES) > 60
    for case in CHANGE_CASES:
        node = {"type": "change", "rules": [change_rule(rule) for rule in case.rules]}
        assert same_config(node, "change", {"rules": case.rules}), case.rules


def test_every_range_config_of_the_random_table_comes_back() -> None:
    for cfg, _ in random_cases(60):
        assert same_config(node_red_range(cfg), "range", cfg), cfg


LEGACY_CHANGE = [  # change nodes from before rules (Node-RED's three legacy cases)
    ({"action": "replace", "property": "payload", "to": "abc"},
     [{"action": "set", "property": {"kind": "msg", "value": "payload"},
       "value": {"kind": "string", "value": "abc"}}]),
    ({"action": "change", "property": "payload", "from": "a.c", "to": "x", "reg": False},
     [{"action": "change", "property": {"kind": "msg", "value": "payload"},
       "search": {"kind": "string", "value": "a.c"},
       "replace": {"kind": "string", "value": "x"}}]),
    ({"action": "change", "property": "payload", "from": "a.c", "to": "x"},
     [{"action": "change", "property": {"kind": "msg", "value": "payload"}, "regex": True,
       "search": {"kind": "string", "value": "a.c"},
       "replace": {"kind": "string", "value": "x"}}]),
    ({"action": "delete", "property": "topic"},
     [{"action": "delete", "property": {"kind": "msg", "value": "topic"}}]),
]


@pytest.mark.parametrize(("legacy", "rules"), LEGACY_CHANGE)
def test_a_change_node_from_before_rules(legacy: dict[str, Any],
                                         rules: list[dict[str, Any]]) -> None:
    assert same_config({"type": "change", **legacy}, "change", {"rules": rules})


def test_a_set_to_msg_dot_text_without_a_type_is_a_message_property() -> None:
    made, _ = mapped({"type": "change", "rules": [{"t": "set", "p": "a", "to": "msg.b"}]})
    assert made.config["rules"][0]["value"] == {"kind": "msg", "value": "b"}


def test_its_modules_are_kept_as_comments_in_the_setup() -> None:
    made, _ = mapped({"type": "function", "func": "return msg;",
                      "libs": [{"var": "os", "module": "os"}], "initialize": ""})
    assert made.config["setup"] == ("# JavaScript from Node-RED, to rewrite in Python:\n"
                                    "# // module os as os")


def test_a_javascript_function_is_kept_disabled_with_its_code_as_comments() -> None:
    made, _ = mapped({"type": "function", "func": "msg.payload = 1;\nreturn msg;",
                      "initialize": "// once\ncontext.set('n', 0);", "finalize": "",
                      "outputs": 2, "libs": []})
    assert made.type == "function"
    assert made.kept_disabled.startswith("its code is JavaScript")
    assert made.config == {
        "code": "# JavaScript from Node-RED, to rewrite in Python:\n# msg.payload = 1;\n"
                "# return msg;\nreturn msg",
        "setup": "# JavaScript from Node-RED, to rewrite in Python:\n# // once\n"
                 "# context.set('n', 0);",
        "outputs": 2}


RBE = [
    ({"func": "rbe"}, {"mode": "changed"}),
    ({"func": "rbei", "septopics": False}, {"mode": "changed-ignore-initial",
                                             "separate_topics": False}),
    ({"func": "deadband", "gap": "5", "inout": "out"}, {"mode": "deadband", "band": 5}),
    ({"func": "deadbandEq", "gap": "10%", "inout": "in"},
     {"mode": "deadband-or-equal", "band": "10%", "compare": "last-input"}),
    ({"func": "narrowband", "gap": "2.5", "start": "20"},
     {"mode": "narrowband", "band": 2.5, "start": 20}),
    ({"func": "narrowbandEq", "gap": "", "start": ""}, {"mode": "narrowband-or-equal"}),
    ({"func": "rbe", "property": "payload.value", "topi": "device"},
     {"mode": "changed", "property": "payload.value", "topic_property": "device"}),
]


@pytest.mark.parametrize(("node_red", "portless"), RBE)
def test_rbe_becomes_exception_filter(node_red: dict[str, Any],
                                      portless: dict[str, Any]) -> None:
    assert same_config({"type": "rbe", **node_red}, "exception-filter", portless)


DELAY_UNITS = [
    ({"pauseType": "delay", "timeout": "250", "timeoutUnits": "milliseconds"},
     {"mode": "delay", "delay": 0.25}),
    ({"pauseType": "delay", "timeout": "2", "timeoutUnits": "minutes"},
     {"mode": "delay", "delay": 120}),
    ({"pauseType": "delayv", "timeout": "1", "timeoutUnits": "hours"},
     {"mode": "delay", "delay": 3600, "msg_delay": True}),
    ({"pauseType": "random", "randomFirst": "1", "randomLast": "3", "randomUnits": "days"},
     {"mode": "random", "random_from": 86400, "random_to": 259200}),
    ({"pauseType": "rate", "rate": "3", "nbRateUnits": "2", "rateUnits": "minute",
      "allowrate": True}, {"mode": "rate", "rate": 3, "interval": 120, "msg_rate": True}),
]


@pytest.mark.parametrize(("node_red", "portless"), DELAY_UNITS)
def test_delay_units_become_seconds(node_red: dict[str, Any],
                                    portless: dict[str, Any]) -> None:
    assert same_config({"type": "delay", **node_red}, "delay", portless)


TRIGGER_MORE = [
    ({"duration": "-2", "units": "s", "extend": "true"}, {"then": "resend", "duration": 2}),
    ({"duration": "1.5", "units": "min", "op1type": "val", "op1": "true",
      "op2type": "val", "op2": "null"},
     {"duration": 90, "first": {"kind": "boolean", "value": True},
      "second": {"kind": "json", "value": None}}),
    ({"duration": "1", "units": "hr", "op1type": "date", "op1": "1", "overrideDelay": True,
      "bytopic": "topic", "topic": "payload.id"},
     {"duration": 3600, "first": {"kind": "timestamp", "value": "milliseconds"},
      "msg_delay": True, "per_topic": True, "topic_property": "payload.id"}),
    ({"duration": "5", "op1type": "env", "op1": "SITE", "op2type": "flow", "op2": "last"},
     {"duration": 0.005, "first": {"kind": "env", "value": "SITE"},
      "second": {"kind": "flow", "value": "last"}}),
]


@pytest.mark.parametrize(("node_red", "portless"), TRIGGER_MORE)
def test_trigger_durations_loops_and_values(node_red: dict[str, Any],
                                            portless: dict[str, Any]) -> None:
    assert same_config({"type": "trigger", **node_red}, "trigger", portless)


def test_a_mustache_trigger_value_is_noted_as_not_expanded() -> None:
    _, notes = mapped({"type": "trigger", "op1": "{{payload}}", "op1type": "str"})
    assert notes == ["op1: the Mustache in '{{payload}}' is not expanded (use a jsonata "
                     "value)"]


@pytest.mark.parametrize(("node", "why"), [
    ({"type": "delay", "pauseType": "burst"}, "'allow N messages per interval in a burst'"),
    ({"type": "delay", "pauseType": "rate", "rate": "0.5"}, "rate: 0.5 messages"),
    ({"type": "trigger", "units": "fortnight", "duration": "1"}, "units: unknown unit"),
    ({"type": "switch", "rules": [{"t": "nope"}]}, "rules/0: unknown rule 'nope'"),
    ({"type": "change", "rules": [{"t": "set", "p": "a", "to": "{", "tot": "json"}]},
     "rules/0/to: not valid JSON"),
    ({"type": "change", "rules": [{"t": "set", "p": "a", "pt": "env"}]},
     "rules/0/p: a value of type 'env' has no equivalent here"),
    ({"type": "range", "minin": "low"}, "minin: 'low' is not a number"),
    ({"type": "rbe", "func": "median"}, "func: unknown mode 'median'"),
])
def test_what_cannot_be_converted_says_which_field_and_why(node: dict[str, Any],
                                                           why: str) -> None:
    with pytest.raises(NotConvertible, match=None) as raised:
        mapped(node)
    assert why in str(raised.value)


def test_filled_defaults_make_a_partial_config_whole() -> None:
    assert filled("range", {})["to_max"] == 100


def test_every_template_row_measured_against_node_red_comes_back() -> None:
    """test_template_node_red's rows: a portless config and the Node-RED template node
    built from it there (field, fieldType, template, syntax, output), which answered
    the same."""
    from tests.nodes.core.test_template_node_red import OUTPUTS, ROWS

    assert len(ROWS) >= 40
    for case in ROWS:
        config = case.config
        target = config.get("property", {"kind": "msg", "value": "payload"})
        node = {"type": "template", "field": target["value"], "fieldType": target["kind"],
                "template": config.get("template", ""),
                "syntax": config.get("syntax", "mustache"),
                "output": OUTPUTS[config.get("output", "text")], "format": "handlebars"}
        assert same_config(node, "template", config), case.name
