"""The editor's subflows: GET /api/subflows/NAME gives the subflow file (secrets masked,
with an ETag) and the instances of it that run, whose inner nodes are
``INSTANCE/INNER`` in the status stream; PUT /api/subflows/NAME (If-Match: ETAG)
checks, writes and deploys an edited subflow through the deploy service's
``deploy_subflow``, the secrets put back and the ETag compared as /api/flow does. Its
instances in every tab restart; an error names the subflow's file and inner node, or
the instance with its inner node (``inner`` in the details).
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from quart import Quart, Response, request

from portless.editor.answers import conflict_answer, errors_answer, json_answer, read_body
from portless.editor.flows import Conflict, FlowService
from portless.runtime import SUBFLOW_PREFIX, DeployOutcome, FlowInvalid
from portless.runtime.subflow import subflow_of


class SubflowService(FlowService):
    """One subflow file, read as a tab is; deployed into every tab that uses it."""

    async def deploy_subflow(self, document: dict[str, Any], if_match: str | None
                             ) -> tuple[str, list[DeployOutcome]]:
        """Validate, write, restart the instances; the new ETag and each tab's outcome.
        Raises FlowInvalid (nothing written) or Conflict."""
        try:
            outcomes = await self.deploys.deploy_subflow(self.path, document, self.gate(
                if_match))
        finally:
            self.written.clear()  # no watcher of the page's reads it for a subflow file
        return self.etag(), outcomes


def add_subflow_routes(app: Quart, flows: FlowService) -> None:
    """The /api/subflows routes (behind the app's guard, like every route); ``flows``:
    the first tab's service, whose deploy service and allowed paths these share."""
    registry, engine = flows.registry, flows.engine
    services: dict[Path, SubflowService] = {}

    def service_of(name: str) -> SubflowService | None:
        definition = subflow_of(registry, SUBFLOW_PREFIX + name)
        if definition is None:
            return None
        path = Path(definition.file)
        if path not in services:
            services[path] = SubflowService(path, engine, registry, flows.allowed_paths,
                                            flows.deploys)
        return services[path]

    def missing(name: str) -> Response:
        return json_answer({"error": f"no subflow named {name!r}"}, 404)

    @app.get("/api/subflows/<name>")
    async def read_subflow(name: str) -> Response:
        service = service_of(name)
        if service is None:
            return missing(name)
        try:
            document, etag = await asyncio.to_thread(service.read)
        except FlowInvalid as exc:  # changed on disk since it loaded, and broken now
            return errors_answer(exc, 409)
        instances = engine.flow.instances if engine.flow is not None else ()
        response = json_answer({
            "type": SUBFLOW_PREFIX + name, "file": str(service.path), "document": document,
            "etag": f'"{etag}"', "instances": [
                instance.id for instance in instances
                if instance.type == SUBFLOW_PREFIX + name]})
        response.headers["ETag"] = f'"{etag}"'
        return response

    @app.put("/api/subflows/<name>")
    async def put_subflow(name: str) -> Response:
        service = service_of(name)
        if service is None:
            return missing(name)
        try:
            document = await read_body(service.path)
            if isinstance(document, Response):
                return document
            etag, outcomes = await service.deploy_subflow(
                document, request.headers.get("If-Match"))
        except FlowInvalid as exc:
            return errors_answer(exc)
        except Conflict as exc:
            return conflict_answer(exc)
        rolled_back = [outcome.sentence() for outcome in outcomes
                       if outcome.rollback is not None]
        answer: dict[str, Any] = {"etag": f'"{etag}"', "tabs": [{
            "tab": outcome.tab.stem, "started": outcome.report.started,
            "stopped": outcome.report.stopped,
            "failed": [{"node": node_id, "reason": reason}
                       for node_id, reason in outcome.report.failed.items()]}
            for outcome in outcomes]}
        if rolled_back:
            answer.update(rolled_back=True, error="; ".join(rolled_back))
        response = json_answer(answer, 409 if rolled_back else 200)
        response.headers["ETag"] = f'"{etag}"'
        return response
