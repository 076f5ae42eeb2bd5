"""`portless sparkplug watch` against a real mosquitto and a running edge node: one
decoded line a message, data by the births' aliases."""

from __future__ import annotations

import asyncio
import subprocess
import sys

import pytest

from portless.nodes.sparkplug.host_view import HostView
from portless.nodes.sparkplug.metric_properties import Property
from portless.nodes.sparkplug.payload import Metric, encode_payload
from portless.sparkplug_watch import describe
from portless.testing import FlowHarness
from tests.e2e.lines import Lines
from tests.mosquitto import Mosquitto
from tests.nodes.sparkplug.flows import connected, edge_flow


def test_lines_name_the_metrics_by_birth_and_by_alias() -> None:
    view = HostView()
    birth = encode_payload([Metric("Int64", 3, name="bdSeq"),
                            Metric("Double", 1.5, name="Flow", alias=1, properties=(
                                Property("engUnit", "String", "m3/h"),
                                Property("Quality", "Int32", 192)))], 0, 0)
    data = encode_payload([Metric("Double", 2.5, alias=1, with_datatype=False,
                                  is_historical=True)], 1000, 1)
    assert describe(view, "spBv1.0/plant/NBIRTH/valve-1", birth) == \
        "00:00:00.000 NBIRTH plant/valve-1 seq=0 | bdSeq Int64 = 3 | Flow (alias 1) " \
        'Double = 1.5 {engUnit="m3/h", Quality=192}'
    assert describe(view, "spBv1.0/plant/NDATA/valve-1", data) == \
        "00:00:01.000 NDATA plant/valve-1 seq=1 | alias 1 Double = 2.5 [historical]"
    assert describe(view, "spBv1.0/STATE/scada", b'{"online": true}') == \
        'STATE scada {"online": true}'
    assert describe(view, "spBv1.0/plant/NDATA/other", data).endswith(
        "undecodable (metric 1: no datatype, and none known)")


def start_watch(port: int) -> tuple[subprocess.Popen[str], Lines, Lines]:
    """`portless sparkplug watch` for three messages, once it is subscribed."""
    process = subprocess.Popen(
        [sys.executable, "-m", "portless", "sparkplug", "watch", "--port", str(port),
         "--count", "3"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert process.stdout is not None
    assert process.stderr is not None
    errors = Lines(process.stderr)
    errors.wait("watching spBv1.0/+/#")
    return process, Lines(process.stdout), errors


@pytest.mark.slow
@pytest.mark.broker
async def test_watch_prints_the_births_of_a_running_node(mosquitto: Mosquitto) -> None:
    process, lines, errors = start_watch(mosquitto.port)
    try:
        async with FlowHarness(edge_flow(mosquitto.port, outs=[])) as h:
            await connected(h)
            # The node runs in this event loop: read the output beside it.
            nbirth = await asyncio.to_thread(lines.wait, "NBIRTH")
            dbirth = await asyncio.to_thread(lines.wait, "DBIRTH")
        assert await asyncio.to_thread(process.wait, 20) == 0
    finally:
        process.kill()
        lines.close()
        errors.close()
    assert "NBIRTH plant/valve-1 seq=0 | bdSeq Int64 = 0 | Node Control/Rebirth Boolean " \
           "= false" in nbirth
    assert "DBIRTH plant/valve-1/pump-1 seq=1" in dbirth
