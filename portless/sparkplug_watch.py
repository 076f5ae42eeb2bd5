"""``portless sparkplug watch``: print what a Sparkplug host would see on a broker,
one line a message, payloads decoded (data by the aliases of the births before it)."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from portless.nodes.sparkplug.topics import NAMESPACE

if TYPE_CHECKING:  # protobuf and gmqtt are imported when the watch starts, not by every
    import gmqtt  # portless command that builds the argument parser

    from portless.nodes.sparkplug.host_view import HostView, Seen


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser(
        "sparkplug", help="Sparkplug B tools: watch",
        description="Sparkplug B tools.")
    tools = parser.add_subparsers(dest="sparkplug_command", required=True,
                                  metavar="TOOL")
    watch = tools.add_parser(
        "watch", help="print the Sparkplug messages on a broker, decoded",
        description="Subscribe to spBv1.0/# on a broker (plain MQTT, as a host's test "
                    "tool) and print every message decoded: births, deaths, data by "
                    "alias, commands, and the hosts' STATE.")
    watch.add_argument("--host", default="127.0.0.1")
    watch.add_argument("--port", type=int, default=1883)
    watch.add_argument("--group", default="+", help="only this group (default: all)")
    watch.add_argument("--count", type=int, default=0,
                       help="exit after this many messages (default: run until Ctrl-C)")
    watch.add_argument("--username", default=os.environ.get("SPARKPLUG_WATCH_USER", ""),
                       help="default: $SPARKPLUG_WATCH_USER (the password is "
                            "$SPARKPLUG_WATCH_PASSWORD, never an argument)")


def run(args: argparse.Namespace) -> int:
    try:
        return asyncio.run(_watch(args))
    except OSError as exc:
        print(f"portless sparkplug watch: cannot reach {args.host}:{args.port}: {exc}",
              file=sys.stderr)
        return 2


async def _watch(args: argparse.Namespace) -> int:
    import gmqtt

    from portless.nodes.sparkplug.host_view import HostView

    view = HostView()
    done = asyncio.Event()
    printed = 0

    def on_message(client: gmqtt.Client, topic: str, payload: bytes, qos: int,
                   properties: dict[str, Any]) -> int:
        nonlocal printed
        print(describe(view, topic, payload), flush=True)
        printed += 1
        if args.count and printed >= args.count:
            done.set()
        return 0

    client = gmqtt.Client(f"portless-watch-{os.getpid()}", clean_session=True)
    if args.username:
        client.set_auth_credentials(args.username,
                                    os.environ.get("SPARKPLUG_WATCH_PASSWORD") or None)
    client.on_message = on_message
    client.on_connect = lambda c, *_: (
        c.subscribe(f"{NAMESPACE}/{args.group}/#", qos=1),
        c.subscribe(f"{NAMESPACE}/STATE/+", qos=1))
    await client.connect(args.host, args.port, keepalive=30)
    print(f"watching {NAMESPACE}/{args.group}/# on {args.host}:{args.port}", file=sys.stderr,
          flush=True)
    try:
        await done.wait()
    finally:
        await client.disconnect()
    return 0


def describe(view: HostView, topic: str, data: bytes) -> str:
    """One line for one message: time, verb, node/device, seq, then the metrics."""
    from portless.nodes.sparkplug.datatypes import MetricValueError

    if topic.startswith(f"{NAMESPACE}/STATE/"):
        return f"STATE {topic.rsplit('/', 1)[1]} {_text(data)}"
    try:
        seen = view.read(topic, data)
    except MetricValueError as exc:
        return f"{topic}: undecodable ({exc})"
    if seen is None:
        return f"{topic}: not a Sparkplug B topic"
    return _line(seen)


def _line(seen: Seen) -> str:
    where = f"{seen.group}/{seen.edge_node}" + (f"/{seen.device}" if seen.device else "")
    head = [_time(seen.payload.timestamp), seen.verb, where]
    if seen.payload.seq is not None:
        head.append(f"seq={seen.payload.seq}")
    metrics = []
    for metric in seen.payload.metrics:
        label = metric.name if metric.name is not None else f"alias {metric.alias}"
        if metric.name is not None and metric.alias is not None:
            label += f" (alias {metric.alias})"
        flags = "".join(f" [{flag}]" for flag, on in (("historical", metric.is_historical),
                                                      ("transient", metric.is_transient))
                        if on)
        properties = ", ".join(f"{p.name}={json.dumps(p.value)}" for p in metric.properties)
        metrics.append(f"{label} {metric.datatype} = {json.dumps(_plain(metric.value))}"
                       f"{flags}" + (f" {{{properties}}}" if properties else ""))
    return " ".join(head) + ("" if not metrics else " | " + " | ".join(metrics))


def _time(ms: int | None) -> str:
    if ms is None:
        return "-"
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%H:%M:%S.%f")[:-3]


def _plain(value: Any) -> Any:
    return value.hex() if isinstance(value, bytes) else value


def _text(data: bytes) -> str:
    return data.decode("utf-8", "replace")[:200]
