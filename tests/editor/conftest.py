"""An editor app around a running engine and a flow file in a temp directory."""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser, async_playwright, expect
from quart import Quart
from quart.typing import TestClientProtocol

from portless.editor.app import create_app
from portless.editor.flows import FlowService
from portless.editor.stream import Hub
from portless.runtime import (
    DeployService,
    Engine,
    EventBus,
    Registry,
    SubflowLibrary,
    load_flow,
    subflow_dirs,
)
from tests.conftest import require_program
from tests.editor.browser import CHROMIUM, TIMEOUT_MS, launch_options

PORT = 1880
TOKEN = "test-token-123"
ORIGIN = f"http://127.0.0.1:{PORT}"
HOST = f"127.0.0.1:{PORT}"
BEARER = {"Host": HOST, "Authorization": f"Bearer {TOKEN}"}

FLOW: dict[str, Any] = {"version": 1, "nodes": [
    {"id": "broker", "type": "mqtt-broker",
     "config": {"host": "127.0.0.1", "port": 1, "password": "s3cret-pw",
                "reconnect_min_delay": 60}},
    {"id": "counter", "type": "io-in", "config": {"signal": "counter", "interval": 3600},
     "wires": [["show"]], "x": 100, "y": 100},
    {"id": "show", "type": "debug", "config": {}, "x": 300, "y": 100},
]}


@dataclass
class Editor:
    app: Quart
    client: TestClientProtocol
    engine: Engine
    path: Path
    hub: Hub
    service: FlowService


@pytest.fixture
async def editor(tmp_path: Path) -> AsyncIterator[Editor]:
    async with running_editor(tmp_path, FLOW, Registry.discover()) as started:
        yield started


@contextlib.asynccontextmanager
async def running_editor(tmp_path: Path, flow: dict[str, Any], registry: Registry
                         ) -> AsyncIterator[Editor]:
    """``flow`` written to tmp_path/flow.json, running, with an editor app around it
    (the subflows in tmp_path/subflows, if there are any, editable)."""
    path = tmp_path / "flow.json"
    path.write_text(json.dumps(flow, indent=2))
    subflows = SubflowLibrary(registry, subflow_dirs([path]))
    engine = Engine(registry, events=EventBus(), state_dir=tmp_path / "state")
    await engine.start(load_flow(path, registry))
    deploys = DeployService(engine, registry, [path], subflows=subflows)
    service = FlowService(path, engine, registry, deploys=deploys)
    hub = Hub(engine.events)
    app = create_app(service, hub, port=PORT, token=TOKEN)
    try:
        yield Editor(app, app.test_client(), engine, path, hub, service)
    finally:
        hub.shutdown()
        await engine.stop()


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    """Headless Chromium (Debian's), for the browser tests; skips without it off CI."""
    require_program(CHROMIUM, "chromium", "sudo apt install chromium")
    expect.set_options(timeout=TIMEOUT_MS)
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(**launch_options())
        try:
            yield launched
        finally:
            await launched.close()
