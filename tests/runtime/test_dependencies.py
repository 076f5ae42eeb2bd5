"""The reference graph: start and stop order along chains of shared connections, what
a change reaches, and cycles, also for chains far deeper than Python's recursion limit."""

from __future__ import annotations

import pytest

from portless.runtime.dependencies import (
    dependents,
    reference_cycles,
    start_order,
    stop_levels,
)

CHAIN = {"user": ["t3"], "t3": ["t2"], "t2": ["t1"], "t1": [], "other": [], "t0": ["gone"]}


def test_start_order_puts_what_is_used_first_and_keeps_file_order_otherwise() -> None:
    assert start_order(CHAIN) == ["t1", "other", "t0", "t2", "t3", "user"]


def test_stop_levels_stop_users_first_and_independent_nodes_together() -> None:
    assert stop_levels(CHAIN) == [["other", "t0", "user"], ["t3"], ["t2"], ["t1"]]


def test_dependents_follow_the_chain_to_the_end() -> None:
    assert dependents(CHAIN, ["t1"]) == {"t2", "t3", "user"}
    assert dependents(CHAIN, ["user", "other"]) == set()


def test_cycles_are_found_and_start_order_refuses_them() -> None:
    refs = {"a": ["b"], "b": ["c"], "c": ["a"], "d": ["d"], "e": ["a"]}
    assert reference_cycles(refs) == [["a", "b", "c", "a"], ["d", "d"]]
    with pytest.raises(ValueError, match="a -> b -> c -> a"):
        start_order(refs)


def test_a_chain_deeper_than_the_recursion_limit_is_no_problem() -> None:
    refs = {f"n{i}": [f"n{i + 1}"] if i < 20_000 else [] for i in range(20_001)}
    assert start_order(refs)[:2] == ["n20000", "n19999"]
    assert len(dependents(refs, ["n20000"])) == 20_000
    assert reference_cycles(refs) == []
