"""Bounds under hostile load: what a flood costs in memory, log and event-loop time.

- exception-filter state for 1,000,000 distinct topics (default ``max_topics``): topics
  kept and RSS growth, in a fresh interpreter (``python -m bench.bounds topics``);
- the log of ``portless run`` headless with a 1 kHz io-in feeding an output (a status
  per message) and a debug node: lines and bytes in a fixed time;
- the event-loop time of the largest JSON and msgpack payload mqtt-in parses
  (``max_decode_size``, 256 KiB); larger ones are refused unparsed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import msgpack

from portless.nodes.payload import decode
from portless.runtime import Engine, Registry, check_flow

from .core import BenchError, Options, Row, megabytes, run_json
from .memory import status_kib

TOPICS = 1_000_000
MAX_TOPICS = 10_000
FLOOD_HZ = 1000
LINES_PER_NODE_SECOND = 6  # 5 lines a second per node and kind, plus the count line
MAX_DECODE_SIZE = 262_144


async def measure_topics(topics: int) -> dict[str, Any]:
    """Feed one exception-filter ``topics`` distinct topics; nothing passes (ignore
    initial), so all memory growth is the filter's own state."""
    registry = Registry.discover()
    document = {"version": 1, "nodes": [{"id": "filter", "type": "exception-filter",
                                         "config": {"mode": "changed-ignore-initial"}}]}
    with tempfile.TemporaryDirectory(prefix="portless-bench-") as state_dir:
        engine = Engine(registry, state_dir=state_dir)
        await engine.start(check_flow(document, registry, "<bench topics>"))
        before = status_kib("self", "VmRSS")
        for start in range(0, topics, 100_000):
            for n in range(start, min(start + 100_000, topics)):
                engine.inject("filter", {"topic": f"sensor/{n}", "payload": n})
            await engine.wait_idle()
        node: Any = engine.nodes["filter"]
        kept, after = len(node._references), status_kib("self", "VmRSS")
        await engine.stop()
    return {"topics": topics, "kept": kept, "rss_before_kib": before, "rss_after_kib": after}


async def measure_log(seconds: float) -> dict[str, Any]:
    """Run portless headless with a flood for ``seconds``; count what it logged."""
    flow = {"version": 1, "nodes": [
        {"id": "source", "type": "io-in",
         "config": {"signal": "counter", "interval": 1 / FLOOD_HZ},
         "wires": [["valve", "show"]]},
        {"id": "valve", "type": "output", "config": {"target": "sim"}},
        {"id": "show", "type": "debug", "config": {}}]}
    with tempfile.TemporaryDirectory(prefix="portless-bench-") as directory:
        flow_file = Path(directory) / "flood.json"
        flow_file.write_text(json.dumps(flow), encoding="utf-8")
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "portless", "run", str(flow_file), "--no-editor",
            "--state-dir", str(Path(directory) / "state"), stderr=asyncio.subprocess.PIPE)
        assert process.stderr is not None
        log = asyncio.create_task(process.stderr.read())
        await asyncio.sleep(seconds)  # the flood runs for a fixed time: that is the measure
        process.terminate()
        async with asyncio.timeout(30):
            text = (await log).decode("utf-8", "replace")
            await process.wait()
    lines = text.splitlines()
    return {"lines": len(lines), "bytes": len(text.encode()),
            "valve": sum(1 for line in lines if "node valve:" in line),
            "show": sum(1 for line in lines if "node show:" in line)}


def measure_decode() -> dict[str, float]:
    """Milliseconds the loop is held parsing the largest payload mqtt-in parses."""
    items: list[dict[str, Any]] = []
    document = b"[]"
    while True:  # objects as a device would send, up to max_decode_size
        items.append({"id": len(items), "flow": 12.5, "tags": ["a", "b"], "ok": True})
        candidate = json.dumps(items).encode()
        if len(candidate) > MAX_DECODE_SIZE:
            break
        document = candidate
    packed = msgpack.packb(json.loads(document))
    result = {}
    for name, data, fmt in (("json", document, "json"), ("msgpack", packed, "msgpack")):
        best = float("inf")
        for _ in range(5):
            started = time.perf_counter()
            decode(data, fmt, max_size=MAX_DECODE_SIZE)
            best = min(best, time.perf_counter() - started)
        result[name] = best * 1000
        result[f"{name}_bytes"] = len(data)
    return result


def benchmark(options: Options) -> list[Row]:
    rows = []
    topics = TOPICS // 10 if options.quick else TOPICS
    result = run_json("bench.bounds", ["topics", str(topics)], timeout=300)
    growth = result["rss_after_kib"] - result["rss_before_kib"]
    rows.append(Row(f"exception-filter, {topics:,} distinct topics: topics kept, RSS growth",
                    f"{result['kept']:,}, +{megabytes(growth)}", f"<= {MAX_TOPICS:,}",
                    result["kept"] <= MAX_TOPICS))
    seconds = 2.0 if options.quick else 10.0
    flood = asyncio.run(measure_log(seconds))
    bound = int(LINES_PER_NODE_SECOND * (seconds + 1))
    rows.append(Row(f"log of a {FLOOD_HZ} Hz output + debug flood, {seconds:.0f} s",
                    f"{flood['lines']:,} lines, {flood['bytes']:,} bytes "
                    f"(output {flood['valve']}, debug {flood['show']})",
                    f"<= {bound} lines per node",
                    max(flood["valve"], flood["show"]) <= bound))
    parsed = measure_decode()
    for name in ("json", "msgpack"):
        rows.append(Row(f"mqtt-in: loop held parsing {parsed[f'{name}_bytes']:,} bytes of "
                        f"{name} (max_decode_size)", f"{parsed[name]:.1f} ms"))
    return rows


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.bounds",
                                     description="One measurement; prints JSON.")
    parser.add_argument("scenario", choices=["topics"])
    parser.add_argument("count", type=int)
    args = parser.parse_args(argv)
    try:
        print(json.dumps(asyncio.run(measure_topics(args.count))))
    except BenchError as exc:
        print(f"bench.bounds: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
