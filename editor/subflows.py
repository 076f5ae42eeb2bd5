"""The editor's read of a subflow, for opening an instance: GET /api/subflows/NAME gives
the subflow file (secrets masked) and the instances of it that run, whose inner nodes
are ``INSTANCE/INNER`` in the status stream. Saving an edited subflow is the deploy
service's ``deploy_subflow``; its route (with an ETag and the secrets put back, as
/api/flow has) is still to come.
"""

from __future__ import annotations

import asyncio

from quart import Quart, Response

from portless.editor.answers import errors_answer, json_answer
from portless.editor.masking import mask_document
from portless.runtime import SUBFLOW_PREFIX, Engine, FlowInvalid, Registry, read_flow
from portless.runtime.subflow import subflow_of


def add_subflow_routes(app: Quart, registry: Registry, engine: Engine) -> None:
    """The /api/subflows routes (behind the app's guard, like every route)."""

    @app.get("/api/subflows/<name>")
    async def read_subflow(name: str) -> Response:
        definition = subflow_of(registry, SUBFLOW_PREFIX + name)
        if definition is None:
            return json_answer({"error": f"no subflow named {name!r}"}, 404)
        try:
            document = await asyncio.to_thread(read_flow, definition.file)
        except FlowInvalid as exc:  # changed on disk since it loaded, and broken now
            return errors_answer(exc, 409)
        instances = engine.flow.instances if engine.flow is not None else ()
        return json_answer({
            "type": SUBFLOW_PREFIX + name, "file": definition.file,
            "document": mask_document(document, registry),
            "instances": [instance.id for instance in instances
                          if instance.type == SUBFLOW_PREFIX + name]})
