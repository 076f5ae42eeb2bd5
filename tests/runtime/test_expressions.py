"""JSONata expressions (runtime/expressions.py): compiled once, evaluated per message,
bounded so that a runaway expression fails on its message instead of stalling the loop."""

from __future__ import annotations

import math
import sys
import time

import pytest

from portless.runtime import Expression, ExpressionError
from portless.runtime.expressions import TIMEOUT_MS, expression_error


def test_an_expression_reads_the_message_as_its_input() -> None:
    expression = Expression('payload.values[v > 1].v ~> $sum()')
    assert expression.evaluate({"payload": {"values": [{"v": 1}, {"v": 2}, {"v": 3}]}}) == 5


def test_bindings_are_variables_of_one_evaluation() -> None:
    expression = Expression("$I % 2 = 1 and payload >= $N - 2")
    assert expression.evaluate({"payload": 4}, {"I": 3, "N": 5}) is True
    assert expression.evaluate({"payload": 4}) is False  # unbound: nothing


def test_node_red_extras_read_context_and_environment() -> None:
    flow = {"count": 3}
    expression = Expression('$flowContext("count") + $globalContext("missing") * 0 & $env("SITE")',
                            flow_context=flow.get, global_context=lambda key: 0,
                            env={"SITE": "-north"})
    assert expression.evaluate({}) == "3-north"


def test_a_syntax_error_says_what_and_where() -> None:
    with pytest.raises(ExpressionError, match="at character 9"):
        Expression("payload +")
    assert expression_error("payload + 1") is None
    assert "at character" in (expression_error("(payload") or "")


def test_a_runaway_expression_fails_within_its_time_bound() -> None:
    expression = Expression("($f := function($n) { $n > 0 ? $f($n - 1) + 1 : 0 }; "
                            "[1..1000].($f(150)) ~> $sum())")
    started = time.monotonic()
    with pytest.raises(ExpressionError):
        expression.evaluate({})
    assert time.monotonic() - started < TIMEOUT_MS / 1000 * 4


def test_unbounded_recursion_is_an_error_not_a_crash() -> None:
    expression = Expression("($f := function($n) { $f($n + 1) }; $f(0))")
    with pytest.raises(ExpressionError):
        expression.evaluate({})


def test_importing_jsonata_keeps_pythons_recursion_limit() -> None:
    assert sys.getrecursionlimit() < 10_000


@pytest.mark.parametrize(("text", "expected"), [
    ("20.2 % 2", math.fmod(20.2, 2)),  # JavaScript: 0.1999999999999993
    ("-7.5 % 2", -1.5), ("7 % -3", 1), ("9 % 3", 0), ("payload % 0.5", 0.25)])
def test_a_remainder_keeps_its_fraction_as_javascript_s_does(text: str,
                                                             expected: float) -> None:
    assert Expression(text).evaluate({"payload": 10.25}) == expected


def test_clone_is_a_deep_copy_and_dates_use_jsonata_s_own_functions() -> None:
    msg = {"payload": {"a": [1, 2]}}
    copied = Expression("$clone(payload)").evaluate(msg)
    assert copied == {"a": [1, 2]}
    assert copied is not msg["payload"]
    assert copied["a"] is not msg["payload"]["a"]
    assert Expression("$fromMillis(0)").evaluate({}) == "1970-01-01T00:00:00.000Z"
    assert Expression("$toMillis('1970-01-01T00:00:01.000Z')").evaluate({}) == 1000
