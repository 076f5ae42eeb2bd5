"""csv in legacy mode, differentially: test_csv_legacy.py's table through Node-RED 4's
own csv node without ``spec: "rfc"`` (tests/node_red.py), one run for the table."""

from __future__ import annotations

import pytest

from tests.nodes.core.test_csv_legacy import CASES, PORTLESS_ONLY
from tests.nodes.core.test_csv_node_red import differing

pytestmark = pytest.mark.slow  # runs Node-RED in Node.js, a subprocess


ROWS = [case for case in CASES if case.id not in PORTLESS_ONLY]


def test_the_table_agrees_with_node_red() -> None:
    assert differing(ROWS) == {}
    assert len(ROWS) == 52
