"""Node-RED beside the core pipeline: the same flow through Node-RED 4's own nodes.

    inject (once) -> function (presses the next inject N times)
        -> inject -> change -> switch -> range -> rbe -> function (counts)

The pressing function sends the second inject node an empty message per press, as the
editor's button does (Node-RED's inject builds its message on the one it is given),
a thousand at a time with a timer between, so Node-RED never holds all N at once. Each
node is set up as its portless twin in bench.core_pipeline; the counter warns when the
last message arrived (nodered.counting_function).
"""

from __future__ import annotations

from typing import Any

from .nodered import START_CLOCKS, TimedRun, counting_function, timed_run

CHUNK = 1000


def flow(messages: int, band: float) -> list[dict[str, Any]]:
    """The Node-RED flow: N presses through the pipeline into the counter."""
    press = (f"{START_CLOCKS} let i = 0; "
             f"function chunk() {{ const end = Math.min(i + {CHUNK}, {messages}); "
             "for (; i < end; i++) { node.send({}, false); } "
             f"if (i < {messages}) {{ setTimeout(chunk, 0); }} }} chunk(); return null;")
    tab = "bench-tab"

    def node(node_id: str, node_type: str, wire: str | None, **config: Any) -> dict[str, Any]:
        return {"id": node_id, "type": node_type, "z": tab,
                "wires": [[wire]] if wire else [], **config}

    return [
        {"id": tab, "type": "tab", "label": "bench"},
        node("bench-go", "inject", "bench-press", once=True, onceDelay="0.5", repeat="",
             props=[{"p": "payload"}], payload="", payloadType="date"),
        node("bench-press", "function", "bench-inject", func=press, outputs=1),
        node("bench-inject", "inject", "bench-change", repeat="", once=False,
             props=[{"p": "payload", "v": "", "vt": "date"},
                    {"p": "topic", "v": "", "vt": "str"}]),
        node("bench-change", "change", "bench-switch", rules=[
            {"t": "set", "p": "topic", "pt": "msg", "to": "line/1/temperature",
             "tot": "str"}]),
        node("bench-switch", "switch", "bench-range", property="payload",
             propertyType="msg", rules=[{"t": "gt", "v": "0", "vt": "num"}],
             checkall="true", repair=False, outputs=1),
        node("bench-range", "range", "bench-rbe", minin="0", maxin="1000", minout="0",
             maxout="1", action="scale", round=False, property="payload"),
        node("bench-rbe", "rbe", "bench-count", func="narrowband", gap=str(band),
             start="", inout="out", septopics=True, property="payload", topi="topic"),
        node("bench-count", "function", None, func=counting_function(messages),
             outputs=1),
    ]


async def measure(messages: int, band: float) -> tuple[TimedRun | None, str]:
    """What Node-RED took for the pipeline, or None and why not."""
    return await timed_run(flow(messages, band), 60 + messages / 1_000)
