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

from portless.runtime import DeployService, FlowInvalid, canonical_text, safe_json
from portless.runtime.atomic import atomic_write
from portless.runtime.file_watch import Stamp, file_stamp
from portless.runtime.tabs import check_tabs

from . import chunks
from .bundle import Bundle, BundleRefused, verify
from .chunks import Reassembly
from .device_config import DeviceConfig, load_device_config
from .device_state import (
    DEPLOYING,
    KNOWN_GOOD,
    ROLLED_BACK,
    RUNNING,
    STAGED,
    FleetState,
    file_hashes,
)
from .health import watch_health
from .keys import KeyFileError, TrustedKey, load_trusted
from .remote_device import RemoteResponder

log = logging.getLogger("portless.fleet")


def device_agent(config_file: Path, deploys: DeployService) -> DeviceAgent:
    """The agent ``portless run --fleet DEVICE.json`` starts; raises ValueError (a bad
    configuration or key file) or OSError (one that cannot be read)."""
    return DeviceAgent(load_device_config(config_file), deploys)


class DeviceAgent:
    """Applies desired bundles to the flows a DeployService runs, one at a time: each
    is deployed, watched by the health gate, and kept or rolled back."""

    def __init__(self, config: DeviceConfig, deploys: DeployService,
                 state_dir: Path | None = None) -> None:
        """``state_dir``: where ``fleet/`` is kept (default: the engine's state directory,
        once the deploy service has claimed it). Raises KeyFileError for bad trusted keys."""
        self.config = config
        self.deploys = deploys
        self._state_dir = state_dir
        self._trusted_stamps = self._key_stamps()
        self._trusted: dict[str, TrustedKey] = load_trusted(list(config.trusted_keys))
        self._client: gmqtt.Client | None = None
        self._pending: bytes | None = None
        self._arrived = asyncio.Event()
        self.applying = asyncio.Lock()
        """Held while a bundle is applied (and by the remote editor while it checks the
        page's ETags before its bundle): one at a time, whoever sends it."""
        self.last_report: dict[str, Any] | None = None
        """The latest report, published again when the link first connects."""
        self._following = 0
        """The packet id of the subscription to the topics the link follows."""
        self.remote = RemoteResponder(self) if config.remote_editor else None
        """Answers the remote editor on the management link (remote_device.py)."""
        self.chunk_timeout = chunks.TIMEOUT
        self._chunks: Reassembly

    @property
    def client(self) -> gmqtt.Client | None:
        """The management link while it is up."""
        return self._client

    @property
    def trusted(self) -> dict[str, TrustedKey]:
        """The keys the trusted-keys files hold now: read again when one of them changed,
        so a revoked key is refused from then on; none (everything refused) while one
        cannot be read."""
        stamps = self._key_stamps()
        if stamps != self._trusted_stamps:
            self._trusted_stamps = stamps
            try:
                self._trusted = load_trusted(list(self.config.trusted_keys))
            except (KeyFileError, OSError) as exc:
                log.error("fleet: the trusted keys cannot be read, so every bundle and "
                          "request is refused until they can: %s", exc)
                self._trusted = {}
        return self._trusted

    def _key_stamps(self) -> tuple[Stamp | None, ...]:
        return tuple(file_stamp(path) for path in self.config.trusted_keys)

    @property
    def directory(self) -> Path:
        """The agent's own files (device_state.py)."""
        return Path(self._state_dir or self.deploys.engine.state_dir) / "fleet"

    @property
    def state(self) -> FleetState:
        return FleetState(self.directory)

    def running(self) -> dict[str, Any] | None:
        """What the device runs from the fleet: version, commit and file hashes."""
        return self.state.read(RUNNING)

    def recover(self, state_dir: Path) -> None:
        """Before the flow files are read: when the last deploy was cut short (the
        process killed, the power cut) put the last known-good files back, each
        atomically, and report why; its record is removed last, so a start cut short
        in turn does it again. Raises OSError when a file cannot be written."""
        self._state_dir = state_dir
        state = self.state
        marker, good = state.read(DEPLOYING), state.read(KNOWN_GOOD)
        if marker is None or good is None:  # known-good is written before the marker
            return
        if good["version"] == marker["version"] \
                and file_hashes(good["files"]) == marker["files"]:
            state.remove(DEPLOYING)  # it had passed; only the marker's removal was lost
            return
        tabs = {tab.name: tab for tab in self.deploys.tabs}
        for name, text in good["files"].items():
            if name in tabs and _read_text(tabs[name]) != text:
                atomic_write(tabs[name], text.encode("utf-8"))
        running = state.read(RUNNING)  # written when the files were all deployed
        step = "health gate" if running is not None \
            and running["version"] == marker["version"] else "deploying"
        reason = (f"version {marker['version']} was being deployed ({step}) "
                  f"when the device stopped (killed, a power cut, or a stop before its "
                  f"health gate passed); started on "
                  f"{_good_name(good)}")
        self._rolled_back(marker["version"], marker["files"], reason, good)
        self._report("rolled back", marker["version"], reason=reason)

    async def apply(self, data: bytes) -> dict[str, Any]:
        """Take a desired bundle through every step; the last report, also published."""
        self._report("received")
        try:
            bundle, key = verify(data, self.trusted)
        except BundleRefused as exc:
            return self._report("failed", reason=str(exc))
        self._report("verified", bundle.version, signer=key.key_id)
        seen = self._seen_before(bundle)
        if seen is not None:
            return seen
        try:
            documents = await self._checked(bundle)
        except (BundleRefused, FlowInvalid) as exc:
            return self._report("failed", bundle.version, reason=str(exc))
        reason = await self._deploy(data, bundle, documents)
        if reason is None:
            self._report("deployed", bundle.version)
            reason = await watch_health(self.deploys.engine, self.config.health)
        if reason is None:
            self.state.write(KNOWN_GOOD, {"version": bundle.version, "commit": bundle.commit,
                                          "files": {f.name: f.content for f in bundle.files}})
            self.state.remove(DEPLOYING)
            return self._report("healthy", bundle.version)
        return await self._roll_back(bundle, reason)

    def _seen_before(self, bundle: Bundle) -> dict[str, Any] | None:
        """The report for a bundle that is not deployed: the one that runs or the last
        one rolled back (a retained bundle seen again after a reconnect or a restart),
        or one whose version is not newer; None for one to deploy."""
        hashes = {file.name: file.sha256 for file in bundle.files}
        running, rolled = self.running(), self.state.read(ROLLED_BACK)
        if running is not None and running["version"] == bundle.version \
                and running["files"] == hashes:
            return self._report("healthy", bundle.version)
        if rolled is not None and rolled["version"] == bundle.version \
                and rolled["files"] == hashes:
            return self._report("rolled back", bundle.version, reason=rolled["reason"])
        if running is not None and bundle.version <= running["version"] \
                and not bundle.rollback:
            return self._report("failed", bundle.version, reason=(
                f"version {bundle.version} is not newer than version {running['version']}, "
                f"which runs (a replay or a downgrade; sign it with --rollback to go back)"))
        return None

    async def apply_one(self, data: bytes) -> dict[str, Any]:
        """``apply`` of a bundle from the desired topic, one at a time (the remote editor
        holds ``applying`` itself, around its ETag check and its ``apply``)."""
        async with self.applying:
            return await self.apply(data)

    async def _checked(self, bundle: Bundle) -> dict[Path, dict[str, Any]]:
        """The bundle's flow documents by the tab each replaces, checked together."""
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
        await asyncio.to_thread(check_tabs, documents, self.deploys.registry, True)
        return documents

    async def _deploy(self, data: bytes, bundle: Bundle,
                      documents: dict[Path, dict[str, Any]]) -> str | None:
        """Stage the bundle and deploy its files one by one; None when all deployed,
        else why not."""
        state = self.state
        if state.read(KNOWN_GOOD) is None:  # the way back, before anything changes
            state.write(KNOWN_GOOD, {"version": None, "commit": None, "files": {
                tab.name: canonical_text(self.deploys.flows[tab].document)
                for tab in self.deploys.tabs}})
        state.write_bytes(STAGED, data)
        marker = {"version": bundle.version, "commit": bundle.commit,
                  "files": {file.name: file.sha256 for file in bundle.files}}
        state.write(DEPLOYING, marker)
        for number, (tab, document) in enumerate(documents.items(), 1):
            try:
                outcome = await self.deploys.deploy(tab, document)
            except FlowInvalid as exc:
                return str(exc)
            if outcome.rollback is not None:  # the deploy service put this file back
                return "; ".join(f"{tab.name}: node {node_id} failed to start: {reason}"
                                 for node_id, reason in outcome.caused.items())
            log.info("fleet: version %d: %s deployed (%d of %d files)", bundle.version,
                     tab.name, number, len(documents))
        state.write(RUNNING, marker)  # with the marker there: in its health gate
        return None

    async def _roll_back(self, bundle: Bundle, reason: str) -> dict[str, Any]:
        """Deploy the last known-good files again (the last file first, so each step
        is one the deploy went through) and report why."""
        good = self.state.read(KNOWN_GOOD)
        assert good is not None  # written before the deploy began
        log.error("fleet: version %d failed: %s; rolling back to %s", bundle.version,
                  reason, _good_name(good))
        tabs = {tab.name: tab for tab in self.deploys.tabs}
        for name in reversed([file.name for file in bundle.files]):
            try:
                await self.deploys.deploy(tabs[name], safe_json.loads(good["files"][name]),
                                          rollback=False)
            except FlowInvalid as exc:  # the marker stays: the next start puts it back
                return self._report("failed", bundle.version, reason=(
                    f"{reason}; rolling back to {_good_name(good)} failed too: {exc} (the "
                    f"device puts the known-good files back when it next starts)"))
        self._rolled_back(bundle.version, {f.name: f.sha256 for f in bundle.files},
                          reason, good)
        return self._report("rolled back", bundle.version, reason=reason)

    def _rolled_back(self, version: int, hashes: dict[str, str], reason: str,
                     good: dict[str, Any]) -> None:
        """Record what runs now (the known-good files) and what was rolled back."""
        state = self.state
        state.write(ROLLED_BACK, {"version": version, "files": hashes, "reason": reason})
        state.write(RUNNING, None if good["version"] is None else {
            "version": good["version"], "commit": good["commit"],
            "files": file_hashes(good["files"])})
        state.remove(DEPLOYING)

    def _report(self, state: str, version: int | None = None, **details: str
                ) -> dict[str, Any]:
        report = {"state": state, "version": version, **details, "running": self.running(),
                  "at": round(time.time(), 3)}
        log.log(logging.ERROR if state in ("failed", "rolled back") else logging.INFO,
                "fleet: %s %s", state,
                details.get("reason", version if version is not None else ""))
        self.last_report = report
        if self._client is not None:
            self._publish(report)
        return report

    def _publish(self, report: dict[str, Any]) -> None:
        assert self._client is not None
        self._client.publish(self.config.reported_topic, json.dumps(report).encode(),
                             qos=1, retain=True)

    async def run(self, stop: asyncio.Event) -> None:
        """Connect, follow the desired topic and apply what arrives until ``stop``;
        only the latest of bundles that arrive during a deploy is applied."""
        client = gmqtt.Client(f"portless-fleet-{self.config.device_id}")
        client.set_config({"reconnect_retries": -1, "reconnect_delay": 2})
        if self.config.username:
            client.set_auth_credentials(self.config.username, self.config.password)
        client.on_connect = self._on_connect
        client.on_subscribe = self._on_subscribe
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
        if self.last_report is not None:  # made before the link was up (a recovery)
            self._publish(self.last_report)
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

    def _topics(self) -> list[str]:
        """What the management link subscribes to: the desired state, and the remote
        editor's requests when it is on."""
        remote = [self.remote.topics.request] if self.remote is not None else []
        return [self.config.desired_topic, *remote]

    def _on_connect(self, client: gmqtt.Client, *args: Any) -> None:
        self._following = client.subscribe([gmqtt.Subscription(topic, qos=1)
                                            for topic in self._topics()])

    def _on_subscribe(self, client: gmqtt.Client, mid: int, *args: Any) -> None:
        if mid == self._following:  # not a bundle's chunks
            log.info("fleet: connected to %s port %d, following %s", self.config.host,
                     self.config.port, " and ".join(self._topics()))

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


def _good_name(good: dict[str, Any]) -> str:
    return ("the flow files from before the first bundle" if good["version"] is None
            else f"the last known-good version {good['version']}")


def _read_text(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except (FileNotFoundError, UnicodeDecodeError):
        return None
