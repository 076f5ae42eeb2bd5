"""Editor access is file access: a deploy from the editor may point io-in and output
only at allowed paths (the state directory, --allow-path directories, the files the
flow named at start), after resolving symbolic links and '..'."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from portless.editor.app import create_app
from portless.editor.flows import FlowService
from portless.editor.paths import AllowedPaths
from portless.editor.stream import Hub
from portless.runtime import Registry
from tests.editor.conftest import BEARER, PORT, TOKEN, Editor, running_editor


@pytest.fixture
async def editor(tmp_path: Path) -> AsyncIterator[Editor]:
    (tmp_path / "allowed").mkdir()
    (tmp_path / "channels").mkdir()
    (tmp_path / "channels" / "flow-rate").write_text("4.2\n")
    flow = {"version": 1, "nodes": [
        {"id": "reader", "type": "io-in", "wires": [["valve"]], "config": {
            "source": "file", "path": str(tmp_path / "channels" / "flow-rate"),
            "interval": 3600}},
        {"id": "valve", "type": "output", "config": {
            "target": "file", "path": str(tmp_path / "channels" / "setpoint")}},
    ]}
    registry = Registry.discover()
    async with running_editor(tmp_path, flow, registry) as started:
        allowed = AllowedPaths.at_start([tmp_path / "state", tmp_path / "allowed"],
                                        started.engine.flow, registry)
        service = FlowService(started.path, started.engine, registry, allowed)
        hub = Hub(started.engine.events)
        app = create_app(service, hub, port=PORT, token=TOKEN)
        try:
            yield Editor(app, app.test_client(), started.engine, started.path, hub, service)
        finally:
            hub.shutdown()


async def deploy_path(editor: Editor, node_id: str, path: str) -> Any:
    response = await editor.client.get("/api/flow", headers=BEARER)
    document = await response.get_json()
    next(n for n in document["nodes"] if n["id"] == node_id)["config"]["path"] = path
    return await editor.client.put("/api/flow", data=json.dumps(document), headers={
        **BEARER, "If-Match": response.headers["ETag"]})


@pytest.mark.parametrize(("node_id", "outside"), [
    ("valve", "{home}/.ssh/authorized_keys"),
    ("reader", "/etc/shadow"),
    ("valve", "{tmp}/allowed/../outside.txt"),
    ("valve", "{tmp}/allowed/link/keys"),        # a link inside pointing outside
    ("reader", "{tmp}/channels/other"),          # beside a start file, not one of them
    ("valve", "{tmp}/allowedx/file"),            # a prefix is not a parent
])
async def test_a_path_outside_is_refused_naming_node_and_field(
        editor: Editor, tmp_path: Path, node_id: str, outside: str) -> None:
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "allowed" / "link").symlink_to(tmp_path / "elsewhere")
    path = outside.format(tmp=tmp_path, home=Path.home())
    before = editor.path.read_text()
    response = await deploy_path(editor, node_id, path)
    assert response.status_code == 400
    (detail,) = (await response.get_json())["details"]
    assert (detail["node"], detail["pointer"]) == (node_id, "/config/path")
    assert "outside the paths the editor may use" in detail["message"]
    assert "--allow-path" in detail["message"]
    assert editor.path.read_text() == before
    assert not (tmp_path / "elsewhere" / "keys").exists()


async def test_validate_reports_a_path_outside_as_the_deploy_does(
        editor: Editor, tmp_path: Path) -> None:
    response = await editor.client.get("/api/flow", headers=BEARER)
    document = await response.get_json()
    next(n for n in document["nodes"] if n["id"] == "valve")["config"]["path"] = "/etc/x"
    checked = await editor.client.post("/api/validate", headers=BEARER,
                                       data=json.dumps(document))
    (detail,) = (await checked.get_json())["details"]
    assert (detail["node"], detail["pointer"]) == ("valve", "/config/path")
    assert "outside the paths the editor may use" in detail["message"]


@pytest.mark.parametrize("inside", [
    "{tmp}/allowed/new-setpoint", "{tmp}/allowed/sub/../x", "{tmp}/state/valve/out",
    "{tmp}/channels/setpoint",  # named by the flow at start
])
async def test_allowed_paths_deploy(editor: Editor, tmp_path: Path, inside: str) -> None:
    response = await deploy_path(editor, "valve", inside.format(tmp=tmp_path))
    assert response.status_code == 200, await response.get_json()


async def test_a_start_file_stays_allowed_when_another_node_moves(
        editor: Editor, tmp_path: Path) -> None:
    assert (await deploy_path(editor, "valve", str(tmp_path / "allowed" / "a"))
            ).status_code == 200
    assert (await deploy_path(editor, "valve", str(tmp_path / "channels" / "setpoint"))
            ).status_code == 200


async def test_a_file_named_at_start_to_read_is_not_written_from_the_editor(
        editor: Editor, tmp_path: Path) -> None:
    """Whoever started the flow let it read the sensor channel, not drive it: the token
    must not turn io-in's file into an output's target. Reading back what the flow
    writes is harmless, so a write file may be read."""
    reading = tmp_path / "channels" / "flow-rate"
    response = await deploy_path(editor, "valve", str(reading))
    assert response.status_code == 400
    (detail,) = (await response.get_json())["details"]
    assert (detail["node"], detail["pointer"]) == ("valve", "/config/path")
    assert "outside the paths the editor may use" in detail["message"]
    assert reading.read_text() == "4.2\n"
    assert (await deploy_path(editor, "reader", str(tmp_path / "channels" / "setpoint"))
            ).status_code == 200
