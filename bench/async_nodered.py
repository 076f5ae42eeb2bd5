"""Node-RED beside the async input benchmark: the same scenarios through function nodes.

A Node-RED function node does not queue: every message's code runs at once, so a 1 ms
wait would overlap for all of them. To measure the same work (one message at a time
per node, in order) each function chains a message's wait behind the previous one's
promise, kept in the node's context; awaiting nothing is a plain ``return msg``.

    inject (once) -> function (emits N) -> function x P (the work) -> function (counts)

The counter warns when the last message arrived (nodered.counting_function); the time
is read from Node-RED's log.
"""

from __future__ import annotations

from typing import Any

from .nodered import START_CLOCKS, counting_function, timed_run

WAIT_ONE_MS = ("const last = context.get('last') || Promise.resolve(); "
               "const next = last.then(() => new Promise((r) => setTimeout(r, 1)))"
               ".then(() => node.send(msg)); "
               "context.set('last', next); return null;")


def flow(messages: int, sleep: bool, parallel: int) -> list[dict[str, Any]]:
    """The Node-RED flow of one scenario."""
    total = messages * parallel
    emit = (f"{START_CLOCKS} for (let i = 0; i < {messages}; i++) "
            "{ node.send({topic: 'bench', payload: i}); } return null;")
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
        {"id": "bench-count", "type": "function", "z": "bench-tab",
         "func": counting_function(total), "outputs": 1, "wires": []},
    ]


async def measure(messages: int, sleep: bool, parallel: int) -> tuple[float | None, str]:
    """Node-RED's messages a second for one scenario, or None and why not."""
    run, why = await timed_run(flow(messages, sleep, parallel), 60 + messages * parallel / 100)
    if run is None:
        return None, why
    return messages * parallel / max(run.milliseconds / 1000, 0.001), ""
