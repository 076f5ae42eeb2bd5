"""yaml, differentially: test_yaml.py's table through Node-RED 4's own yaml node too
(tests/node_red.py), one run for the whole table; rows with bytes, or that portless
refuses on purpose, are portless's alone."""

from __future__ import annotations

import random

import pytest

from portless.testing import run_node
from tests.node_red import NodeRedCase, run_in_node_red
from tests.nodes.core.parser_table import shown
from tests.nodes.core.test_yaml import CASES, PORTLESS_ONLY

pytestmark = pytest.mark.slow  # runs Node-RED in Node.js, a subprocess

ROWS = [case for case in CASES if case.id not in PORTLESS_ONLY]


def test_the_table_agrees_with_node_red() -> None:
    cases = []
    for case in ROWS:
        config, msg, _, _ = case.values
        cases.append(NodeRedCase({"type": "yaml", "property": config.get("property",
                                                                          "payload")}, [msg]))
    theirs = run_in_node_red(cases)
    differ = [case.id for case, [port] in zip(ROWS, theirs, strict=True)
              if [shown(msg) for msg in port] != case.values[2]]
    assert differ == []
    assert len(ROWS) == 34


SCALARS = ["yes", "No", "on", "OFF", "y", "true", "False", "TRUE", "null", "Null", "~", "",
           "0o17", "0O17", "012", "0x1F", "0x_1F", "0b101", "1_000", "+12", "-0", "0",
           "1e3", "1E-3", "1.", ".5", "+.5", "-.5", "1.5e+3",
           "12:30", "1:20:30", "2001-12-14", "2001-12-14t21:59:43.10-05:00", "2001-1-1",
           "'quoted'", '"dq"', "a b", "x: y", "- z", "[1, 2]", "{a: 1}", "#c", "=", "<<",
           "0.0", "-1.0", "1e", "e3", "0x", "0b", "0o", "+", "-", ".", "..."]


def test_random_yaml_reads_and_writes_as_in_node_red() -> None:
    """200 documents of random scalars (a fixed seed) read, and the values read written
    back and read again, by both: the same values, texts and refusals. Scalars js-yaml
    reads as NaN, Infinity or integers beyond 2^53 are refused here (listed differences)
    and are left out of the draw."""
    rng = random.Random(20261201)
    texts = []
    for _ in range(200):
        items = [f"k{index}: {rng.choice(SCALARS)}" for index in range(rng.randint(1, 4))]
        texts.append(rng.choice(["\n", "\n  - ", "\n"]).join(items) if rng.random() < 0.8
                     else "- " + "\n- ".join(item.split(": ", 1)[1] for item in items))
    theirs = run_in_node_red([NodeRedCase({"type": "yaml", "property": "payload"},
                                          [{"payload": text}]) for text in texts])
    differ = []
    for text, [port] in zip(texts, theirs, strict=True):
        mine = run_node("yaml", {}, [{"payload": text}]).outputs[0]
        if [msg.get("payload") for msg in mine] != [msg.get("payload") for msg in port]:
            differ.append((text, [msg.get("payload") for msg in mine],
                           [msg.get("payload") for msg in port]))
    assert differ == []
    values = [msg["payload"] for [port] in theirs for msg in port if "payload" in msg]
    assert len(values) >= 120  # most read: the values, not only the refusals, are compared
    # Written by each, read by the other: the same values (texts may differ in quoting:
    # PyYAML also quotes what YAML 1.1 reads otherwise, such as 1_000 and ...).
    written = run_in_node_red([NodeRedCase({"type": "yaml", "property": "payload"},
                                           [{"payload": value}]) for value in values])
    theirs_texts = [port[0]["payload"] for [port] in written]
    our_texts = [run_node("yaml", {}, [{"payload": value}]).outputs[0][0]["payload"]
                 for value in values]
    read_by_them = run_in_node_red([NodeRedCase({"type": "yaml", "property": "payload"},
                                                [{"payload": text}]) for text in our_texts])
    differ = []
    for value, text, [port] in zip(values, theirs_texts, read_by_them, strict=True):
        read_by_us = run_node("yaml", {}, [{"payload": text}]).outputs[0][0]["payload"]
        if read_by_us != value or port[0]["payload"] != value:
            differ.append((value, text, read_by_us, port))
    assert differ == []
    same_text = sum(ours == theirs for ours, theirs in zip(our_texts, theirs_texts,
                                                          strict=True))
    assert same_text >= len(values) * 3 // 4  # and mostly the very same text
