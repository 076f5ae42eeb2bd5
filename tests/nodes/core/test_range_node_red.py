"""range, differentially: test_range.py's table and a few hundred seeded random cases
through Node-RED 4's own range node too (tests/node_red.py); results agree to the bit,
and where portless errors on purpose Node-RED sends what JavaScript's Number() makes."""

from __future__ import annotations

import random
from typing import Any

import pytest

from portless.testing import run_node
from tests.node_red import NodeRedCase, run_in_node_red
from tests.nodes.core.test_range import NODE_RED_CASES, config

pytestmark = pytest.mark.slow  # runs Node-RED in Node.js, a subprocess

_ACTIONS = {"wrap": "roll"}


def node_red_range(cfg: dict[str, Any]) -> dict[str, Any]:
    return {"type": "range", "minin": cfg["from_min"], "maxin": cfg["from_max"],
            "minout": cfg["to_min"], "maxout": cfg["to_max"], "round": cfg["round"],
            "action": _ACTIONS.get(cfg["action"], cfg["action"]), "property": "payload"}


def ours(cfg: dict[str, Any], values: list[Any]) -> tuple[list[Any], int]:
    run = run_node("range", cfg, [{"payload": value} for value in values])
    return [m["payload"] for m in run.outputs[0]], len(run.errors)


def random_cases(count: int) -> list[tuple[dict[str, Any], list[Any]]]:
    rng = random.Random(10)
    cases = []
    for _ in range(count):
        low, high = rng.choice([(0, 100), (-10, 10), (100, 0), (0, 9.5), (1, 1.7)])
        out = rng.choice([(0, 1000), (0, 1), (-100, 0), (0.3, 100.5), (32, 212)])
        cfg = config(rng.choice(["scale", "clamp", "wrap", "drop"]), low, high, *out,
                     rng.random() < 0.5)
        values = [rng.choice([round(rng.uniform(-300, 300), rng.randint(0, 6)),
                              rng.randint(-300, 300), str(rng.randint(-50, 150)),
                              f" {rng.uniform(-5, 5):.3f} ", True])
                  for _ in range(5)]
        cases.append((cfg, values))
    return cases


def test_the_table_and_random_cases_agree_with_node_red() -> None:
    cases = [(cfg, [value]) for cfg, value, _ in (p.values for p in NODE_RED_CASES)]
    cases += [(config("drop", 2, 8, 20, 80, True), [1, 9, 5, 2, 8]),
              (config("scale", 0, 10, 0, 100), [" 12 ", "1e1", "0x0A", True, False, 2.5]),
              (config("scale", 0, 10, 0, 10, True), [-2.5, 2.5, -2.6]),
              (config("wrap", 0, 360, 0, 1), [360, 90, 720.0]),
              (config("clamp", 0, 10, 0, 100), ["Infinity", "-Infinity"])]
    cases += random_cases(300)
    theirs = run_in_node_red([NodeRedCase(node_red_range(cfg), [{"payload": v} for v in
                                                                   values])
                              for cfg, values in cases])
    for (cfg, values), [port] in zip(cases, theirs, strict=True):
        sent, errors = ours(cfg, values)
        assert (sent, errors) == ([m["payload"] for m in port], 0), (cfg, values)


def test_where_portless_errors_node_red_reads_a_number_into_it() -> None:
    values = ["", None, [5], "  "]
    [[port]] = run_in_node_red([NodeRedCase(node_red_range(config("scale", 0, 10, 0, 100)),
                                            [{"payload": v} for v in values])])
    assert [m["payload"] for m in port] == [0, 0, 50, 0]
    assert ours(config("scale", 0, 10, 0, 100), values) == ([], 4)
