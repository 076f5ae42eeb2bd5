"""Node-RED beside the async input benchmark: the same scenarios through function nodes.

A Node-RED function node does not queue: every message's code runs at once, so a 1 ms
wait would overlap for all of them. To measure the same work (one message at a time
per node, in order) each function chains a message's wait behind the previous one's
promise, kept in the node's context; awaiting nothing is a plain ``return msg``.

    inject (once) -> function (emits N) -> function x P (the work) -> function (counts)

The counter warns "bench-done MS" when the last message arrived; the time is read
from Node-RED's log.
"""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path
from typing import Any

from .core import BenchError
from .nodered import NodeRed, node_red

DONE = "bench-done "

WAIT_ONE_MS = ("const last = context.get('last') || Promise.resolve(); "
               "const next = last.then(() => new Promise((r) => setTimeout(r, 1)))"
               ".then(() => node.send(msg)); "
               "context.set('last', next); return null;")


def flow(messages: int, sleep: bool, parallel: int) -> list[dict[str, Any]]:
    """The Node-RED flow of one scenario."""
    total = messages * parallel
    emit = (f"flow.set('t0', Date.now()); for (let i = 0; i < {messages}; i++) "
            "{ node.send({topic: 'bench', payload: i}); } return null;")
    count = ("const n = (context.get('n') || 0) + 1; context.set('n', n); "
             f"if (n === {total}) {{ node.warn('{DONE}' + (Date.now() - flow.get('t0'))); }}"
             " return null;")
    works = [f"bench-work-{n}" for n in range(parallel)]
    return [
        {"id": "bench-tab", "type": "tab", "label": "bench"},
        {"id": "bench-go", "type": "inject", "z": "bench-tab", "once": True,
         "onceDelay": "0.5", "repeat": "", "props": [{"p": "payload"}], "payload": "",
         "payloadType": "date", "wires": [["bench-emit"]]},
        {"id": "bench-emit", "type": "function", "z": "bench-tab", "func": emit,
         "outputs": 1, "wires": [works]},
        *({"id": work, "type": "function", "z": "bench-tab", "outputs": 1,
           "func": WAIT_ONE_MS if sleep else "return msg;", "wires": [["bench-count"]]}
          for work in works),
        {"id": "bench-count", "type": "function", "z": "bench-tab", "func": count,
         "outputs": 1, "wires": []},
    ]


async def measure(messages: int, sleep: bool, parallel: int) -> tuple[float | None, str]:
    """Node-RED's messages a second for one scenario, or None and why not."""
    red_js, why = node_red()
    if red_js is None:
        return None, why
    with tempfile.TemporaryDirectory(prefix="portless-bench-nodered-") as workdir:
        red = NodeRed(red_js, Path(workdir), flow(messages, sleep, parallel))
        try:
            await red.start()
            async with asyncio.timeout(60 + messages * parallel / 100):
                # Its log lines arrive through NodeRed's reader task, which signals nothing.
                while not (done := [line for line in red.output if DONE in line]):  # noqa: ASYNC110
                    await asyncio.sleep(0.05)
        except TimeoutError:
            return None, f"Node-RED did not finish: {' | '.join(red.output[-2:])}"
        except BenchError as exc:
            return None, str(exc)
        finally:
            await red.stop()
    milliseconds = float(done[0].rsplit(DONE, 1)[1].split()[0])
    return messages * parallel / max(milliseconds / 1000, 0.001), ""
