"""batch, differentially: test_batch.py's count and concat table, and its paced interval
cases, through Node-RED 4's own batch node too (tests/node_red.py); the bounds are
portless's alone (Node-RED's is a runtime setting, off by default)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.node_red import NodeRedCase, run_in_node_red
from tests.nodes.core.sequence_rows import agree_with_node_red, as_input, shown
from tests.nodes.core.test_batch import CASES, INTERVAL_CASES, batches, interval_config

pytestmark = pytest.mark.slow  # runs Node-RED in Node.js, a subprocess


def node_red_batch(config: dict[str, Any]) -> dict[str, Any]:
    """A portless batch config as Node-RED's batch writes it (the importer's inverse)."""
    return {"type": "batch", "mode": config.get("mode", "count"),
            "count": config.get("count", 10), "overlap": config.get("overlap", 0),
            "interval": config.get("interval", 10),
            "allowEmptySequence": config.get("send_empty", False),
            "honourParts": config.get("complete_with_parts", False),
            "topics": [{"topic": topic} for topic in config.get("topics", [])]}


def test_the_table_agrees_with_node_red() -> None:
    agree_with_node_red(CASES, node_red_batch)



@pytest.mark.parametrize(("name", "more", "timed", "expected"), INTERVAL_CASES,
                         ids=[case[0] for case in INTERVAL_CASES])
def test_the_interval_cases_agree_with_node_red(
        name: str, more: dict[str, Any], timed: list[tuple[float, dict[str, Any]]],
        expected: list[list[Any]]) -> None:
    times = [at for at, _ in timed]
    waits = [round((at - before) * 1000) for before, at in zip([0.0, *times], times,
                                                                strict=False)]
    case = NodeRedCase(node_red_batch(interval_config(more)),
                       [as_input(msg) for _, msg in timed], after_ms=waits)
    # one case a run (the runner's waits are one timeline); empty batches go on for
    # ever, so the run ends at its timeout and only what the table expects is compared
    [[port]] = run_in_node_red([case], quiet_ms=700, timeout_ms=2500)
    wanted = batches(*expected)
    assert shown(port[:len(wanted)], [msg for _, msg in timed]) == wanted
