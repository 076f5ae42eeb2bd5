"""The table of docs/sparkplug.md: every assertion of Sparkplug 3.0 and what it means for
portless's edge node: tested (by which tests, from their ``tck`` marks), not
applicable (and why), or not yet (and why).

``python -m tests.nodes.sparkplug.conformance`` writes it; test_conformance.py fails
when docs/sparkplug.md differs, or a mark names an id the specification does not have.
"""

from __future__ import annotations

import importlib
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

from tests.nodes.sparkplug.tck_assertions import ASSERTIONS

DOC = Path(__file__).parents[3] / "docs" / "sparkplug.md"
BEGIN, END = "<!-- assertions: begin (generated) -->", "<!-- assertions: end -->"
TEST_MODULES = ("tests.nodes.sparkplug.test_session", "tests.nodes.sparkplug.test_out_in",
                "tests.nodes.sparkplug.test_primary_host",
                "tests.nodes.sparkplug.test_rebirth_under_load",
                "tests.nodes.sparkplug.test_servers", "tests.e2e.test_sparkplug_kill")

NOT_APPLICABLE: list[tuple[str, str]] = [
    (r"^(host-topic-|message-flow-phid-|message-flow-hid-|components-ph-state"
     r"|operational-behavior-host-|payloads-state-|conformance-primary-host"
     r"|operational-behavior-primary-application-state-with-multiple-servers-state$)"
     r"|-host-action-", "a host application's (the test host follows it)"),
    (r"^conformance-mqtt-", "the MQTT server's (mosquitto's)"),
    (r"^(topics|payloads)-(ncmd|dcmd)-|^operational-behavior-data-commands-(ncmd|dcmd)-"
     r"|^payloads-name-cmd-requirement$",
     "about the commands a host sends; the node takes them by name or by alias"),
    (r"template|dataset", "portless sends no Templates or DataSets"),
    (r"^topic-structure-namespace-(unique-edge-node-descriptor|duplicate-device-id)"
     r"|^payloads-nbirth-edge-node-descriptor$",
     "a rule for the whole system's configuration: no one edge node can check it"),
    (r"^case-sensitivity-", "a SHOULD about the ids and names a user chooses"),
    (r"^principles-rbe-recommended$|^operational-behavior-data-publish-(n|d)birth-change$",
     "the flow decides what it sends: an exception-filter before sparkplug-out reports "
     "by exception"),
]
"""(pattern over the id without ``tck-id-``, why): assertions that bind someone else or
describe what portless does not send."""

NOT_YET: dict[str, str] = {}
"""Edge-node assertions portless does not meet or test yet, and why."""


def _marks(module: ModuleType) -> Iterator[tuple[str, str]]:
    """(assertion id without prefix, test name) for every ``tck`` mark in a module."""
    for name in dir(module):
        function = getattr(module, name)
        if not name.startswith("test_") or not callable(function):
            continue
        for mark in getattr(function, "pytestmark", []):
            if mark.name == "tck":
                for tck_id in mark.args:
                    yield tck_id.removeprefix("tck-id-"), f"{module.__name__}::{name}"


def tested() -> dict[str, list[str]]:
    """Assertion id → the tests that check it."""
    found: dict[str, list[str]] = {}
    for module_name in TEST_MODULES:
        module = importlib.import_module(module_name)
        for tck_id, test in _marks(module):
            found.setdefault(tck_id, []).append(test.removeprefix("tests.nodes.sparkplug."))
    return found


def status(tck_id: str, tests: dict[str, list[str]]) -> tuple[str, str]:
    """(tested | not applicable | not yet, the tests or why)."""
    if tck_id in tests:
        return "tested", ", ".join(f"`{test}`" for test in sorted(set(tests[tck_id])))
    for pattern, why in NOT_APPLICABLE:
        if re.search(pattern, tck_id):
            return "not applicable", why
    return "not yet", NOT_YET.get(tck_id, "")


def table() -> str:
    tests = tested()
    rows: list[str] = []
    counts: dict[str, int] = {}
    for chapter, ids in ASSERTIONS.items():
        rows += ["", f"### Chapter {chapter}", "", "| assertion | status | tests, or why |",
                 "| --- | --- | --- |"]
        for tck_id in ids:
            state, detail = status(tck_id, tests)
            counts[state] = counts.get(state, 0) + 1
            rows.append(f"| `tck-id-{tck_id}` | {state} | {detail} |")
    total = sum(counts.values())
    summary = (f"{total} assertions: {counts.get('tested', 0)} tested, "
               f"{counts.get('not yet', 0)} not yet, "
               f"{counts.get('not applicable', 0)} not applicable to an edge node.")
    return "\n".join([BEGIN, "", summary, *rows, "", END])


def render(document: str) -> str:
    """``document`` with its generated table replaced by today's."""
    head, _, rest = document.partition(BEGIN)
    _, _, tail = rest.partition(END)
    return head + table() + tail


def main(argv: list[str]) -> int:
    new = render(DOC.read_text())
    if "--check" in argv:
        return 0 if new == DOC.read_text() else 1
    DOC.write_text(new)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
