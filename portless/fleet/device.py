"""The device side: the retained bundle on ``<prefix>/<device>/desired`` is verified,
checked against the version that runs, validated, staged and deployed, and each step
reported (retained) on ``<prefix>/<device>/reported``.

The management link is an MQTT connection of its own (client id
``portless-fleet-<device>``), not a flow's broker node: a flow deploy never restarts it,
so a bad bundle cannot cut the device off from the next, good one.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from pathlib import Path
from typing import Any

import gmqtt
from gmqtt.mqtt.constants import MQTTv50

from portless.runtime import DeployService, FlowInvalid, safe_json
from portless.runtime.atomic import atomic_write
from portless.runtime.tabs import check_tabs

from . import chunks
from .bundle import Bundle, BundleRefused, verify
from .chunks import Reassembly
from .device_config import DeviceConfig, load_device_config
from .keys import TrustedKey, load_trusted
from .remote_device import RemoteResponder

log = logging.getLogger("portless.fleet")
RUNNING_FILE = "running.json"
STAGED_FILE = "staged.json"


def device_agent(config_file: Path, deploys: DeployService) -> DeviceAgent:
    """The agent ``portless run --fleet DEVICE.json`` starts; raises ValueError (a bad
    configuration or key file) or OSError (one that cannot be read)."""
    return DeviceAgent(load_device_config(config_file), deploys)


class DeviceAgent:
    """Applies desired bundles to the flows a DeployService runs, one at a time."""

    def __init__(self, config: DeviceConfig, deploys: DeployService,
                 state_dir: Path | None = None) -> None:
        """``state_dir``: where ``fleet/`` is kept (default: the engine's state directory,
        once the deploy service has claimed it). Raises KeyFileError for bad trusted keys."""
        self.config = config
        self.deploys = deploys
        self._state_dir = state_dir
        self.trusted: dict[str, TrustedKey] = load_trusted(list(config.trusted_keys))
        self._client: gmqtt.Client | None = None
        self._pending: bytes | None = None
        self._arrived = asyncio.Event()
        self._applying = asyncio.Lock()
        self.remote = RemoteResponder(self) if config.remote_editor else None
        """Answers the remote editor on the management link (remote_device.py)."""
        self.chunk_timeout = chunks.TIMEOUT
        self._chunks: Reassembly

    @property
    def client(self) -> gmqtt.Client | None:
        """The management link while it is up."""
        return self._client

    @property
    def directory(self) -> Path:
        """The agent's own files: the bundle that runs (running.json) and the last staged."""
        return Path(self._state_dir or self.deploys.engine.state_dir) / "fleet"

    def running(self) -> dict[str, Any] | None:
        """What the device runs from the fleet: version, commit and file hashes."""
        try:
            record: dict[str, Any] = json.loads((self.directory / RUNNING_FILE).read_bytes())
        except FileNotFoundError:
            return None
        return record

    async def apply(self, data: bytes) -> dict[str, Any]:
        """Take a desired bundle through every step; the last report, also published."""
        self._report("received")
        try:
            bundle, key = verify(data, self.trusted)
        except BundleRefused as exc:
            return self._report("failed", reason=str(exc))
        self._report("verified", bundle.version, signer=key.key_id)
        running = self.running()
        hashes = {file.name: file.sha256 for file in bundle.files}
        if running is not None and running["version"] == bundle.version \
                and running["files"] == hashes:
            return self._report("deployed", bundle.version)  # a redelivered retained one
        if running is not None and bundle.version <= running["version"] \
                and not bundle.rollback:
            return self._report("failed", bundle.version, reason=(
                f"version {bundle.version} is not newer than version {running['version']}, "
                f"which runs (a replay or a downgrade; sign it with --rollback to go back)"))
        try:
            await self._deploy(data, bundle)
        except (BundleRefused, FlowInvalid) as exc:
            return self._report("failed", bundle.version, reason=str(exc))
        self.directory.mkdir(parents=True, exist_ok=True)
        record = {"version": bundle.version, "commit": bundle.commit, "files": hashes}
        atomic_write(self.directory / RUNNING_FILE, json.dumps(record).encode())
        return self._report("deployed", bundle.version)

    async def apply_one(self, data: bytes) -> dict[str, Any]:
        """``apply``, one bundle at a time whoever sends it (the desired topic, the
        remote editor)."""
        async with self._applying:
            return await self.apply(data)

    async def _deploy(self, data: bytes, bundle: Bundle) -> None:
        tabs = {tab.name: tab for tab in self.deploys.tabs}
        if set(tabs) != {file.name for file in bundle.files}:
            raise BundleRefused(
                f"the bundle holds {', '.join(sorted(f.name for f in bundle.files))} but "
                f"this device runs {', '.join(sorted(tabs))}; adding or removing flow "
                f"files from the fleet is not supported yet")
        documents: dict[Path, dict[str, Any]] = {}
        for file in bundle.files:
            try:
                documents[tabs[file.name]] = safe_json.loads(file.content)
            except (ValueError, safe_json.JsonProblems) as exc:
                raise BundleRefused(f"{file.name}: not a valid flow file: {exc}") from None
        self.directory.mkdir(parents=True, exist_ok=True)
        atomic_write(self.directory / STAGED_FILE, data)
        await asyncio.to_thread(check_tabs, documents, self.deploys.registry, True)
        for tab, document in documents.items():
            outcome = await self.deploys.deploy(tab, document)
            if outcome.rollback is not None:
                raise BundleRefused(outcome.sentence())

    def _report(self, state: str, version: int | None = None, **details: str
                ) -> dict[str, Any]:
        report = {"state": state, "version": version, **details, "running": self.running(),
                  "at": round(time.time(), 3)}
        log.log(logging.ERROR if state == "failed" else logging.INFO, "fleet: %s %s",
                state, details.get("reason", version if version is not None else ""))
        if self._client is not None:
            self._client.publish(self.config.reported_topic, json.dumps(report).encode(),
                                 qos=1, retain=True)
        return report

    async def run(self, stop: asyncio.Event) -> None:
        """Connect, follow the desired topic and apply what arrives until ``stop``;
        only the latest of bundles that arrive during a deploy is applied."""
        client = gmqtt.Client(f"portless-fleet-{self.config.device_id}")
        client.set_config({"reconnect_retries": -1, "reconnect_delay": 2})
        if self.config.username:
            client.set_auth_credentials(self.config.username, self.config.password)
        client.on_connect = self._on_connect
        client.on_message = self._on_message
        self._chunks = Reassembly(
            self.config.topic_prefix, self.config.device_id,
            lambda topic: client.subscribe(topic, qos=1), client.unsubscribe,
            lambda version, reason: self._report("failed", version, reason=reason),
            self.chunk_timeout)
        waiting = asyncio.ensure_future(stop.wait())
        if not await self._first_connect(client, waiting):
            return
        self._client = client
        try:
            while not stop.is_set():
                arrived = asyncio.ensure_future(self._arrived.wait())
                await asyncio.wait({waiting, arrived}, return_when=asyncio.FIRST_COMPLETED)
                arrived.cancel()
                if self._pending is not None:
                    data, self._pending = self._pending, None
                    self._arrived.clear()
                    await self.apply_one(data)
        finally:
            waiting.cancel()
            self._client = None
            if self.remote is not None:
                self.remote.close()
            await client.disconnect()

    async def _first_connect(self, client: gmqtt.Client, stop: asyncio.Future[Any]) -> bool:
        """Connect, retrying with backoff while the broker cannot be reached (gmqtt
        reconnects by itself only once connected); False if stopped first."""
        delay = 1.0
        while not stop.done():
            try:
                await client.connect(self.config.host, self.config.port,
                                     ssl=self.config.ssl_context() or False,
                                     version=MQTTv50, keepalive=30)
                return True
            except OSError as exc:
                log.warning("fleet: cannot reach %s port %d (%s); trying again in %g s",
                            self.config.host, self.config.port, exc, delay)
            await asyncio.wait({stop}, timeout=delay)
            delay = min(delay * 2, 60.0)
        return False

    def _on_connect(self, client: gmqtt.Client, *args: Any) -> None:
        client.subscribe(self.config.desired_topic, qos=1)
        if self.remote is not None:
            client.subscribe(self.remote.topics.request, qos=1)

    def _on_message(self, client: gmqtt.Client, topic: str, payload: bytes, qos: int,
                    properties: dict[str, Any]) -> int:
        if self.remote is not None and topic == self.remote.topics.request:
            self.remote.on_request(client, payload, properties)
            return 0
        # a bundle, whole or from its last chunk (docs/fleet.md#chunked-bundles); an empty
        # retained message clears the desired state: nothing to do
        bundle = self._chunks.desired(payload) if topic == self.config.desired_topic \
            else self._chunks.chunk(topic, payload)
        if bundle is not None:
            self._pending = bundle
            self._arrived.set()
        return 0
