"""MQTT: portless's mqtt-out beside Node-RED, a bare gmqtt publisher and mosquitto_pub.

Each scenario (bench.mqtt_scenarios) runs in a fresh interpreter with a private
mosquitto of its own (bench.broker); the subscriber that counts and clocks is a
``mosquitto_sub`` process, so it takes neither the publisher's event loop nor its core.

- throughput at QoS 0 (MQTT 5) and QoS 1 (MQTT 5 and 3.1.1): ``mosquitto_pub -l`` (the
  ceiling), bare gmqtt, portless (bench source -> mqtt-out; QoS 1 through the durable
  outbox) and Node-RED 4 (function -> mqtt out, bench.nodered; when ``node`` is on
  PATH), msgs/s at the subscriber from the first message to the last; QoS 1 must
  arrive complete and in order, for QoS 0 the table says how many arrived. portless's
  QoS 1 target is Node-RED's rate in the same run. For portless and Node-RED the rows
  also give the CPU time a message cost the publishing process (all its threads), which
  a busy shared machine disturbs less than the rate;
- latency at 100 msgs/s, QoS 1 through portless: p50 and p99 of receive - send time;
- outbox drain: QoS 1 messages put into the outbox while the broker is down, then the
  broker starts; msgs/s at the subscriber until all arrived.

Messages per throughput scenario: a tenth of ``--messages``, at least 10,000 (unless
``--messages`` is smaller); the drain takes half as many, at least 10,000. Each
throughput and drain scenario runs REPEATS times, interleaved (a slow spell of a shared
machine then hits every publisher alike), and the median counts; a quick run runs each
once.

The broker keeps mosquitto's receive maximum of 20 (``--receive-maximum`` changes it for
one scenario): portless keeps exactly that many QoS 1 messages in flight over MQTT 5,
bare gmqtt 18 (gmqtt raises at 19; one id stays spare), Node-RED's MQTT.js ignores it.
So MQTT 5 QoS 1 runs once more with the broker's maximum raised to RAISED_MAXIMUM,
portless beside Node-RED.
Over 3.1.1 there is no receive maximum: portless keeps its configured window
(mqtt-broker's ``inflight_window``), bare gmqtt and Node-RED no bound at all. To look
inside portless: ``python -m bench.mqtt portless --qos 1 --profile 40``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .broker import RECEIVE_MAXIMUM
from .core import BenchError, Options, Row, run_json, run_profiled
from .mqtt_scenarios import PROTOCOLS, SCENARIOS, YIELD_EVERY, Work, drain, latency
from .nodered import node_red

TARGET_QOS0 = 45_000
TARGET_QOS0_SHARE = 0.70
"""portless at QoS 0, as a share of the bare gmqtt publisher in the same run."""
TARGET_QOS1 = 22_000
TARGET_COMPLIANT_SHARE = 0.85
"""portless at QoS 1 over MQTT 5 with mosquitto's receive maximum, as a share of
mosquitto_pub, the C client keeping to the same window: there Node-RED's figure is no
target, since its client ignores the receive maximum (MQTT 5, 3.3.4)."""
RAISED_MAXIMUM = 1000
"""The broker's receive maximum in the extra MQTT 5 QoS 1 scenario: with mosquitto's
20, a round trip per 20 messages bounds any client that honours it (docs/benchmarks.md)."""
TARGET_P99_MS = 5.0
TARGET_DRAIN = 20_000
LATENCY_RATE = 100.0
REPEATS = 3
"""Runs of each throughput and drain scenario (1 in a quick run); the median counts."""
THROUGHPUT = {"mosquitto": "mosquitto_pub -l (ceiling)", "gmqtt": "bare gmqtt publisher",
              "portless": "portless mqtt-out", "nodered": "Node-RED 4 mqtt out"}


def scenario_messages(options: Options) -> int:
    return min(options.messages, max(10_000, options.messages // 10))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.mqtt",
        description="Run one MQTT scenario against a private mosquitto; print JSON.")
    parser.add_argument("scenario", choices=[*SCENARIOS, "latency", "drain"])
    parser.add_argument("--qos", type=int, choices=[0, 1, 2], default=1)
    parser.add_argument("--protocol", choices=PROTOCOLS, default="5")
    parser.add_argument("--receive-maximum", type=int, default=RECEIVE_MAXIMUM, metavar="N",
                        help="the broker's max_inflight_messages (MQTT 5's receive maximum)")
    parser.add_argument("--inflight-window", type=int, default=None, metavar="N",
                        help="portless over 3.1.1: mqtt-broker's inflight_window")
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--yield-every", type=int, default=YIELD_EVERY, metavar="N",
                        help="sources yield to the event loop after this many messages")
    parser.add_argument("--rate", type=float, default=LATENCY_RATE,
                        help="latency: messages a second")
    parser.add_argument("--seconds", type=float, default=10.0, help="latency: how long")
    parser.add_argument("--profile", type=int, default=0, metavar="LINES",
                        help="run under cProfile; print the top LINES functions to stderr")
    parser.add_argument("--profile-out", type=Path, default=None, metavar="FILE",
                        help="with --profile, also dump the raw stats to FILE")
    args = parser.parse_args(argv)
    if min(args.messages, args.yield_every, args.receive_maximum) < 1 or args.rate <= 0 \
            or args.seconds <= 0:
        parser.error("--messages, --yield-every, --receive-maximum, --rate and --seconds "
                     "must be positive")
    try:
        with tempfile.TemporaryDirectory(prefix="portless-bench-mqtt-") as workdir:
            result = run_profiled(lambda: asyncio.run(run_scenario(args, Path(workdir))),
                                  args.profile, args.profile_out)
    except BenchError as exc:
        print(f"bench.mqtt: {args.scenario}: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(result))
    return 0


async def run_scenario(args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    if args.scenario == "latency":
        return await latency(workdir, args.rate, args.seconds)
    if args.scenario == "drain":
        return await drain(workdir, args.messages, args.yield_every)
    work = Work(args.qos, args.messages, args.yield_every, args.protocol,
                args.receive_maximum, args.inflight_window)
    return await SCENARIOS[args.scenario](workdir, work)


@dataclass
class Runs:
    """One scenario's repeated runs in this benchmark: their results, or why one failed."""

    results: list[dict[str, Any]] = field(default_factory=list)
    error: str = ""

    @property
    def rate(self) -> float:
        return statistics.median(float(result["rate"]) for result in self.results)

    def describe(self) -> str:
        """The median rate, and every run's when there are several."""
        text = f"{self.rate:,.0f} msgs/s"
        if len(self.results) > 1:
            runs = "/".join(f"{float(result['rate']) / 1000:.0f}k" for result in self.results)
            text += f" (median; runs {runs})"
        cpu = [float(result["cpu_us_per_message"]) for result in self.results
               if "cpu_us_per_message" in result]
        if cpu:  # a figure a busy shared machine disturbs less than the rate
            text += f", {statistics.median(cpu):.0f} us CPU a message"
        broker = [float(result["broker_us_per_message"]) for result in self.results
                  if "broker_us_per_message" in result]
        if broker:  # the other half of the work, on the other core
            text += f" (mosquitto {statistics.median(broker):.0f} us)"
        return text

    def arrived(self) -> str:
        worst = min(self.results, key=lambda result: int(result["received"]))
        if worst["received"] == worst["sent"]:
            return "all arrived"
        return f"worst run: {worst['received']:,} of {worst['sent']:,} arrived"


def repeat(scenario: str, args: Sequence[str], runs: dict[str, Runs], timeout: float) -> None:
    """Run a scenario once more, adding its result (or its error) to ``runs``."""
    mine = runs.setdefault(scenario, Runs())
    if mine.error:
        return
    started = time.perf_counter()
    try:
        mine.results.append(run_json("bench.mqtt", [scenario, *args], timeout=timeout))
    except BenchError as exc:
        mine.error = f"error: {exc}"
    print(f"bench: mqtt {scenario} {' '.join(args)}: {time.perf_counter() - started:.1f} s",
          file=sys.stderr)


def benchmark(options: Options) -> list[Row]:
    count = scenario_messages(options)
    repeats = 1 if options.quick else REPEATS
    red_js, no_node_red = node_red()  # installs Node-RED into its cache if need be
    scenarios = [name for name in THROUGHPUT if red_js or name != "nodered"]
    rows: list[Row] = []
    for qos, protocol, maximum in ((0, "5", RECEIVE_MAXIMUM), (1, "5", RECEIVE_MAXIMUM),
                                   (1, "5", RAISED_MAXIMUM), (1, "3.1.1", RECEIVE_MAXIMUM)):
        runs: dict[str, Runs] = {}
        for _ in range(repeats):  # interleaved, so a slow spell of the machine hits all
            for scenario in scenarios:
                if maximum != RECEIVE_MAXIMUM and scenario not in ("portless", "nodered"):
                    continue  # the raised maximum is there to compare these two
                repeat(scenario, ["--qos", str(qos), "--protocol", protocol,
                                  "--receive-maximum", str(maximum),
                                  "--messages", str(count)], runs, timeout=120 + count / 1000)
        rows += throughput_rows(qos, protocol, count, runs, no_node_red, maximum)
    rows.append(latency_row(options))
    rows.append(drain_row(min(count, max(10_000, count // 2)), repeats))
    return rows


def throughput_rows(qos: int, protocol: str, count: int, runs: dict[str, Runs],
                    no_node_red: str, maximum: int = RECEIVE_MAXIMUM) -> list[Row]:
    """One row per publisher; portless's says how it compares (QoS 0: with bare gmqtt,
    QoS 1: with Node-RED in the same run, or an absolute target without Node-RED)."""
    rows = []
    red = runs.get("nodered")
    red_rate = red.rate if red and red.results else None
    raised = f", receive maximum {maximum:,}" if maximum != RECEIVE_MAXIMUM else ""
    for scenario, label in THROUGHPUT.items():
        if raised and scenario not in ("portless", "nodered"):
            continue
        via = " via the outbox" if qos and scenario == "portless" else ""
        measurement = (f"mqtt QoS {qos} over MQTT {protocol}{raised}, {label}{via} "
                       f"({count:,} msgs)")
        if scenario not in runs:
            rows.append(Row(measurement, no_node_red))
            continue
        mine = runs[scenario]
        mark: bool | None = None
        target = "-"
        keeps_window = qos > 0 and protocol == "5" and maximum == RECEIVE_MAXIMUM
        if scenario == "portless":
            target = (f">= {TARGET_QOS0:,} msgs/s and >= {TARGET_QOS0_SHARE:.0%} of "
                      "bare gmqtt" if qos == 0 else
                      f">= {TARGET_COMPLIANT_SHARE:.0%} of mosquitto_pub, the C client "
                      f"keeping to the receive maximum of {RECEIVE_MAXIMUM} too "
                      "(Node-RED's client does not)" if keeps_window else
                      ">= Node-RED in the same run" if red_rate else f">= {TARGET_QOS1:,} msgs/s")
            mark = False
        if mine.error:
            rows.append(Row(measurement, mine.error, target, mark))
            continue
        text = mine.describe()
        if scenario == "gmqtt" and qos:
            text += f", window {mine.results[0]['window']} " + (
                f"(receive maximum {RECEIVE_MAXIMUM})" if protocol == "5"
                else "(gmqtt's default; 3.1.1 has no receive maximum)")
        if scenario == "portless":
            if keeps_window:
                text += compliant_comparison(mine, runs, red_rate)
                mark = compliant_pass(mine, runs)
            elif qos and red_rate:
                text += f"; {mine.rate / red_rate:.2f} x Node-RED's rate"
                mark = mine.rate >= red_rate
            elif qos:
                mark = mine.rate >= TARGET_QOS1
            elif runs["gmqtt"].error:
                text += "; no bare gmqtt figure to compare with"
            else:
                share = mine.rate / runs["gmqtt"].rate
                text += f"; {share:.0%} of bare gmqtt"
                mark = mine.rate >= TARGET_QOS0 and share >= TARGET_QOS0_SHARE
            if not qos and red_rate:
                text += f", {mine.rate / red_rate:.2f} x Node-RED's rate"
        if qos == 0:
            text += f"; {mine.arrived()}"
        rows.append(Row(measurement, text, target, mark))
    return rows


def compliant_comparison(mine: Runs, runs: dict[str, Runs], red_rate: float | None) -> str:
    """How portless compares with the clients that keep to the receive maximum (and,
    for the record, with Node-RED, which does not)."""
    parts = [f"{mine.rate / runs[name].rate:.2f} x {label}"
             for name, label in (("mosquitto", "mosquitto_pub"), ("gmqtt", "bare gmqtt"))
             if name in runs and not runs[name].error]
    if red_rate:
        parts.append(f"{mine.rate / red_rate:.2f} x Node-RED's rate (its client ignores the "
                     f"receive maximum)")
    return "; " + ", ".join(parts)


def compliant_pass(mine: Runs, runs: dict[str, Runs]) -> bool:
    """At least TARGET_COMPLIANT_SHARE of mosquitto_pub's rate (or TARGET_QOS1 without it)."""
    ceiling = runs.get("mosquitto")
    if ceiling is None or ceiling.error:
        return mine.rate >= TARGET_QOS1
    return mine.rate >= TARGET_COMPLIANT_SHARE * ceiling.rate


def latency_row(options: Options) -> Row:
    seconds = 2.0 if options.quick else 10.0
    measurement = (f"mqtt QoS 1 latency via the outbox, {LATENCY_RATE:.0f} msgs/s "
                   f"for {seconds:.0f} s")
    # A connected sender sends a message before its batch commits (nodes/mqtt/outbox.py).
    limit_ms = TARGET_P99_MS
    target = f"p99 <= {limit_ms:g} ms"
    runs: dict[str, Runs] = {}
    repeat("latency", ["--rate", str(LATENCY_RATE), "--seconds", str(seconds)], runs,
           timeout=60 + seconds)
    if runs["latency"].error:
        return Row(measurement, runs["latency"].error, target, False)
    result = runs["latency"].results[0]
    return Row(measurement, f"p50 {result['p50_ms']:.2f} ms, p99 {result['p99_ms']:.2f} ms "
                            f"(max {result['max_ms']:.1f} ms)",
               target, result["p99_ms"] <= limit_ms)


def drain_row(count: int, repeats: int) -> Row:
    measurement = f"mqtt outbox drain after a broker outage ({count:,} msgs)"
    target = f">= {TARGET_DRAIN:,} msgs/s"
    runs: dict[str, Runs] = {}
    for _ in range(repeats):
        repeat("drain", ["--messages", str(count)], runs, timeout=120 + count / 1000)
    mine = runs["drain"]
    if mine.error:
        return Row(measurement, mine.error, target, False)
    emptied = statistics.median(float(result["emptied_s"]) for result in mine.results)
    return Row(measurement, f"{mine.describe()}; outbox empty {emptied:.2f} s after "
                            f"reconnecting", target, mine.rate >= TARGET_DRAIN)


if __name__ == "__main__":
    sys.exit(main())
