"""Chunked bundles: the engineer's split and the device's reassembly, with hostile
manifests and chunks refused, each with its reason."""

from __future__ import annotations

import asyncio
import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from portless.cli import main
from portless.fleet.chunks import (
    FORMAT,
    MAX_CHUNKS,
    ChunksRefused,
    Reassembly,
    read_manifest,
    split,
)
from portless.fleet.limits import MAX_BUNDLE_BYTES
from tests.fleet.simulated import SimulatedDevice, engineer_config, fleet, flow, running
from tests.mosquitto import Mosquitto
from tests.mqtt_client import Watcher

PREFIX, DEVICE = "plant/fleet", "pump-7"
DATA = bytes(range(256)) * 40  # 10,240 bytes: 3 chunks of 4,096 (the last 2,048)


class Link:
    """What a Reassembly asks of the management link, kept."""

    def __init__(self) -> None:
        self.subscribed: list[str] = []
        self.unsubscribed: list[str] = []
        self.refused: list[tuple[int | None, str]] = []
        self.done = asyncio.Event()

    def reassembly(self, timeout: float = 10.0) -> Reassembly:
        def refuse(version: int | None, reason: str) -> None:
            self.refused.append((version, reason))
            self.done.set()
        return Reassembly(PREFIX, DEVICE, self.subscribed.append, self.unsubscribed.append,
                          refuse, timeout)


def manifest_document(**change: Any) -> bytes:
    manifest, _ = split(DATA, 7, PREFIX, DEVICE, 4096)
    return json.dumps({**json.loads(manifest.encode()), **change}).encode()


async def test_chunks_in_any_order_make_the_bundle_once_all_arrived() -> None:
    manifest, chunks = split(DATA, 7, PREFIX, DEVICE, 4096)
    assert [len(payload) for _, payload in chunks] == [4096, 4096, 2048]
    digest = hashlib.sha256(DATA).hexdigest()
    assert chunks[2][0] == f"{PREFIX}/{DEVICE}/bundle/{digest}/2"
    link = Link()
    chunked = link.reassembly()
    assert chunked.desired(manifest.encode()) is None
    assert link.subscribed == [f"{PREFIX}/{DEVICE}/bundle/{digest}/+"]
    assert chunked.chunk(*chunks[2]) is None
    assert chunked.chunk(*chunks[0]) is None
    assert chunked.desired(manifest.encode()) is None  # a reconnect: a new session
    assert link.subscribed == [f"{PREFIX}/{DEVICE}/bundle/{digest}/+"] * 2
    assert chunked.chunk(*chunks[0]) is None  # redelivered: kept once
    assert chunked.chunk(*chunks[1]) == DATA
    assert link.unsubscribed == link.subscribed[:1]
    assert chunked.desired(manifest.encode()) is None  # seen again once put together
    assert len(link.subscribed) == 2
    assert chunked.desired(b'{"signed": {}}') == b'{"signed": {}}'  # a bundle: passed on
    assert link.refused == []


@pytest.mark.parametrize(("change", "reason"), [
    ({"chunks": MAX_CHUNKS + 1}, f"1 to {MAX_CHUNKS} chunks"),
    ({"size": MAX_BUNDLE_BYTES + 1}, "a bundle is 1 to"),
    ({"chunk_size": 1}, "does not make 10240 bytes in 3 chunks"),
    ({"sha256": "ABC"}, "manifest sha256"),
    ({"topic": f"{PREFIX}/pump-8/bundle/x"}, "this device takes them only from"),
    ({"extra": 1}, "must have exactly"),
    ({"version": "7"}, "manifest version"),
])
async def test_a_hostile_manifest_is_refused_and_nothing_subscribed(
        change: dict[str, Any], reason: str) -> None:
    link = Link()
    assert link.reassembly().desired(manifest_document(**change)) is None
    assert len(link.refused) == 1
    assert reason in link.refused[0][1]
    assert link.subscribed == []


@pytest.mark.parametrize(("chunk", "reason"), [
    (("0", b"x" * 100), "chunk 0 is 100 bytes; the manifest makes it 4096"),
    (("3", b"x" * 2048), "chunk '3' is not one of the manifest's 3 chunks"),
    (("01", b"x" * 4096), "chunk '01' is not one of"),
])
async def test_a_chunk_of_the_wrong_size_or_index_fails_the_job(
        chunk: tuple[str, bytes], reason: str) -> None:
    link = Link()
    chunked = link.reassembly()
    manifest = read_manifest(manifest_document())
    assert manifest is not None
    chunked.desired(manifest.encode())
    assert chunked.chunk(f"{manifest.topic}/{chunk[0]}", chunk[1]) is None
    assert link.refused == [(7, reason)] or reason in link.refused[0][1]
    assert link.unsubscribed == link.subscribed


async def test_chunks_whose_hash_differs_from_the_manifest_are_refused() -> None:
    manifest, chunks = split(DATA, 7, PREFIX, DEVICE, 4096)
    link = Link()
    chunked = link.reassembly()
    chunked.desired(manifest.encode())
    chunks[1] = (chunks[1][0], b"\0" * 4096)
    assert [chunked.chunk(*c) for c in chunks] == [None, None, None]
    assert "damaged or tampered" in link.refused[0][1]


async def test_chunks_that_do_not_all_arrive_in_time_fail_the_job_naming_them() -> None:
    manifest, chunks = split(DATA, 7, PREFIX, DEVICE, 4096)
    link = Link()
    chunked = link.reassembly(timeout=0.05)
    chunked.desired(manifest.encode())
    chunked.chunk(*chunks[1])
    await asyncio.wait_for(link.done.wait(), 5)
    assert link.refused == [(7, "2 of 3 chunks did not arrive within 0.05 s "
                                "(missing: 0, 2)")]
    assert link.unsubscribed == link.subscribed


def test_only_a_manifest_of_this_format_is_read_as_one() -> None:
    assert read_manifest(b'{"signed": {"format": "portless-bundle/1"}}') is None
    assert read_manifest(b"") is None
    with pytest.raises(ChunksRefused):
        read_manifest(json.dumps({"format": FORMAT}).encode())


# --- against mosquitto: publish in chunks, the device puts them together ------------------

@pytest.fixture
def signing(tmp_path: Path) -> Path:
    assert main(["fleet", "keygen", "-o", str(tmp_path / "signing")]) == 0
    return tmp_path / "signing"


async def retained_chunks(port: int) -> list[str]:
    """The chunk topics mosquitto keeps retained, with a marker to end them."""
    async with Watcher(port, f"{PREFIX}/{DEVICE}/bundle/#", client_id="reader") as reader:
        reader.publish(f"{PREFIX}/{DEVICE}/bundle/end", b"end", retain=False)
        await reader.wait_until(lambda: any(not m.retain for m in reader.received))
    return sorted(m.topic.rsplit("/", 2)[1] + "/" + m.topic.rsplit("/", 1)[1]
                  for m in reader.received if m.retain)


@pytest.mark.broker
async def test_a_large_bundle_goes_in_chunks_and_old_chunks_are_cleared(
        tmp_path: Path, mosquitto: Mosquitto, signing: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    device = SimulatedDevice(tmp_path / "devices", DEVICE, signing.with_suffix(".pub"),
                             mosquitto.port)
    config = engineer_config(tmp_path / "fleet.json", mosquitto.port)
    who = ["--config", str(config), "--device", DEVICE, "--key", str(signing)]
    files = tmp_path / "flows"
    files.mkdir()
    big = [f"node-{i:03}" for i in range(60)]  # about 6 KiB signed: 3 chunks of 2,048+
    (files / "valves.json").write_text(flow(*big))
    async with running([device]):
        assert await fleet("publish", *who, "--version", "2", "--chunk-size", "2048",
                           str(files / "valves.json")) == 0
        assert await fleet("watch", *who[:4], "--version", "2") == 0
        first = await retained_chunks(mosquitto.port)
        (files / "valves.json").write_text(flow(*big, "one-more"))
        assert await fleet("publish", *who, "--version", "3", "--chunk-size", "2048",
                           str(files / "valves.json")) == 0
        assert await fleet("watch", *who[:4], "--version", "3") == 0
        second = await retained_chunks(mosquitto.port)
        (files / "valves.json").write_text(flow("a"))
        assert await fleet("publish", *who, "--version", "4", str(files / "valves.json")) \
            == 0
        assert await fleet("watch", *who[:4], "--version", "4") == 0
        nodes = device.nodes
        third = await retained_chunks(mosquitto.port)
    assert len(first) >= 3
    assert len({topic.split("/")[0] for topic in first}) == 1  # one bundle's chunks
    assert {t.split("/")[0] for t in second}.isdisjoint({t.split("/")[0] for t in first})
    assert third == []
    assert nodes == ["a"]
    assert "deployed version 3" in capsys.readouterr().out


async def fails_with(watcher: Watcher, text: str) -> dict[str, Any]:
    """The first failed report whose reason holds ``text``, waited for."""
    def found() -> list[dict[str, Any]]:
        reports = (json.loads(m.payload) for m in watcher.on(f"{PREFIX}/{DEVICE}/reported"))
        return [r for r in reports if r["state"] == "failed" and text in r["reason"]]
    await watcher.wait_until(lambda: bool(found()))
    return found()[0]


@pytest.mark.broker
async def test_a_hostile_or_incomplete_manifest_is_reported_failed_with_the_reason(
        tmp_path: Path, mosquitto: Mosquitto, signing: Path) -> None:
    device = SimulatedDevice(tmp_path / "devices", DEVICE, signing.with_suffix(".pub"),
                             mosquitto.port)
    device.agent.chunk_timeout = 0.3
    desired = f"{PREFIX}/{DEVICE}/desired"
    async with running([device]):
        async with Watcher(mosquitto.port, f"{PREFIX}/{DEVICE}/reported") as watcher:
            watcher.publish(desired, manifest_document(chunks=10**6), retain=True)
            huge = await fails_with(watcher, f"1 to {MAX_CHUNKS} chunks")
            manifest, chunks = split(DATA, 7, PREFIX, DEVICE, 4096)
            watcher.publish(chunks[0][0], chunks[0][1], retain=True)
            watcher.publish(desired, manifest.encode(), retain=True)
            missing = await fails_with(watcher, "2 of 3 chunks did not arrive within 0.3 s "
                                                "(missing: 1, 2)")
        nodes = device.nodes
    assert huge["version"] is None
    assert missing["version"] == 7
    assert nodes == ["a"]
