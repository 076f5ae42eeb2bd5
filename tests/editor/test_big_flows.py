"""A big flow sent to the editor is parsed and checked in a worker thread, within a size
and a time bound, so the running flow (its timers, its MQTT keepalive) never stalls."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import pytest

from portless.editor import flows
from tests.editor.conftest import BEARER, Editor


def big_flow(count: int) -> dict[str, Any]:
    return {"version": 1, "nodes": [
        {"id": f"reader-{i}", "type": "io-in", "wires": [["show"]],
         "config": {"signal": "counter", "interval": 1.5, "topic": f"device/{i}/count"}}
        for i in range(count)] + [{"id": "show", "type": "debug", "config": {}}]}


@pytest.mark.slow  # checks a 15,000-node flow while timing a timer
async def test_a_timer_keeps_firing_while_a_big_validate_runs(editor: Editor) -> None:
    body = json.dumps(big_flow(flows.MAX_NODES - 1))
    loop = asyncio.get_running_loop()
    gaps: list[float] = []

    async def tick() -> None:
        last = loop.time()
        while True:
            await asyncio.sleep(0.01)
            now = loop.time()
            gaps.append(now - last)
            last = now

    ticker = asyncio.create_task(tick())
    started = time.monotonic()
    try:
        response = await editor.client.post("/api/validate", headers=BEARER, data=body)
    finally:
        took = time.monotonic() - started
        ticker.cancel()
    assert (await response.get_json())["errors"] == []
    # On the event loop the timer would stop for the whole validation. In a thread it
    # keeps firing, held up only while the thread keeps the GIL (json.loads is one C
    # call; a garbage collection): about 0.3 s for this 2.7 MB body.
    assert len(gaps) >= 5, (gaps, took)
    assert max(gaps) < took / 2, (max(gaps), took)


async def test_a_check_that_takes_too_long_is_refused(editor: Editor) -> None:
    editor.service.deploys.check_seconds = 0.001
    response = await editor.client.post("/api/validate", headers=BEARER,
                                        data=json.dumps(big_flow(3_000)))
    assert "took longer than" in (await response.get_json())["errors"][0]


@pytest.mark.parametrize("method", ["POST", "PUT"])
async def test_too_many_nodes_are_refused_before_checking(editor: Editor, method: str) -> None:
    before = editor.path.read_text()
    etag = (await editor.client.get("/api/flow", headers=BEARER)).headers["ETag"]
    body = json.dumps({"version": 1, "nodes": [{}] * (flows.MAX_NODES + 1)})
    path = "/api/validate" if method == "POST" else "/api/flow"
    response = await editor.client.open(path, method=method, data=body,
                                        headers={**BEARER, "If-Match": etag})
    assert f"more than {flows.MAX_NODES:,} nodes" in (await response.get_json())["errors"][0]
    assert editor.path.read_text() == before
