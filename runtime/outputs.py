"""A node's outputs for one config as written, outside a flow (the editor's form, the
test harness before it checks its flow).

It asks ``Node.output_count`` through ``outputs_of``, as the flow checker and the
engine do, so there is one answer, and a plugin's ``output_count`` that raises or
answers nonsense is a sentence, never a crash of whoever asked.
"""

from __future__ import annotations

from typing import Any

from .config import copy_json, fill_defaults
from .errors import FlowError, FlowInvalid
from .node import OutputCountError, outputs_of
from .registry import Registry
from .schema_errors import config_problems


def config_outputs(registry: Registry, type_name: str, config: Any, *,
                   file: str = "<config>", node_id: str | None = None) -> int:
    """The outputs a node of ``type_name`` has with ``config`` as written (defaults
    filled in, ``${NAME}`` left as it is). Raises FlowInvalid when that cannot be told:
    an unknown type, a config its schema refuses (each error at its /config pointer),
    or an output_count that misbehaves."""
    def error(pointer: str, message: str) -> FlowInvalid:
        return FlowInvalid([FlowError(file, message, node_id, pointer)])

    cls = registry.get(type_name)
    if cls is None:
        raise error("/type", f"unknown node type '{type_name}'")
    if not isinstance(config, dict):
        raise error("/config", "the config must be a JSON object")
    config = copy_json(config)
    fill_defaults(cls.schema, config)
    problems = [FlowError(file, message, node_id, f"/config{pointer}")
                for pointer, message in config_problems(registry, cls, config)]
    if problems:
        raise FlowInvalid(problems)
    try:
        return outputs_of(cls, config)
    except OutputCountError as exc:
        raise error("/config", f"cannot tell how many outputs this config gives: {exc}"
                    ) from None
