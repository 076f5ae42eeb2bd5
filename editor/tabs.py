"""The tabs of the editor: each flow file the process runs, by name (its file name
without ``.json``), read and deployed as its own file with its own ETag, added as a
new file beside the first, deleted with its file. Renaming a tab is a deploy of its
document with a new ``name`` (its label); the file keeps its name, so its state
directory, its git history and the other files' references to it stay.

    GET    /api/tabs               [{name, file, label, etag, connections}] in order
    POST   /api/tabs               {"name", "label"}: a new empty tab (201; 409 if taken)
    GET    /api/tabs/<name>        the tab's flow (secrets masked), with its ETag
    PUT    /api/tabs/<name>        If-Match: ETAG; validate -> write -> deploy, as /api/flow
    POST   /api/tabs/<name>/validate  the errors a deploy of that tab would get, as
                                   /api/validate does for the first
    DELETE /api/tabs/<name>        If-Match: ETAG; stop its nodes, delete the file (409
                                   while another tab uses a connection in it)
"""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import Any

from quart import Quart, Response, request

from portless.editor.answers import (
    conflict_answer,
    errors_answer,
    json_answer,
    read_answer,
    validate_answer,
    write_answer,
)
from portless.editor.flows import UNREADABLE, Conflict, FlowService
from portless.editor.paths import AllowedPaths
from portless.runtime import DeployService, FlowInvalid, Gate

NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
"""A new tab's name, which becomes its file name: no path, no hidden file."""


class EditorTabs:
    """The editor's view of the deploy service's tabs: one FlowService per file."""

    def __init__(self, deploys: DeployService, allowed_paths: AllowedPaths | None = None,
                 first: FlowService | None = None) -> None:
        """``first``: the FlowService of the first tab, if made already (/api/flow)."""
        self.deploys = deploys
        self.allowed_paths = allowed_paths
        self._services: dict[Path, FlowService] = {}
        if first is not None:
            self._services[first.path] = first

    def service(self, tab: Path) -> FlowService:
        service = self._services.get(tab)
        if service is None:
            service = self._services[tab] = FlowService(
                tab, self.deploys.engine, self.deploys.registry, self.allowed_paths,
                self.deploys)
        return service

    def named(self, name: str) -> FlowService | None:
        tab = next((tab for tab in self.deploys.tabs if tab.stem == name), None)
        return None if tab is None else self.service(tab)

    def listing(self) -> list[dict[str, Any]]:
        """Each tab's name, file, label, ETag and shared connections (blocking: reads
        changed files). The connections let the page accept a reference into another
        tab without knowing the cross-file rules, which stay the server's."""
        listed = []
        for tab in list(self.deploys.tabs):
            service = self.service(tab)
            try:
                document, etag = service.read()
                label = document.get("name", "")
            except FlowInvalid:
                document, label, etag = {}, "", UNREADABLE
            listed.append({"name": tab.stem, "file": str(tab), "label": label,
                           "etag": f'"{etag}"',
                           "connections": self._connections(document)})
        return listed

    def _connections(self, document: dict[str, Any]) -> list[dict[str, str]]:
        """The shared connections (config nodes) written in a tab's document."""
        found = []
        for entry in document.get("nodes", []):
            cls = self.deploys.registry.get(entry.get("type", ""))
            if cls is not None and cls.shared:
                found.append({"id": entry["id"], "type": entry["type"]})
        return found

    async def add(self, name: str, label: str) -> FlowService:
        """A new empty tab in ``<first tab's directory>/<name>.json``."""
        tab = self.deploys.tabs[0].parent / f"{name}.json"
        await self.deploys.add_tab(tab, label)
        return self.service(tab)

    async def delete(self, service: FlowService, if_match: str | None) -> list[str]:
        """Delete a tab whose file is still as the client read it; the stopped ids."""
        def unchanged(document: dict[str, Any]) -> None:
            etag = service.etag()
            if if_match is None or if_match.strip('"') != etag:
                raise Conflict(428 if if_match is None else 412, etag)

        outcome = await self.deploys.delete_tab(service.path, Gate(before_check=unchanged))
        del self._services[service.path]
        return list(outcome.report.stopped)


def add_tab_routes(app: Quart, tabs: EditorTabs) -> None:
    """The /api/tabs routes (behind the app's guard, like every route)."""

    def missing(name: str) -> Response:
        return json_answer({"error": f"no tab named {name!r}"}, 404)

    @app.get("/api/tabs")
    async def list_tabs() -> Response:
        return json_answer({"tabs": await asyncio.to_thread(tabs.listing)})

    @app.post("/api/tabs")
    async def add_tab() -> Response:
        body = await request.get_json(force=True, silent=True)
        name = body.get("name") if isinstance(body, dict) else None
        label = body.get("label", "") if isinstance(body, dict) else ""
        if not isinstance(name, str) or not NAME_PATTERN.fullmatch(name):
            return json_answer({"error": "a new tab needs a name of letters, digits and "
                                         "'_ . -' (at most 64, not starting with '.' or "
                                         "'-'): it becomes the file NAME.json"}, 400)
        if not isinstance(label, str):
            return json_answer({"error": "a tab's label must be a string"}, 400)
        if tabs.named(name) is not None:
            return json_answer({"error": f"a tab named {name!r} exists already"}, 409)
        try:
            service = await tabs.add(name, label)
        except FileExistsError:
            return json_answer({"error": f"the file {name}.json exists already beside "
                                         f"the flows; run it, or choose another name"}, 409)
        except FlowInvalid as exc:
            return errors_answer(exc)
        return json_answer({"name": name, "file": str(service.path),
                            "etag": f'"{service.etag()}"'}, 201)

    @app.get("/api/tabs/<name>")
    async def get_tab(name: str) -> Response:
        service = tabs.named(name)
        return missing(name) if service is None else await read_answer(service)

    @app.put("/api/tabs/<name>")
    async def put_tab(name: str) -> Response:
        service = tabs.named(name)
        return missing(name) if service is None else await write_answer(service)

    @app.post("/api/tabs/<name>/validate")
    async def validate_tab(name: str) -> Response:
        service = tabs.named(name)
        return missing(name) if service is None else await validate_answer(service)

    @app.delete("/api/tabs/<name>")
    async def delete_tab(name: str) -> Response:
        service = tabs.named(name)
        if service is None:
            return missing(name)
        if service.path == tabs.deploys.tabs[0]:
            return json_answer({"error": f"{name} is the first tab, the flow that "
                                         f"/api/flow and the page edit; it cannot be "
                                         f"deleted"}, 409)
        try:
            stopped = await tabs.delete(service, request.headers.get("If-Match"))
        except Conflict as exc:
            return conflict_answer(exc)
        except FlowInvalid as exc:
            return errors_answer(exc, 409)
        return json_answer({"deleted": name, "stopped": stopped})
