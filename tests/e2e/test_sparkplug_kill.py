"""A `portless run` Sparkplug edge node killed with SIGKILL: the broker publishes its
NDEATH (the will, with that CONNECT's bdSeq), and the next run is born with bdSeq + 1,
read from the state directory."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.e2e.lines import Lines, stop
from tests.mosquitto import Mosquitto
from tests.nodes.sparkplug.flows import edge_flow
from tests.sparkplug_host import SparkplugHost

pytestmark = [pytest.mark.broker, pytest.mark.slow]


def run(flow: Path, state_dir: Path) -> tuple[subprocess.Popen[str], Lines]:
    process = subprocess.Popen(
        [sys.executable, "-m", "portless", "run", str(flow), "--no-editor", "--state-dir",
         str(state_dir)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    assert process.stderr is not None
    return process, Lines(process.stderr)


@pytest.mark.tck("tck-id-payloads-ndeath-will-message", "tck-id-payloads-ndeath-bdseq",
                 "tck-id-topics-nbirth-bdseq-increment")
async def test_sigkill_leaves_ndeath_and_the_next_run_has_the_next_bdseq(
        mosquitto: Mosquitto, tmp_path: Path, write_flow: Callable[..., Path]) -> None:
    flow = write_flow(edge_flow(mosquitto.port, outs=[]))
    async with SparkplugHost(mosquitto.port) as host:
        first, lines = run(flow, tmp_path / "state")
        try:
            lines.wait("born as spBv1.0/plant/NBIRTH/valve-1 (bdSeq 0)")
            await host.wait_for("NBIRTH")
            first.send_signal(signal.SIGKILL)
            assert first.wait(20) == -signal.SIGKILL
        finally:
            first.kill()
            lines.close()
        (death,) = await host.wait_for("NDEATH")
        second, lines = run(flow, tmp_path / "state")
        try:
            lines.wait("born as spBv1.0/plant/NBIRTH/valve-1 (bdSeq 1)")
            births = await host.wait_for("NBIRTH", 2)
        finally:
            stop(second)
            lines.close()
        await host.wait_for("NDEATH", 2)
    assert death.metric("bdSeq").value == 0
    assert [b.metric("bdSeq").value for b in births] == [0, 1]
    saved = list((tmp_path / "state").glob("*/edge/bdseq.json"))
    assert [json.loads(path.read_text()) for path in saved] == [{"bdSeq": 1}]
