"""Registering the Sparkplug node types and checking a Sparkplug flow (as every
`portless run` does) import no protobuf: it costs ~3 MB and ~45 ms, paid only when a
sparkplug-node starts."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

FLOW = Path(__file__).parents[3] / "flows" / "valve-sparkplug.json"


@pytest.mark.slow
def test_sparkplug_flow_checks_without_protobuf_cryptography_or_aiohttp() -> None:
    code = ("import sys\n"
            "from portless.runtime.flow import load_flow\n"
            "from portless.runtime.registry import Registry\n"
            "flow = load_flow(sys.argv[1], Registry.discover(), env={})\n"
            "print(*sorted({n.type for n in flow.nodes if 'sparkplug' in n.type}))\n"
            "print(*[m for m in ('google.protobuf', 'cryptography', 'aiohttp') "
            "if m in sys.modules])\n")
    result = subprocess.run([sys.executable, "-c", code, str(FLOW)], capture_output=True,
                            text=True, check=True, timeout=60)
    checked, loaded = result.stdout.split("\n")[:2]
    assert checked == "sparkplug-in sparkplug-node sparkplug-out"  # the flow was checked
    assert loaded == "", f"imported by registering and checking: {loaded}"
