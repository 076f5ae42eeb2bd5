"""The device side of the remote editor: answers signed requests that arrive on the
management link (fleet/remote_protocol.py), with no socket of its own.

An API call is answered by the very editor app the local editor serves (created on the
first request, called in process through ASGI, never bound to a port); a deploy is a
signed bundle, checked against the page's ETags as the local editor's If-Match is, then
applied as any fleet bundle (DeviceAgent.apply: verification, version and reports are
the same); the live stream of node status and debug output is the local editor's
rate-limited page (editor/stream.py), published only while an engineer's lease lasts.

Bounded: MAX_IN_FLIGHT requests at a time (more are answered 503), MAX_SESSIONS live
streams, a lease of at most MAX_LEASE_SECONDS, the request ids remembered for the
replay window at most MAX_REMEMBERED, the recent warnings and errors RECENT_NOTICES.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import secrets
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import gmqtt

from portless.runtime import DeployOutcome, Event, FlowError, FlowInvalid, safe_json
from portless.runtime.tabs import check_tabs

from .asgi_call import call_asgi
from .bundle import Bundle, BundleRefused, verify
from .remote_protocol import (
    MAX_CORRELATION_BYTES,
    MAX_SKEW_SECONDS,
    SESSION,
    RequestRefused,
    Topics,
    answer,
    number,
    verify_request,
)

if TYPE_CHECKING:
    from portless.editor.stream import Hub, Page
    from portless.editor.tabs import EditorTabs

    from .device import DeviceAgent

log = logging.getLogger("portless.fleet")
MAX_IN_FLIGHT = 8
MAX_SESSIONS = 4
MAX_LEASE_SECONDS = 60.0
MAX_REMEMBERED = 4096
RECENT_NOTICES = 100
MAX_FRAME_BYTES = 256 * 1024
"""A live frame larger than this (a hundred huge debug messages) is sent as its node
statuses and a count of what was left out."""
SUCCEEDED = {"deployed", "healthy"}
_POSTS = re.compile(r"/api/(validate|outputs|import/node-red|tabs/[^/]+/validate|"
                    r"nodes/[^/]+/inject)")
"""The POSTs offered remotely: they check, count or convert, and inject triggers a node;
none writes a file (a deploy is a signed bundle, made by the engineer side)."""


@dataclass
class RemoteApi:
    """The editor app for remote calls, with no socket: made on the first request."""

    app: Any
    token: str
    hub: Hub
    tabs: EditorTabs


@dataclass
class LiveSession:
    page: Page
    expires: float
    task: asyncio.Task[None] | None = None
    topic: str = ""
    sent: int = field(default=0)


class RemoteResponder:
    """Answers the remote editor on a device agent's management link."""

    def __init__(self, agent: DeviceAgent) -> None:
        self.agent = agent
        self.topics = Topics(agent.config.topic_prefix, agent.config.device_id)
        self.recent: deque[dict[str, Any]] = deque(maxlen=RECENT_NOTICES)
        self.sessions: dict[str, LiveSession] = {}
        self._api: RemoteApi | None = None
        self._seen: dict[str, float] = {}
        self._working = 0
        self._tasks: set[asyncio.Task[None]] = set()
        self._watcher: asyncio.Task[None] | None = None
        self._unsubscribe = agent.deploys.engine.events.subscribe(self._note)

    def _note(self, event: Event) -> None:
        if event.kind in ("warning", "error"):
            self.recent.append({"kind": event.kind, "node": event.node_id,
                                "at": round(time.time(), 3), **event.data})

    # --- requests ------------------------------------------------------------------
    def on_request(self, client: gmqtt.Client, payload: bytes,
                   properties: dict[str, Any]) -> None:
        """Take one request off the link (gmqtt's callback: it must not block)."""
        topic, correlation = _first(properties, "response_topic"), \
            _first(properties, "correlation_data")
        session = self._session_of(topic)
        if session is None or not isinstance(correlation, bytes) or not correlation \
                or len(correlation) > MAX_CORRELATION_BYTES:
            log.warning("fleet: a remote request without a response topic of this device "
                        "(%s/<session>) or without correlation data (at most %d bytes); "
                        "ignored", self.topics.response("")[:-1], MAX_CORRELATION_BYTES)
            return
        assert isinstance(topic, str)
        if self._working >= MAX_IN_FLIGHT:
            _publish(client, topic, correlation, answer(503, {
                "error": f"the device is answering {MAX_IN_FLIGHT} requests already; "
                         f"try again"}))
            return
        self._working += 1
        task = asyncio.ensure_future(self._answer(client, payload, topic, session,
                                                  correlation))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _session_of(self, topic: Any) -> str | None:
        prefix = self.topics.response("")
        if not isinstance(topic, str) or not topic.startswith(prefix):
            return None
        session = topic[len(prefix):]
        return session if SESSION.fullmatch(session) else None

    async def _answer(self, client: gmqtt.Client, payload: bytes, topic: str,
                      session: str, correlation: bytes) -> None:
        try:
            now = time.time()
            request, _ = verify_request(payload, self.agent.trusted,
                                        self.agent.config.device_id, session, correlation,
                                        now)
            self._refuse_replay(request["id"], now)
            reply = await self._handle(request, session)
        except RequestRefused as exc:
            log.warning("fleet: remote request refused: %s", exc)
            reply = answer(exc.status, {"error": str(exc)})
        except Exception:
            log.exception("fleet: a remote request failed")
            reply = answer(500, {"error": "the device failed on this request; its log has "
                                          "the details"})
        finally:
            self._working -= 1
        _publish(client, topic, correlation, reply)

    def _refuse_replay(self, request_id: str, now: float) -> None:
        """A request is answered once: its id is remembered while its time is fresh."""
        for old, at in list(self._seen.items()):
            if now - at > 2 * MAX_SKEW_SECONDS:
                del self._seen[old]
        if request_id in self._seen:
            raise RequestRefused(401, "a copy of a request already answered (a replay)")
        if len(self._seen) >= MAX_REMEMBERED:
            raise RequestRefused(503, "too many requests in the last minutes; try again")
        self._seen[request_id] = now

    async def _handle(self, request: dict[str, Any], session: str) -> bytes:
        kind = request["kind"]
        if kind == "hello":
            engine = self.agent.deploys.engine
            return answer(200, {"device": self.agent.config.device_id,
                                "running": self.agent.running(),
                                "tabs": [tab.name for tab in self.agent.deploys.tabs],
                                "statuses": engine.statuses(), "recent": list(self.recent)})
        if kind == "http":
            return await self._http(request)
        if kind == "deploy":  # the ETags checked and the bundle applied under one lock
            async with self.agent.applying:
                return await self._deploy(request)
        return self._live(request, session)

    # --- API calls -----------------------------------------------------------------
    def api(self) -> RemoteApi:
        """The editor app, made once (the web stack is loaded on the first request)."""
        if self._api is None:
            from portless.editor.app import create_app
            from portless.editor.flows import FlowService
            from portless.editor.stream import Hub
            from portless.editor.tabs import EditorTabs

            deploys = self.agent.deploys
            service = FlowService(deploys.tabs[0], deploys.engine, deploys.registry, None,
                                  deploys)
            hub = Hub(deploys.engine.events)
            hub.last_status.update(deploys.engine.statuses())
            tabs = EditorTabs(deploys, None, service)
            token = secrets.token_urlsafe(24)
            self._api = RemoteApi(create_app(service, hub, port=0, token=token, tabs=tabs),
                                  token, hub, tabs)
        return self._api

    async def _http(self, request: dict[str, Any]) -> bytes:
        method, path = request.get("method"), request.get("path")
        body, if_match = request.get("body"), request.get("if_match")
        if not isinstance(method, str) or not isinstance(path, str) \
                or not isinstance(body, str | None) or not isinstance(if_match, str | None):
            raise RequestRefused(400, "an http request has a method, a path, and a body "
                                      "and if_match that are strings or null")
        allowed = (method == "GET" and path.startswith("/api/") and path != "/api/ws") \
            or (method == "POST" and _POSTS.fullmatch(path.partition("?")[0]))
        if not allowed or ".." in path:
            raise RequestRefused(403, f"{method} {path} is not offered by the remote editor: "
                                      f"a deploy is a signed bundle (the page's Deploy "
                                      f"makes one); tabs and subflow files are added and "
                                      f"changed in the repository and published with "
                                      f"portless fleet")
        api = self.api()
        headers = {"host": "127.0.0.1:0", "authorization": f"Bearer {api.token}",
                   "content-type": "application/json"}
        if if_match is not None:
            headers["if-match"] = if_match
        got = await call_asgi(api.app, method, path, headers,
                              (body or "").encode("utf-8"))
        try:
            value = json.loads(got.body) if got.body else None
        except ValueError:
            value = {"error": got.body.decode("utf-8", "replace")}
        return answer(got.status, value, got.headers.get("etag"))

    # --- deploys -------------------------------------------------------------------
    async def _deploy(self, request: dict[str, Any]) -> bytes:
        """Check the page's ETags, the bundle and its flows, then apply it as a fleet
        bundle; answered as the local editor's PUT is (200, 400, 409, 412)."""
        tab_name, if_match, data = request.get("tab"), request.get("if_match"), \
            request.get("bundle")
        if not isinstance(tab_name, str) or not isinstance(if_match, dict) \
                or not isinstance(data, str):
            raise RequestRefused(400, "a deploy names its tab (a file name), the ETag of "
                                      "each file it was made from, and the signed bundle")
        deploys = self.agent.deploys
        tabs = {tab.name: tab for tab in deploys.tabs}
        if tab_name not in tabs:
            raise RequestRefused(404, f"no tab {tab_name!r} runs on this device")
        api = self.api()
        for name, tab in tabs.items():
            service = api.tabs.service(tab)
            etag = await asyncio.to_thread(service.etag)
            if str(if_match.get(name, "")).strip('"') != etag:
                now = await asyncio.to_thread(api.tabs.service(tabs[tab_name]).etag)
                return answer(412, {"error": f"the flow file {name} changed on the device "
                                             f"since this page read it",
                                    "etag": f'"{now}"'})
        bundle_bytes = data.encode("utf-8")
        try:
            bundle, _ = verify(bundle_bytes, self.agent.trusted)
            await asyncio.to_thread(self._check_flows, bundle, tabs)
        except BundleRefused as exc:
            return answer(409, {"error": f"the bundle is refused: {exc}"})
        except FlowInvalid as exc:
            from portless.editor.answers import errors_body
            return answer(400, errors_body(exc))
        outcomes: list[DeployOutcome] = []
        deploys.observers.append(outcomes.append)
        try:
            report = await self.agent.apply(bundle_bytes)
        finally:
            deploys.observers.remove(outcomes.append)
        return await self._deploy_answer(report, outcomes, tabs[tab_name])

    def _check_flows(self, bundle: Bundle, tabs: dict[str, Path]) -> None:
        """Refuse (FlowInvalid) a bundle whose flows do not check, or that carries a
        masked secret: the page never sees a secret's value, so its bundle cannot hold
        it, and a mask would be deployed in its place."""
        from portless.editor.masking import SECRET_MASK, secret_fields

        documents: dict[Path, dict[str, Any]] = {}
        masked: list[FlowError] = []
        registry = self.agent.deploys.registry
        for file in bundle.files:
            if file.name not in tabs:
                raise BundleRefused(f"the bundle holds {file.name}, which this device does "
                                    f"not run")
            try:
                document = safe_json.loads(file.content)
            except (ValueError, safe_json.JsonProblems) as exc:
                raise BundleRefused(f"{file.name}: not a valid flow file: {exc}") from None
            documents[tabs[file.name]] = document
            for entry in document.get("nodes", []) if isinstance(document, dict) else []:
                cls = registry.get(entry.get("type", "")) if isinstance(entry, dict) \
                    else None
                config = entry.get("config") if cls is not None else None
                if cls is None or not isinstance(config, dict):
                    continue
                masked += [FlowError(str(tabs[file.name]), "a secret the remote editor "
                                     "never sees; set it with ${NAME} or on the device",
                                     node_id=entry.get("id"), pointer=f"/config{pointer}")
                           for holder, key, pointer in secret_fields(cls.schema, config)
                           if holder[key] == SECRET_MASK]
        if masked:
            raise FlowInvalid(masked)
        check_tabs(documents, registry, True, others=self.agent.deploys.flows)

    async def _deploy_answer(self, report: dict[str, Any], outcomes: list[DeployOutcome],
                             tab: Path) -> bytes:
        from portless.editor.answers import deploy_answer
        from portless.editor.flows import Deployed

        etag = await asyncio.to_thread(self.api().tabs.service(tab).etag)
        fleet = {"state": report["state"], "version": report.get("version")}
        chosen = next((o for o in outcomes if o.rollback is not None),
                      next((o for o in outcomes if o.tab == tab), None))
        if chosen is not None:
            body, status = deploy_answer(Deployed(etag, chosen))
            if report["state"] not in SUCCEEDED and status == 200:
                body, status = {**body, "error": report.get("reason", "")}, 409
            return answer(status, {**body, "fleet": fleet}, f'"{etag}"')
        if report["state"] in SUCCEEDED:  # the same bundle as runs: nothing to deploy
            return answer(200, {"etag": f'"{etag}"', "started": [], "stopped": [],
                                "unchanged": [], "failed": [], "fleet": fleet}, f'"{etag}"')
        return answer(409, {"error": report.get("reason", report["state"]), "fleet": fleet})

    # --- the live stream -----------------------------------------------------------
    def _live(self, request: dict[str, Any], session: str) -> bytes:
        lease = number(request.get("lease"))
        if lease is None or not 0 <= lease <= MAX_LEASE_SECONDS:
            raise RequestRefused(400, f"live/lease: seconds from 0 (stop) to "
                                      f"{MAX_LEASE_SECONDS:g}")
        live = self.sessions.get(session)
        if lease == 0:
            if live is not None and live.task is not None:
                live.task.cancel()
            return answer(200, {"lease": 0})
        if live is None:
            if len(self.sessions) >= MAX_SESSIONS:
                raise RequestRefused(503, f"{MAX_SESSIONS} engineers watch this device "
                                          f"already; try again when one has left")
            live = self._open(session)
        live.expires = time.monotonic() + lease
        log.debug("fleet: live stream to session %s: lease of %g s", session, lease)
        return answer(200, {"lease": lease, "topic": live.topic})

    def _open(self, session: str) -> LiveSession:
        api = self.api()
        page = api.hub.open()
        page.items.extend(self.recent)  # the debug sidebar starts with what went wrong
        live = LiveSession(page, time.monotonic(), topic=self.topics.live(session))
        self.sessions[session] = live
        live.task = asyncio.ensure_future(self._stream(session, live))
        if self._watcher is None:
            from portless.editor.watch import watch_tabs
            self._watcher = asyncio.ensure_future(watch_tabs(api.tabs, api.hub))
        log.info("fleet: live stream to session %s started", session)
        return live

    async def _stream(self, session: str, live: LiveSession) -> None:
        """Publish the page's frames until its lease lapses (or a stop, or the link's end)."""
        from portless.editor.stream import FRAMES_PER_SECOND

        api = self.api()
        try:
            while (remaining := live.expires - time.monotonic()) > 0:
                try:
                    await asyncio.wait_for(live.page.ready.wait(), remaining)
                except TimeoutError:
                    continue  # the lease may have been renewed meanwhile
                client = self.agent.client
                if client is not None:
                    client.publish(live.topic, _bounded(live.page.take()), qos=0)
                    live.sent += 1
                await asyncio.sleep(1 / FRAMES_PER_SECOND)  # the local editor's pacing
        finally:
            api.hub.close(live.page)
            del self.sessions[session]
            if not self.sessions and self._watcher is not None:
                self._watcher.cancel()
                self._watcher = None
            log.info("fleet: live stream to session %s stopped (%d frames)", session,
                     live.sent)

    def close(self) -> None:
        """Stop every stream and request (the management link is going away)."""
        for task in [*self._tasks, *(s.task for s in self.sessions.values() if s.task)]:
            task.cancel()
        self._unsubscribe()


def _bounded(frame: list[dict[str, Any]]) -> bytes:
    data = json.dumps(frame, default=str).encode("utf-8")
    if len(data) <= MAX_FRAME_BYTES:
        return data
    kept = [item for item in frame if item.get("kind") == "status"]
    kept.append({"kind": "warning", "node": "", "text": f"{len(frame) - len(kept)} events "
                 f"left out: this frame was larger than {MAX_FRAME_BYTES} bytes"})
    return json.dumps(kept, default=str).encode("utf-8")


def _first(properties: dict[str, Any], name: str) -> Any:
    """gmqtt gives each MQTT 5 property as a list of its values."""
    values = properties.get(name)
    return values[0] if isinstance(values, list) and values else None


def _publish(client: gmqtt.Client, topic: str, correlation: bytes, payload: bytes) -> None:
    client.publish(topic, payload, qos=1, correlation_data=correlation,
                   content_type="application/json")
