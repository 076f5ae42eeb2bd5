"""change, differentially: change_cases.py's table through Node-RED 4's own change node
too (tests/node_red.py). Context a case changes is read back into the message by one
more rule, in both; the rows where portless differs on purpose are listed with why."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.node_red import NodeRedCase, run_in_node_red
from tests.nodes.core.change_cases import CASES, Case, set_
from tests.nodes.core.test_change import case_run, shown

pytestmark = pytest.mark.slow  # runs Node-RED in Node.js, a subprocess

_TYPES = {"string": "str", "number": "num", "boolean": "bool", "json": "json",
          "timestamp": "date", "env": "env", "jsonata": "jsonata", "msg": "msg",
          "flow": "flow", "global": "global"}


def typed(value: dict[str, Any]) -> tuple[Any, str]:
    """A typed value as Node-RED's (value, type) pair."""
    kind, given = value["kind"], value.get("value")
    if kind == "boolean":
        return ("true" if given else "false"), "bool"
    if kind in ("number", "json"):
        return (json.dumps(given) if kind == "json" else str(given)), _TYPES[kind]
    return ("" if kind == "timestamp" else given), _TYPES[kind]


def node_red_rule(rule: dict[str, Any]) -> dict[str, Any]:
    prop, place = typed(rule["property"])
    converted: dict[str, Any] = {"t": rule["action"], "p": prop, "pt": place}
    if rule["action"] == "set":
        converted["to"], converted["tot"] = typed(rule["value"])
        converted["dc"] = rule.get("deep_copy", False)
    elif rule["action"] == "change":
        converted["from"], converted["fromt"] = typed(rule["search"])
        if rule.get("regex"):
            converted["fromt"] = "re"
        converted["to"], converted["tot"] = typed(rule["replace"])
    elif rule["action"] == "move":
        converted["to"], converted["tot"] = typed(rule["to"])
    return converted


def with_context_read_back(case: Case) -> list[dict[str, Any]]:
    """The case's rules, then one per context key it touches copying it to the message."""
    keys = {(kind, key) for state in (case.context, case.context_after or {})
            for kind, values in state.items() for key in values}
    return case.rules + [set_(f"after_{kind}_{key}", f"{kind}:{key}")
                         for kind, key in sorted(keys)]


async def ours(case: Case, rules: list[dict[str, Any]]) -> list[dict[str, Any]]:
    async with case_run(case, rules) as h:
        return [shown(msg) for msg in h.received("c")]


def global_keys(case: Case) -> set[str]:
    rules = [value for rule in case.rules for value in rule.values()
             if isinstance(value, dict) and value.get("kind") == "global"]
    return ({str(value["value"]).split(".")[0] for value in rules}
            | set(case.context.get("global", {})))


def batches() -> list[list[int]]:
    """The cases in runs whose global context keys differ: one Node-RED process has one
    global context for all its tabs."""
    runs: list[tuple[set[str], list[int]]] = []
    for index, case in enumerate(CASES):
        keys = global_keys(case)
        for used, members in runs:
            if not used & keys:
                used |= keys
                members.append(index)
                break
        else:
            runs.append((keys, [index]))
    return [members for _, members in runs]


async def test_the_table_agrees_with_node_red(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PORTLESS_TEST_A", "foo")  # Node-RED's process inherits it
    rules = [with_context_read_back(case) for case in CASES]
    theirs: dict[int, list[list[dict[str, Any]]]] = {}
    for run in batches():
        answers = run_in_node_red([
            NodeRedCase({"type": "change", "rules": [node_red_rule(r) for r in rules[i]]},
                        [CASES[i].msg], flow_context=CASES[i].context.get("flow", {}),
                        global_context=CASES[i].context.get("global", {}))
            for i in run])
        theirs.update(zip(run, answers, strict=True))
    differing = []
    for index, case in enumerate(CASES):
        node_red = [shown(msg) for msg in theirs[index][0]]
        if (await ours(case, rules[index]) != node_red) != bool(case.node_red_differs):
            differing.append((case.node_red or case.rules, node_red))
    assert differing == [], "\n".join(map(repr, differing))
