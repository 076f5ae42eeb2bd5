"""change: Node-RED's change-node cases (change_cases.py) run through a real flow."""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest

from portless.runtime import FlowInvalid, Message, clone_message
from portless.testing import FlowHarness, run_node
from tests.nodes.core.change_cases import CASES, Case, change, set_, string


def flow(rules: list[dict[str, Any]]) -> dict[str, Any]:
    return {"version": 1, "nodes": [{"id": "c", "type": "change", "config": {"rules": rules}}]}


def shown(msg: Message) -> dict[str, Any]:
    """The message as a case writes it: no _msgid or ts, an empty topic left out."""
    return {key: value for key, value in msg.items()
            if key not in ("_msgid", "ts") and not (key == "topic" and value == "")}


def context_of(h: FlowHarness) -> dict[str, dict[str, Any]]:
    found = {}
    for kind in ("flow", "global"):
        context = h.engine.context_of("c", kind)  # type: ignore[arg-type]
        found[kind] = {key: context.get(key) for key in context.keys()}  # noqa: SIM118 (a Context, no dict)
    return found


@contextlib.asynccontextmanager
async def case_run(case: Case, rules: list[dict[str, Any]] | None = None
                   ) -> AsyncIterator[FlowHarness]:
    """A flow of one change node with the case's rules (or ``rules``) and context, after
    the case's message went through it (or was dropped with an error)."""
    async with FlowHarness(flow(case.rules if rules is None else rules)) as h:
        for kind, values in case.context.items():
            for key, value in values.items():
                h.engine.context_of("c", kind).set(key, value)  # type: ignore[arg-type]
        h.inject("c", clone_message(case.msg))
        if case.out is None:
            await h.wait_event(lambda event: event.kind == "error")
        else:
            await h.wait_for("c")
        await h.engine.wait_idle()
        yield h


@pytest.mark.parametrize("case", CASES, ids=[
    case.node_red or f"portless-{number}" for number, case in enumerate(CASES)])
async def test_a_change_case(case: Case, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PORTLESS_TEST_A", "foo")
    async with case_run(case) as h:
        sent = [shown(msg) for msg in h.received("c")]
        assert sent == ([] if case.out is None else [case.out])
        assert context_of(h) == {"flow": {}, "global": {}, **(
            case.context if case.context_after is None else case.context_after)}
        kinds = [event.kind for event in h.events if event.node_id == "c"]
        assert (kinds.count("warning"), kinds.count("error")) == (case.warnings, case.errors)


def test_set_to_the_time_sets_milliseconds_now() -> None:  # Node-RED: "current timestamp"
    before = int(time.time() * 1000)  # the node truncates to whole milliseconds
    run = run_node("change", {"rules": [
        set_("ts", {"kind": "timestamp", "value": "milliseconds"})]}, [{"payload": 1}])
    assert before <= run.outputs[0][0]["ts"] <= time.time() * 1000


def test_a_broken_regular_expression_is_refused_at_load() -> None:  # "reports invalid regex"
    with pytest.raises(FlowInvalid, match=r"/config/rules/0/search/value: must be "
                                          r"a regular expression: multiple repeat"):
        run_node("change", {"rules": [
            change("payload", string(r"\+**+"), string("NUMBER"), regex=True)]})


@pytest.mark.parametrize(("rule", "pointer"), [
    ({"action": "set", "property": {"kind": "msg", "value": "payload"}}, "/value"),
    ({"action": "move", "property": {"kind": "msg", "value": "payload"}}, "/to"),
    ({**change("payload", "topic", string("x")), "regex": True}, "/search/kind"),
    ({**set_("payload", string("x")), "property": {"kind": "env", "value": "X"}},
     "/property/kind"),
])
def test_a_rule_missing_what_its_action_needs_is_refused(rule: dict[str, Any],
                                                         pointer: str) -> None:
    with pytest.raises(FlowInvalid, match=f"/config/rules/0{pointer}"):
        run_node("change", {"rules": [rule]})
