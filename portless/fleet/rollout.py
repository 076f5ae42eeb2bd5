"""A rollout from the engineer's side: publish a signed bundle as the retained desired
state of each device, read what every device reports, and follow a rollout until each
named device has ended its job (or the time is up)."""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from .chunks import ChunksRefused, bundle_topic, read_manifest, split
from .engineer import BrokerError, Engineer
from .limits import DEFAULT_CHUNK_SIZE
from .reports import BAD_STATES, Report, parse_report


async def publish(engineer: Engineer, devices: list[str], data: bytes, version: int,
                  say: Callable[[str], None], chunk_size: int = DEFAULT_CHUNK_SIZE
                  ) -> list[str]:
    """Publish ``data`` retained on each device's desired topic (larger than
    ``chunk_size``: in chunks, behind a manifest), then clear the chunks of the bundle
    it replaces; the devices not published (each said)."""
    refused: list[str] = []

    async def one(device: str) -> None:
        try:
            chunks = await _publish_one(engineer, device, data, version, chunk_size)
        except BrokerError as exc:
            refused.append(device)
            say(f"{device}: not published: {exc}")
            return
        say(f"{device}: published{f' in {chunks} chunks' if chunks else ''}")
    await asyncio.gather(*(one(device) for device in devices))
    return refused


async def _publish_one(engineer: Engineer, device: str, data: bytes, version: int,
                       chunk_size: int) -> int:
    """Publish to one device; how many chunks the bundle went in (0: whole)."""
    desired = engineer.config.topic(device, "desired")
    previous = (await engineer.retained(desired, stay=False)).get(desired, b"")
    try:
        old = read_manifest(previous)
    except ChunksRefused:
        old = None  # not one this side wrote: nothing of it to clear
    message, new_sha, count = data, None, 0
    if len(data) > chunk_size:
        manifest, chunks = split(data, version, engineer.config.topic_prefix, device,
                                 chunk_size)
        await asyncio.gather(*(engineer.publish(topic, payload) for topic, payload in chunks))
        message, new_sha, count = manifest.encode(), manifest.sha256, len(chunks)
    await engineer.publish(desired, message)
    if old is not None and old.sha256 != new_sha:
        stale = bundle_topic(engineer.config.topic_prefix, device, old.sha256)
        await asyncio.gather(*(engineer.publish(f"{stale}/{index}", b"")
                               for index in range(old.chunks)))
    return count


async def reports(engineer: Engineer, devices: list[str] | None = None) -> list[Report]:
    """Every device's retained report under the prefix (``devices``: only those, each
    one, reported or not), sorted by device."""
    retained = await engineer.retained(engineer.config.topic("+", "reported"))
    by_device = {topic.split("/")[-2]: payload for topic, payload in retained.items()}
    names = sorted(by_device) if devices is None else devices
    return [parse_report(device, by_device.get(device)) for device in names]


@dataclass
class Watch:
    """Where each device of a rollout is; ``done`` once every one has ended its job."""

    version: int
    success: frozenset[str]
    latest: dict[str, Report] = field(default_factory=dict)

    def ended(self, report: Report) -> bool:
        return report.version == self.version and (
            report.state in self.success or report.state in BAD_STATES)

    def done(self) -> bool:
        return all(self.ended(report) for report in self.latest.values())


async def watch(engineer: Engineer, devices: list[str], version: int,
                success: frozenset[str], timeout: float, say: Callable[[str], None],
                publish: Callable[[], Awaitable[None]] | None = None) -> Watch:
    """Follow each device's reports until every one has ended its job for ``version``
    (``success`` or a bad state) or ``timeout`` seconds pass; each change is said.
    ``publish``, awaited once the retained reports are in: what starts the jobs."""
    progress = Watch(version, success)
    wanted = set(devices)
    with engineer.follow(engineer.config.topic("+", "reported")) as arrivals:
        for report in await reports(engineer, devices):
            _note(progress, report, say)
        if publish is not None:
            await publish()
        deadline = time.monotonic() + timeout
        while not progress.done():
            try:
                message = await asyncio.wait_for(arrivals.get(),
                                                 max(0.0, deadline - time.monotonic()))
            except TimeoutError:
                break
            device = message.topic.split("/")[-2]
            if device in wanted and message.payload:
                report = parse_report(device, message.payload)
                if report.version is None and report.state in BAD_STATES \
                        and not message.retained:
                    # refused before its version could be read (a bad signature, say),
                    # while this watch ran: the end of the job it follows
                    report = dataclasses.replace(report, version=version)
                _note(progress, report, say)
    return progress


def _note(progress: Watch, report: Report, say: Callable[[str], None]) -> None:
    before = progress.latest.get(report.device)
    progress.latest[report.device] = report
    if before is not None and (before.state, before.version, before.reason) == (
            report.state, report.version, report.reason):
        return
    version = "" if report.version is None else f" version {report.version}"
    say(f"{report.device}: {report.state}{version}"
        f"{': ' + report.reason if report.reason else ''}")
